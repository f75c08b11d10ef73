/*
 * Test build only (build/nexus-test.elf; the Makefile leaves this file out of build/nexus.elf):
 * a histogram of the guest instructions (rdinstret) the RX demux spends on each delivered frame,
 * from its start through the enqueue on the port's ring, its counters and the look at the
 * service's wake flag; the wake itself (a doorbell, only when the service sleeps) is not
 * included. make bench reads its median as "NetSwitch instructions per RX frame" from
 * /Bus/net/switch/rx_instret/{median,frames}; it means a guest instruction count only under
 * QEMU's -icount.
 *
 * The bracket is calibrated against code whose length is known, so the figure can be read as
 * an exact count (docs/testing.md, "NetSwitch instructions per RX frame"): an empty bracket
 * (two rdinstret back to back) gives what the bracket itself adds, a straight run of 32 nops
 * and a 16-turn loop (33 instructions in 17 translation blocks) show whether QEMU counts
 * instructions or whole blocks. Both are published next to the median.
 */
#include "bus.h"
#include "netswitch_internal.h"

#define INSTRET_BINS 512 /* the last bin collects everything above it */
static uint32_t instret_histogram[INSTRET_BINS];

void ns_rx_cost_record(uint64_t instructions) {
    instret_histogram[instructions < INSTRET_BINS - 1 ? instructions : INSTRET_BINS - 1]++;
}

/* The median over every frame measured so far, or 0 with no frame. */
static uint32_t instret_median(uint64_t frames) {
    uint64_t seen = 0;
    for (uint32_t v = 0; v < INSTRET_BINS && frames; v++)
        if ((seen += instret_histogram[v]) * 2 >= frames)
            return v;
    return 0;
}

/* The calibration runs: one asm block each, so nothing the compiler schedules lands inside. */
static uint64_t bracket_empty(void) {
    uint64_t begin, end;
    __asm__ volatile("rdinstret %0\n\trdinstret %1" : "=&r"(begin), "=r"(end));
    return end - begin;
}

static uint64_t bracket_straight32(void) {
    uint64_t begin, end;
    __asm__ volatile("rdinstret %0\n\t.rept 32\n\tnop\n\t.endr\n\trdinstret %1" : "=&r"(begin), "=r"(end));
    return end - begin;
}

static uint64_t bracket_loop33(void) {
    uint64_t begin, end, turns;
    __asm__ volatile("rdinstret %0\n\t"
                     "li %2, 16\n"
                     "1:\taddi %2, %2, -1\n\t"
                     "bnez %2, 1b\n\t"
                     "rdinstret %1"
                     : "=&r"(begin), "=r"(end), "=&r"(turns));
    return end - begin;
}

void ns_rx_cost_publish(void) {
    uint64_t frames = 0;
    for (uint32_t v = 0; v < INSTRET_BINS; v++)
        frames += instret_histogram[v];
    bus_setf(0, "/Bus/net/switch/rx_instret/median", "%u", instret_median(frames));
    bus_setf(0, "/Bus/net/switch/rx_instret/frames", "%lu", frames);
    uint64_t empty = bracket_empty();
    bus_setf(0, "/Bus/net/switch/rx_instret/bracket", "%lu", empty);
    bus_setf(0, "/Bus/net/switch/rx_instret/straight32", "%lu", bracket_straight32() - empty);
    bus_setf(0, "/Bus/net/switch/rx_instret/loop33", "%lu", bracket_loop33() - empty);
}
