/*
 * NetSwitch policy: which service port receives each EtherType, as a table (DESIGN.md
 * invariant 1). The classifier reads exactly two bytes of a frame, the EtherType at offsets
 * 12-13, and its length. Portable C: host tests and fuzzing compile it unchanged.
 */
#ifndef NEXUS_NETSWITCH_ROUTE_H
#define NEXUS_NETSWITCH_ROUTE_H

#include <stdint.h>

#include "nexus/syscall.h"

#define ETH_HDR_LEN   NEXUS_ETH_HDR_LEN
#define ETH_FRAME_MAX NEXUS_ETH_FRAME_MAX /* 802.1Q tags are not understood (unknown type) */

enum ns_port {
    PORT_MEMBRANE = 0, /* IPv4, ARP, IPv6: lwIP */
    PORT_UTCP = 1,
    PORT_LWF = 2,
    NS_PORTS
};

/* Why a frame goes nowhere; also indexes the drop counters. */
enum ns_drop {
    DROP_RUNT,      /* shorter than an Ethernet header */
    DROP_OVERSIZED, /* longer than ETH_FRAME_MAX */
    DROP_UNKNOWN,   /* EtherType not in the route table */
    DROP_NO_SERVICE,/* routed, but no fiber holds the port */
    DROP_RING_FULL, /* the service's receive ring is full */
    DROP_OVER_BUDGET, /* the service holds its RX budget of buffers */
    NS_DROPS
};

struct ns_route {
    uint16_t ethertype;
    uint8_t port;
};

/* Entries in ns_routes[]. Every table indexed by route number is sized by it, and route.c
 * asserts that it counts the table: a route added or removed without changing it does not
 * compile (rather than indexing past the counters). */
#define NS_ROUTES 5

extern const struct ns_route ns_routes[]; /* incomplete here, so route.c's assert sees the real count */
extern const char *const ns_port_names[NS_PORTS];
extern const char *const ns_drop_names[NS_DROPS];

/* The EtherType of a frame of at least ETH_HDR_LEN bytes. */
static inline uint16_t ns_ethertype(const uint8_t *frame) { return (uint16_t)(frame[12] << 8 | frame[13]); }

/* The receive side's direct-indexed table, indexed by the EtherType's two bytes as they lie in
 * the frame read as a little-endian number (ns_wire_type: no byte swap on the path). An entry is
 * NS_ROUTE_BIAS + the index in ns_routes[] of that type, or 0 for a type no route names, so that
 * an entry less the bias is the classifier's answer either way (0 reads as
 * -(1 + DROP_UNKNOWN)): one load, no search, no branch. 64 KiB of zeroes (uninitialised data,
 * not image) until ns_route_table_init() fills it from ns_routes[]; before that every type is
 * unknown. */
#define NS_ROUTE_BIAS (1 + DROP_UNKNOWN)
_Static_assert(NS_ROUTE_BIAS + NS_ROUTES <= 0xff, "a route's entry fits the table's byte");
extern uint8_t ns_route_by_wire_type[0x10000];
void ns_route_table_init(void);

/* The table's index for a frame of at least ETH_HDR_LEN bytes that starts at an even address
 * (a pool buffer plus virtio's 10- or 12-byte header; netswitch_init checks): bytes 12 and 13
 * as one halfword load in the machine's order. */
static inline uint32_t ns_wire_type(const uint8_t *frame) {
    uint16_t w;
    const uint8_t *even = __builtin_assume_aligned(frame, 2);
    __builtin_memcpy(&w, even + 12, sizeof w);
    return w;
}
/* The same index for an EtherType (the frame's bytes are its big-endian form). */
static inline uint32_t ns_wire_type_of(uint16_t ethertype) {
    const uint8_t bytes[2] = {(uint8_t)(ethertype >> 8), (uint8_t)ethertype};
    uint16_t w;
    __builtin_memcpy(&w, bytes, sizeof w);
    return w;
}

/* Index in ns_routes[] for a frame (2-aligned, as ns_wire_type says), or -(1 + enum ns_drop)
 * for runts, oversized frames and unknown types. Inline, and as wide as a register: it is on the path of every received frame,
 * where it indexes the switch's tables without widening. */
static inline long ns_classify(const uint8_t *frame, uint32_t len) {
    if (__builtin_expect(len - ETH_HDR_LEN > ETH_FRAME_MAX - ETH_HDR_LEN, 0)) /* both bounds, one test */
        return len < ETH_HDR_LEN ? -(1 + DROP_RUNT) : -(1 + DROP_OVERSIZED);
    return (long)ns_route_by_wire_type[ns_wire_type(frame)] - NS_ROUTE_BIAS;
}

/* Index in ns_routes[] of `ethertype`, or -1 (a search of ns_routes[]: setup and TX). */
int ns_route_index(uint16_t ethertype);
/* Port that receives `ethertype`, or -1. */
int ns_route_lookup(uint16_t ethertype);

/* 1 if `port` may send frames of `ethertype` (it may send what it receives). */
int ns_tx_granted(unsigned port, uint16_t ethertype);

#endif
