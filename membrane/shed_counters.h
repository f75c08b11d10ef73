/*
 * What the Membrane sheds, by cause: lwIP's drop counters per layer (LWIP_STATS, lwipopts.h),
 * pool exhaustion, the SYN flood guard's evictions (lwip/tcp_syn_guard.h), and beside them the
 * connections that guard let a SYN reopen from TIME_WAIT. The Membrane publishes them under
 * /Bus/net/membrane/ beside its own counters; a test reads them before and after a flood to tell
 * which layer dropped what.
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
#define SHED_COUNTERS 24
size_t shed_counters_read(struct shed_counter *out, size_t max);

#endif
