/*
 * Test build only (build/nexus-test.elf; the Makefile leaves this file out of build/nexus.elf):
 * a histogram of the guest instructions (rdinstret) the RX demux spends on each delivered frame,
 * from its start through the enqueue on the port's ring, waking the service not included. make
 * bench reads its median as "NetSwitch instructions per RX frame" from
 * /Bus/net/switch/rx_instret/{median,frames}; it means a guest instruction count only under
 * QEMU's -icount.
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

void ns_rx_cost_publish(void) {
    uint64_t frames = 0;
    for (uint32_t v = 0; v < INSTRET_BINS; v++)
        frames += instret_histogram[v];
    bus_setf(0, "/Bus/net/switch/rx_instret/median", "%u", instret_median(frames));
    bus_setf(0, "/Bus/net/switch/rx_instret/frames", "%lu", frames);
}
