/*
 * What the Membrane sheds, by cause: lwIP's drop counters per layer (LWIP_STATS, lwipopts.h),
 * pool exhaustion, and the SYN flood guard's evictions (lwip/tcp_syn_guard.h). The Membrane
 * publishes them under /Bus/net/membrane/drop/ beside its own counters; a test reads them before
 * and after a flood to tell which layer dropped what.
 */
#ifndef NEXUS_SHED_COUNTERS_H
#define NEXUS_SHED_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

struct shed_counter {
    const char *key;
    uint64_t value;
};

/* Fills out[] (room for max) and returns how many; SHED_COUNTERS is enough. */
#define SHED_COUNTERS 23
size_t shed_counters_read(struct shed_counter *out, size_t max);

#endif
