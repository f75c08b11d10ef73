/*
 * Two-thread stress test of ion/ion_ring.h, meant to run under ThreadSanitizer:
 *
 *   producer thread                                consumer thread
 *     takes a buffer handle from FREE  <----------   returns the buffer on FREE
 *     writes the "frame" into the buffer (plain)       reads the buffer (plain) and checks it
 *     enqueues {seq, offset, length} on ACTIVE ---->   dequeues it, checks order and contents
 *
 * This is the active/free ring pair of the real design. The buffer contents are ordinary
 * (non-atomic) memory, so TSan reports a race if the rings' release/acquire ordering does not
 * carry the writes from one thread to the other. Both threads mix single and batch calls with
 * random sizes, and both sleep through the wake protocol: the consumer on ACTIVE when it is empty,
 * the producer on FREE when it has no buffers. The "sleep" is a latched notification flag polled
 * with sched_yield (no futex); a sleeper that is not notified within WATCHDOG_SECONDS counts as a
 * lost wakeup and fails the test.
 *
 * Checks: every descriptor arrives once and in order (handle == sequence number mod 2^32, the
 * sequence starting near 2^32 so handles wrap), buffers come back on FREE in order, the buffer
 * contents match the descriptor, a running checksum of (handle, offset, length) is equal on both
 * sides, the totals match, no ring is ever corrupt and no wakeup is lost. Both rings' counters
 * start just below 2^32 so the free-running counters wrap during the run.
 *
 * Usage: stress_ion_ring [count]   (default 10000000 descriptors)
 */
#include "ion_ring.h"
#include "check.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ACTIVE_CAP 64    /* smaller than the pool: the producer also meets a full ACTIVE ring */
#define NBUF 96          /* buffers in the pool: few enough that FREE runs dry too */
#define FREE_CAP 128     /* >= NBUF: FREE holds every buffer, so returning one never fails */
#define MAX_BATCH 64
#define WATCHDOG_SECONDS 20
#define HANDLE_BASE (UINT32_MAX - 100000u) /* handles wrap after 100001 descriptors */
#define COUNTER_BASE (UINT32_MAX - 1000u)  /* ring counters wrap early */

/* One pool buffer: the "frame" the producer writes and the consumer reads, both non-atomically. */
struct buf {
    uint64_t seq;
    uint16_t offset;
    uint16_t length;
    uint32_t stamp;
};

static struct buf pool[NBUF];
static struct ion_ring active_p, active_c; /* producer's and consumer's handles on ACTIVE */
static struct ion_ring free_p, free_c;     /* consumer produces on FREE, producer consumes */
static uint64_t total;

/* A latched notification: notify() before the waiter blocks is not lost. */
struct note {
    int pending;
};
static struct note wake_consumer, wake_producer;

struct side_stats {
    uint64_t done;
    uint64_t checksum;
    uint64_t sleeps;        /* prepare said "sleep" */
    uint64_t sleep_refused; /* prepare said "work arrived, don't sleep" */
    uint64_t wakes_sent;    /* should_wake returned 1 and we notified */
    uint64_t lost_wakeups;  /* watchdog expired while asleep */
    uint64_t full_retries;  /* producer: ACTIVE full, had to retry */
    uint64_t errors;
    char first_error[160];
};
static struct side_stats prod, cons;

/* Set by either thread on any error, so the other one stops too instead of waiting forever. */
static int stop;

