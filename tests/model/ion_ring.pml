/*
 * A model of the ION ring's protocol (ion/ion_ring.h) for the spin model checker: one producer,
 * one consumer, free-running head/tail counters that wrap, and the sleep/notify (signal
 * suppression) protocol. tests/model/run_spin.py checks every interleaving of this model:
 *   - SPSC safety: the consumer receives 0, 1, 2, ... in order, nothing lost or read twice, and
 *     the producer never writes a slot the consumer has not released;
 *   - no lost wakeup: both sides always finish (spin reports a consumer blocked forever as an
 *     invalid end state);
 *   - counter wraparound: the counters run modulo MOD, a multiple of the capacity, and the run
 *     sends more than MOD descriptors, so both wrap, as the 32-bit counters do.
 * Three mutations show the checker sees what it is meant to: -DNO_RECHECK (the consumer sleeps
 * without looking at the ring again after setting its flag: a lost wakeup), -DPUBLISH_FIRST (the
 * producer publishes head before writing the slot: a stale read) and -DNAIVE_COUNT (the fill
 * level without modular arithmetic: wrong after the counters wrap). Each must be found.
 *
 * Each Promela statement is one atomic step and steps interleave in one global order: that is
 * what the full fences in ion_ring_consumer_sleep_prepare and ion_ring_producer_should_wake
 * give the flag and the counters (the store/load, Dekker, pattern).
 */
#define CAP 2   /* ring capacity, a power of two */
#define MOD 8   /* the counters' range in the model (2^32 in the ring), a multiple of CAP */
#define ITEMS 10 /* descriptors sent: more than MOD, so head and tail wrap */

byte head = 0;            /* written by the producer only */
byte tail = 0;            /* written by the consumer only */
byte slot[CAP];
bit consumer_sleeping = 0;
bit notified = 0;         /* the latched notification (a fiber's pending wake) */

#ifndef NAIVE_COUNT
#define COUNT ((head + MOD - tail) % MOD)
#else
#define COUNT (head - tail) /* without modular arithmetic: wrong once head wraps */
#endif

active proctype producer() {
    byte n = 0;
    do
    :: n < ITEMS ->
        (COUNT < CAP);                 /* a full ring: the producer waits for space */
        assert(COUNT < CAP);           /* never overwrite an unreleased slot */
#ifndef PUBLISH_FIRST
        slot[head % CAP] = n;          /* write the slot ... */
        head = (head + 1) % MOD;       /* ... then publish head (store-release) */
#else
        head = (head + 1) % MOD;       /* publishing before the write: the consumer may read */
        slot[(head + MOD - 1) % CAP] = n; /* the slot before it is filled */
#endif
        if                             /* ion_ring_producer_should_wake: fence, read the flag */
        :: consumer_sleeping -> consumer_sleeping = 0; notified = 1
        :: else -> skip
        fi;
        n++
    :: else -> break
    od
}

active proctype consumer() {
    byte expect = 0;
    do
    :: expect == ITEMS -> break
    :: else ->
        if
        :: COUNT > 0 ->
            assert(slot[tail % CAP] == expect); /* in order, none lost or duplicated */
            tail = (tail + 1) % MOD;            /* release the slot */
            expect++
        :: else ->                              /* ion_ring_consumer_sleep_prepare */
            consumer_sleeping = 1;
#ifndef NO_RECHECK
            if
            :: COUNT > 0 -> consumer_sleeping = 0   /* work arrived: do not sleep */
            :: else -> notified; notified = 0       /* sleep until notified */
            fi
#else
            notified; notified = 0
#endif
        fi
    od
}
