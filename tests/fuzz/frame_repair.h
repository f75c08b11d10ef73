/*
 * Makes fuzzed Ethernet frames worth lwIP's while: lwIP drops a frame with a wrong checksum,
 * and answers a TCP segment or DHCP message that does not echo what it sent last (its sequence
 * number, its transaction id) with a reset or silence, so most mutations would stop at the
 * first check. On request the fuzz target repairs a frame before delivering it: the numbers lwIP
 * expects are written in (learned from the frames lwIP sent), then the IPv4 header checksum and
 * the TCP, UDP, ICMP and ICMPv6 checksums are recomputed. A frame that is not IPv4 or IPv6, or
 * whose lengths do not fit, is left as it is in the part that does not fit: lwIP sees the
 * damage. Every offset is checked against the frame's length.
 */
#ifndef NEXUS_FRAME_REPAIR_H
#define NEXUS_FRAME_REPAIR_H

#include <stdint.h>

/* What lwIP sent last, for the replies a frame may echo. */
struct echo_state {
    uint32_t tcp_next_ack; /* the sequence number after lwIP's last TCP segment */
    uint32_t dhcp_xid;     /* the transaction id of lwIP's last DHCP message */
    uint8_t have_tcp, have_dhcp;
};

/* Learns from a frame lwIP transmitted. */
void frame_repair_learn(struct echo_state *echo, const uint8_t *frame, uint32_t len);
/* Repairs a frame about to be delivered: with `echo`, the acknowledgement of an ACK segment and
 * the transaction id of a DHCP reply (UDP to port 68) become what lwIP expects; then the
 * checksums are made right (a UDP checksum of zero, "none" over IPv4, stays zero). */
void frame_repair(const struct echo_state *echo, uint8_t *frame, uint32_t len);

#endif