static int stopped(void) {
    return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

static void fail(struct side_stats *s, const char *msg, uint64_t seq) {
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    if (s->errors++ == 0)
        snprintf(s->first_error, sizeof s->first_error, "%s at seq %" PRIu64, msg, seq);
}

static uint64_t xorshift(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static uint64_t mix(uint64_t sum, const struct ion_desc *d) {
    uint64_t v = (uint64_t)d->handle | (uint64_t)d->offset << 32 | (uint64_t)d->length << 48;
    return (sum ^ v) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void notify(struct note *n) {
    __atomic_store_n(&n->pending, 1, __ATOMIC_RELEASE);
}

/* Blocks (yielding) until notified; counts a lost wakeup if nobody notifies in time. */
static void wait_note(struct note *n, struct side_stats *s, uint64_t seq) {
    double start = 0;
    for (unsigned spins = 0; !__atomic_exchange_n(&n->pending, 0, __ATOMIC_ACQUIRE); spins++) {
        if (stopped())
            return;
        sched_yield();
        if ((spins & 1023) == 1023) {
            double t = now();
            if (start == 0)
                start = t;
            else if (t - start > WATCHDOG_SECONDS) {
                s->lost_wakeups++;
                fail(s, "lost wakeup: asleep without notification", seq);
                return;
            }
        }
    }
}

static void *producer(void *arg) {
    (void)arg;
    uint64_t rng = 0x243f6a8885a308d3ull;
    struct ion_desc fb[MAX_BATCH], ad[MAX_BATCH];
    uint64_t seq = 0;

    while (seq < total && !stopped()) {
        uint32_t want = (uint32_t)(xorshift(&rng) % MAX_BATCH) + 1;
        if (want > total - seq)
            want = (uint32_t)(total - seq);

        /* 1. Get free buffers: one at a time or as a batch. */
        uint32_t got;
        if (xorshift(&rng) & 1) {
            int rc = ion_ring_dequeue(&free_c, &fb[0]);
            if (rc == ION_RING_CORRUPT)
                fail(&prod, "FREE ring corrupt", seq);
            got = rc == 0;
        } else {
            got = ion_ring_dequeue_batch(&free_c, fb, want);
            if (got > want)
                fail(&prod, "dequeue_batch returned more than asked", seq);
        }
        if (got == 0) {
            if (ion_ring_corrupt(&free_c))
                fail(&prod, "FREE ring corrupt", seq);
            else if (ion_ring_consumer_sleep_prepare(&free_c)) {
                prod.sleeps++;
                wait_note(&wake_producer, &prod, seq);
            } else {
                prod.sleep_refused++;
            }
            continue;
        }

        /* 2. Fill each buffer, then describe it. Buffers come back in the order they went out. */
        for (uint32_t i = 0; i < got; i++) {
            uint64_t s = seq + i;
            if (fb[i].handle != s % NBUF)
                fail(&prod, "FREE ring returned buffers out of order", s);
            uint64_t r = xorshift(&rng);
            struct buf *b = &pool[s % NBUF];
            b->seq = s;
            b->offset = (uint16_t)r;
            b->length = (uint16_t)(r >> 16);
            b->stamp = (uint32_t)(r >> 32);
            ad[i].handle = (uint32_t)(HANDLE_BASE + s);
            ad[i].offset = b->offset;
            ad[i].length = b->length;
            prod.checksum = mix(prod.checksum, &ad[i]);
        }

        /* 3. Publish them on ACTIVE (single or batch; partial batches when it is full). */
        uint32_t sent = 0;
        while (sent < got && !stopped()) {
            uint32_t n;
            if (xorshift(&rng) & 1) {
                int rc = ion_ring_enqueue(&active_p, &ad[sent]);
                if (rc == ION_RING_CORRUPT)
                    fail(&prod, "ACTIVE ring corrupt", seq + sent);
                n = rc == 0;
            } else {
                n = ion_ring_enqueue_batch(&active_p, &ad[sent], got - sent);
                if (n > got - sent)
                    fail(&prod, "enqueue_batch enqueued more than given", seq + sent);
            }
            if (n && ion_ring_producer_should_wake(&active_p)) {
                prod.wakes_sent++;
                notify(&wake_consumer);
            }
            sent += n;
            if (sent < got) {
                prod.full_retries++;
                if (ion_ring_corrupt(&active_p))
                    fail(&prod, "ACTIVE ring corrupt", seq + sent);
                sched_yield(); /* ACTIVE full: the consumer is draining it */
            }
        }
        seq += got;
    }
    prod.done = seq;
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    uint64_t rng = 0x13198a2e03707344ull;
    struct ion_desc ad[MAX_BATCH], fb[MAX_BATCH];
    uint64_t seq = 0;

    while (seq < total && !stopped()) {
        uint32_t max = (uint32_t)(xorshift(&rng) % MAX_BATCH) + 1;
        uint32_t got;
        if (xorshift(&rng) & 1) {
            int rc = ion_ring_dequeue(&active_c, &ad[0]);
            if (rc == ION_RING_CORRUPT)
                fail(&cons, "ACTIVE ring corrupt", seq);
            got = rc == 0;
        } else {
            got = ion_ring_dequeue_batch(&active_c, ad, max);
            if (got > max || got > ACTIVE_CAP)
                fail(&cons, "dequeue_batch returned too many", seq);
        }
        if (got == 0) {
            if (ion_ring_corrupt(&active_c))
                fail(&cons, "ACTIVE ring corrupt", seq);
            else if (ion_ring_consumer_sleep_prepare(&active_c)) {
                cons.sleeps++;
                wait_note(&wake_consumer, &cons, seq);
            } else {
                cons.sleep_refused++;
            }
            continue;
        }

        for (uint32_t i = 0; i < got; i++) {
            uint64_t s = seq + i;
            const struct buf *b = &pool[s % NBUF];
            if (ad[i].handle != (uint32_t)(HANDLE_BASE + s))
                fail(&cons, "descriptor out of order", s);
            else if (b->seq != s || b->offset != ad[i].offset || b->length != ad[i].length)
                fail(&cons, "buffer contents do not match descriptor", s);
            cons.checksum = mix(cons.checksum, &ad[i]);
            fb[i].handle = (uint32_t)(s % NBUF);
            fb[i].offset = 0;
            fb[i].length = (uint16_t)b->stamp;
        }

        /* Give the buffers back; FREE holds the whole pool, so this never runs out of room. */
        uint32_t back;
        if (got == 1 || (xorshift(&rng) & 1) == 0) {
            back = 0;
            for (uint32_t i = 0; i < got; i++)
                back += ion_ring_enqueue(&free_p, &fb[i]) == 0;
        } else {
            back = ion_ring_enqueue_batch(&free_p, fb, got);
        }
        if (back != got)
            fail(&cons, "FREE ring refused a returned buffer", seq);
        if (ion_ring_producer_should_wake(&free_p)) {
            cons.wakes_sent++;
            notify(&wake_producer);
        }
        seq += got;
    }
    cons.done = seq;
    return NULL;
}

int main(int argc, char **argv) {
    check_suite = "ion_stress";
    total = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ull;

    void *active_mem = malloc(ion_ring_bytes(ACTIVE_CAP));
    void *free_mem = malloc(ion_ring_bytes(FREE_CAP));
    if (!active_mem || !free_mem || ion_ring_init(&active_p, active_mem, ACTIVE_CAP) != 0 ||
        ion_ring_attach(&active_c, active_mem, ACTIVE_CAP) != 0 ||
        ion_ring_init(&free_p, free_mem, FREE_CAP) != 0 ||
        ion_ring_attach(&free_c, free_mem, FREE_CAP) != 0) {
        printf("FAIL ion_stress.setup: cannot create rings\n");
        return 1;
    }
    active_p.shared->head = active_p.shared->tail = COUNTER_BASE;
    free_p.shared->head = free_p.shared->tail = COUNTER_BASE - 7u;

    /* Every buffer starts on FREE, in order (before the threads exist, so no race). */
    int setup_ok = 1;
    for (uint32_t h = 0; h < NBUF; h++) {
        struct ion_desc d = {h, 0, 0};
        setup_ok &= ion_ring_enqueue(&free_p, &d) == 0;
    }
    CHECK("setup_pool_on_free_ring", setup_ok && ion_ring_count(&free_c) == NBUF);

    double t0 = now();
    pthread_t pt, ct;
    if (pthread_create(&ct, NULL, consumer, NULL) != 0 || pthread_create(&pt, NULL, producer, NULL) != 0) {
        printf("FAIL ion_stress.setup: pthread_create\n");
        return 1;
    }
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    double secs = now() - t0;

    printf("info ion_stress: descriptors=%" PRIu64 " seconds=%.2f rate=%.1fM/s\n", cons.done, secs,
           secs > 0 ? cons.done / secs / 1e6 : 0.0);
    printf("info ion_stress: active ring: consumer sleeps=%" PRIu64 " refused_sleeps=%" PRIu64
           " wakeups_sent=%" PRIu64 " producer_full_retries=%" PRIu64 "\n",
           cons.sleeps, cons.sleep_refused, prod.wakes_sent, prod.full_retries);
    printf("info ion_stress: free ring: producer sleeps=%" PRIu64 " refused_sleeps=%" PRIu64
           " wakeups_sent=%" PRIu64 "\n",
           prod.sleeps, prod.sleep_refused, cons.wakes_sent);
    if (prod.errors)
        printf("info ion_stress: producer error: %s (%" PRIu64 " errors)\n", prod.first_error, prod.errors);
    if (cons.errors)
        printf("info ion_stress: consumer error: %s (%" PRIu64 " errors)\n", cons.first_error, cons.errors);

    CHECK("producer_no_errors", prod.errors == 0);
    CHECK("consumer_no_errors", cons.errors == 0);
    CHECK("total_count", prod.done == total && cons.done == total);
    CHECK("checksum_matches", prod.checksum == cons.checksum);
    CHECK("no_lost_wakeups", prod.lost_wakeups == 0 && cons.lost_wakeups == 0);
    /* Every sleep ended by a notification (several wakes may collapse into one) or timed out. */
    CHECK("sleepers_were_woken", cons.sleeps <= prod.wakes_sent + cons.lost_wakeups &&
                                     prod.sleeps <= cons.wakes_sent + prod.lost_wakeups);
    CHECK("rings_drained", ion_ring_count(&active_c) == 0 && ion_ring_count(&free_c) == NBUF &&
                               !ion_ring_corrupt(&active_c) && !ion_ring_corrupt(&free_c));
    CHECK("counters_wrapped", total < 2000 || (active_p.shared->head < COUNTER_BASE &&
                                               free_p.shared->head < COUNTER_BASE));
    free(active_mem);
    free(free_mem);
    return check_exit();
}
