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

/* Index in ns_routes[] for a frame, or -(1 + enum ns_drop) for runts, oversized frames and
 * unknown types. */
int ns_classify(const uint8_t *frame, uint32_t len);

/* Index in ns_routes[] of `ethertype`, or -1. */
int ns_route_index(uint16_t ethertype);
/* Port that receives `ethertype`, or -1. */
int ns_route_lookup(uint16_t ethertype);

/* 1 if `port` may send frames of `ethertype` (it may send what it receives). */
int ns_tx_granted(unsigned port, uint16_t ethertype);

#endif
