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
 * the frame, read as one halfword (ns_wire_type: no byte swap on the path). An entry is the
 * type's lane: 1 + the index in ns_routes[] of its route, or NS_LANE_NONE (0) for a type no
 * route names; one load, no search. The caller owns its 64 KiB (the kernel keeps it beside the
 * rest of the RX path's state, in zeroed memory, not image); ns_route_table_init() fills
 * zeroed memory from ns_routes[]; before that every type is unknown. */
#define NS_LANE_NONE 0
#define NS_LANES (1 + NS_ROUTES)
#define NS_ROUTE_TABLE_SIZE 0x10000
_Static_assert(NS_LANES <= 0xff, "a lane fits the table's byte");
void ns_route_table_init(uint8_t table[NS_ROUTE_TABLE_SIZE]);

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

/* The classifier in its three steps, inline: they are on the path of every received frame.
 * 1 if a frame of `len` bytes may be routed (ETH_HDR_LEN..ETH_FRAME_MAX, in one unsigned test);
 * the cause for one that may not; the lane of a routable frame (2-aligned, as ns_wire_type
 * says). */
static inline int ns_length_routable(uint32_t len) { return len - ETH_HDR_LEN <= ETH_FRAME_MAX - ETH_HDR_LEN; }
static inline enum ns_drop ns_length_drop(uint32_t len) { return len < ETH_HDR_LEN ? DROP_RUNT : DROP_OVERSIZED; }
static inline unsigned long ns_lane(const uint8_t table[NS_ROUTE_TABLE_SIZE], const uint8_t *frame) {
    return table[ns_wire_type(frame)];
}

/* All three at once: index in ns_routes[] for a frame, or -(1 + enum ns_drop) for runts,
 * oversized frames and unknown types. */
static inline int ns_classify(const uint8_t table[NS_ROUTE_TABLE_SIZE], const uint8_t *frame, uint32_t len) {
    if (!ns_length_routable(len))
        return -(1 + (int)ns_length_drop(len));
    unsigned long lane = ns_lane(table, frame);
    return lane != NS_LANE_NONE ? (int)lane - 1 : -(1 + DROP_UNKNOWN);
}

/* Index in ns_routes[] of `ethertype`, or -1 (a search of ns_routes[]: setup and TX). */
int ns_route_index(uint16_t ethertype);
/* Port that receives `ethertype`, or -1. */
int ns_route_lookup(uint16_t ethertype);

/* 1 if `port` may send frames of `ethertype` (it may send what it receives). */
int ns_tx_granted(unsigned port, uint16_t ethertype);

#endif
