/*
 * Test build only (build/user-test/membrane.elf): the guest instructions (rdinstret) each phase
 * of the Membrane's loop spends, published with its counters under /Bus/net/membrane/instret/
 * for make bench's per-layer profile (tests/e2e/http_profile.py). In the product build the
 * marks compile to nothing. Under QEMU's -icount they count guest instructions.
 */
#ifndef NEXUS_MEMBRANE_PHASE_PROFILE_H
#define NEXUS_MEMBRANE_PHASE_PROFILE_H

#include <stdint.h>

enum membrane_phase {
    PHASE_RX,      /* frames from the NetSwitch through lwIP's input (and what it sends at once: ACKs) */
    PHASE_SOCKETS, /* apps' socket requests (the link, and lwIP's send path they call) + statuses */
    PHASE_TIMERS,  /* loopback frames and lwIP's timers */
    PHASE_PUBLISH, /* the network state and counters to /Bus */
    PHASE_TX,      /* queued frames handed to the kernel */
    PHASES
};

#ifdef NEXUS_TEST_BUILD
extern uint64_t phase_instret[PHASES];
extern uint64_t phase_mark;
static inline uint64_t phase_rdinstret(void) {
    uint64_t n;
    __asm__ volatile("rdinstret %0" : "=r"(n));
    return n;
}
static inline void phase_begin(void) { phase_mark = phase_rdinstret(); }
/* Charges the instructions since the last mark to phase p. */
static inline void phase_end(enum membrane_phase p) {
    uint64_t now = phase_rdinstret();
    phase_instret[p] += now - phase_mark;
    phase_mark = now;
}
#else
static inline void phase_begin(void) {}
static inline void phase_end(enum membrane_phase p) { (void)p; }
#endif

#endif
