/*
 * Which received frames the Membrane must copy out of the RX pool before lwIP sees them. The
 * pool is mapped read-only into every service (docs/security.md), and lwIP (2.2.1, as 2.1.3)
 * writes into a few of the frames it is given:
 *   - tcp_input converts the TCP header to host byte order in place;
 *   - IPv4 and IPv6 reassembly keep their bookkeeping over the fragments' headers;
 *   - icmp_input turns an IPv4 echo request into the reply in place (when the pbuf has room
 *     in front; lwIP copies it otherwise, and icmp6_input always answers from a copy).
 * Everything else (UDP, ARP, ICMPv6, DHCP, DNS) is only read, and stays zero copy. The decision
 * reads the Ethernet and IP headers of a frame that is hostile input: every offset is checked
 * against the frame's length, and a frame too short to classify is copied whole (lwIP drops it).
 */
#ifndef NEXUS_RX_FRAME_POLICY_H
#define NEXUS_RX_FRAME_POLICY_H

#include <stdint.h>

enum rx_handling {
    RX_ZERO_COPY,    /* lwIP only reads it: a pbuf over the pool buffer */
    RX_COPY_HEADERS, /* lwIP writes its headers: copy them, the payload stays in the pool */
    RX_COPY_FRAME,   /* lwIP writes anywhere in it, or keeps it long (reassembly): copy it all */
};

struct rx_decision {
    enum rx_handling how;
    uint32_t header_len; /* RX_COPY_HEADERS: bytes from the frame's start to copy */
};

struct rx_decision rx_frame_decide(const uint8_t *frame, uint32_t len);

#endif
