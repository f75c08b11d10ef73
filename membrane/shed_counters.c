/*
 * The drops by cause the Membrane publishes (shed_counters.h). lwIP counts every drop in its
 * layer's `drop` and most of them once more under a cause (checksum, length, protocol, memory,
 * options); the table below names the ones a hostile wire shows apart.
 */
#include "shed_counters.h"

#include "lwip/memp.h"
#include "lwip/stats.h"
#include "tcp_syn_guard.h"

/* Every pool's "allocation failed" count, and the heap's: how often lwIP ran out of memory. */
/* A pool's high-water mark: what lwipopts.h's sizes are judged by (docs/sockets.md, "Limits"). */
static uint64_t pool_max(memp_t pool) { return lwip_stats.memp[pool] ? lwip_stats.memp[pool]->max : 0; }

static uint64_t memory_exhausted(void) {
    uint64_t n = lwip_stats.mem.err;
    for (int i = 0; i < MEMP_MAX; i++)
        n += lwip_stats.memp[i] ? lwip_stats.memp[i]->err : 0;
    return n;
}

size_t shed_counters_read(struct shed_counter *out, size_t max) {
    const struct shed_counter table[SHED_COUNTERS] = {
        {"/Bus/net/membrane/drop/link", lwip_stats.link.drop},
        {"/Bus/net/membrane/drop/arp", lwip_stats.etharp.drop},
        {"/Bus/net/membrane/drop/ip4", lwip_stats.ip.drop},
        {"/Bus/net/membrane/drop/ip4_checksum", lwip_stats.ip.chkerr},
        {"/Bus/net/membrane/drop/ip4_malformed", (uint64_t)lwip_stats.ip.lenerr + lwip_stats.ip.err + lwip_stats.ip.opterr},
        {"/Bus/net/membrane/drop/ip4_no_protocol", lwip_stats.ip.proterr},
        {"/Bus/net/membrane/drop/reassembly", (uint64_t)lwip_stats.ip_frag.drop + lwip_stats.ip_frag.memerr},
        {"/Bus/net/membrane/drop/icmp", lwip_stats.icmp.drop},
        {"/Bus/net/membrane/drop/udp", lwip_stats.udp.drop},
        {"/Bus/net/membrane/drop/tcp", lwip_stats.tcp.drop},
        {"/Bus/net/membrane/drop/tcp_checksum", lwip_stats.tcp.chkerr},
        {"/Bus/net/membrane/drop/tcp_no_connection", lwip_stats.tcp.proterr},
        /* Not a drop: lwIP counts a send it refused for memory here (the app is told EAGAIN and
         * sends again), besides a SYN it had no connection for (that one is in no_memory too). */
        {"/Bus/net/membrane/tcp_memory_refusals", lwip_stats.tcp.memerr},
        {"/Bus/net/membrane/drop/ip6", (uint64_t)lwip_stats.ip6.drop + lwip_stats.ip6_frag.drop},
        {"/Bus/net/membrane/drop/nd6_icmp6", (uint64_t)lwip_stats.nd6.drop + lwip_stats.icmp6.drop},
        {"/Bus/net/membrane/drop/no_memory", memory_exhausted()},
        {"/Bus/net/membrane/shed/syn_evicted", tcp_syn_guard_evicted()},
        {"/Bus/net/membrane/shed/syn_queue_full", tcp_syn_guard_queue_full()},
        {"/Bus/net/membrane/shed/syn_recovered", tcp_syn_guard_recovered()},
        {"/Bus/net/membrane/timewait_reopened", tcp_syn_guard_reopened()},
        {"/Bus/net/membrane/high/heap_bytes", lwip_stats.mem.max},
        {"/Bus/net/membrane/high/tcp_segs", pool_max(MEMP_TCP_SEG)},
        {"/Bus/net/membrane/high/tcp_pcbs", pool_max(MEMP_TCP_PCB)},
        {"/Bus/net/membrane/high/pbuf_pool", pool_max(MEMP_PBUF_POOL)},
    };
    size_t n = max < SHED_COUNTERS ? max : SHED_COUNTERS;
    for (size_t i = 0; i < n; i++)
        out[i] = table[i];
    return n;
}
