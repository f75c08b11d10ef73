/*
 * Frames a client on QEMU's user network sends the guest (user_net.h's addresses), built for the
 * host harnesses of the Membrane's receive path (test_syn_cookie, test_tcp_send): a TCP segment
 * to the guest's :80 over IPv4 or IPv6, an ARP reply and an IPv6 neighbor solicitation that make
 * the client known. Checksums are left to frame_repair.
 */
#ifndef NEXUS_CLIENT_FRAMES_H
#define NEXUS_CLIENT_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CLIENT_FRAME_MAX (14 + 40 + 24 + 64) /* Ethernet, IPv6, TCP with MSS, a short request */
#define CLIENT_HTTP_PORT 80

static const uint8_t user_net_guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t user_net_client_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
static const uint8_t user_net_client_ip[4] = {10, 0, 2, 2};
static const uint8_t user_net_guest_ip[4] = {10, 0, 2, 15};
/* the guest's IPv6 link-local address, from its MAC, and the client's */
static const uint8_t user_net_guest_ip6[16] = {0xfe, 0x80, [8] = 0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56};
static const uint8_t user_net_client_ip6[16] = {0xfe, 0x80, [15] = 2};

/* A TCP segment from the client side to the guest's :80. src is 4 bytes (IPv4) or 16 (IPv6). */
struct client_segment {
    const uint8_t *src;
    int ipv6;
    uint16_t src_port;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t mss; /* an MSS option with this value; 0: none */
    const char *data;
};

static inline uint8_t *client_eth(uint8_t *f, uint16_t type) {
    memcpy(f, user_net_guest_mac, 6);
    memcpy(f + 6, user_net_client_mac, 6);
    f[12] = (uint8_t)(type >> 8), f[13] = (uint8_t)type;
    return f + 14;
}

/* The IPv6 header from src to the guest's link-local address; the payload's start. */
static inline uint8_t *client_ip6(uint8_t *ip, const uint8_t src[16], size_t payload_len, uint8_t next,
                                  uint8_t hop_limit) {
    ip[0] = 0x60, ip[4] = (uint8_t)(payload_len >> 8), ip[5] = (uint8_t)payload_len, ip[6] = next, ip[7] = hop_limit;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, user_net_guest_ip6, 16);
    return ip + 40;
}

/* Writes the segment into f (CLIENT_FRAME_MAX bytes, zeroed); returns the frame's length. */
static inline uint32_t client_tcp_frame(uint8_t *f, const struct client_segment *s) {
    size_t opt = s->mss ? 4 : 0, n = s->data ? strlen(s->data) : 0, tcp_len = 20 + opt + n;
    uint8_t *ip = client_eth(f, s->ipv6 ? 0x86dd : 0x0800), *tcp;
    if (s->ipv6) {
        tcp = client_ip6(ip, s->src, tcp_len, 6, 64);
    } else {
        size_t total = 20 + tcp_len;
        ip[0] = 0x45, ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total, ip[8] = 64, ip[9] = 6;
        memcpy(ip + 12, s->src, 4);
        memcpy(ip + 16, user_net_guest_ip, 4);
        tcp = ip + 20;
    }
    tcp[0] = (uint8_t)(s->src_port >> 8), tcp[1] = (uint8_t)s->src_port, tcp[3] = CLIENT_HTTP_PORT;
    for (int i = 0; i < 4; i++)
        tcp[4 + i] = (uint8_t)(s->seq >> (24 - 8 * i)), tcp[8 + i] = (uint8_t)(s->ack >> (24 - 8 * i));
    tcp[12] = (uint8_t)(((20 + opt) / 4) << 4), tcp[13] = s->flags, tcp[14] = 0xff, tcp[15] = 0xff;
    if (opt)
        tcp[20] = 2, tcp[21] = 4, tcp[22] = (uint8_t)(s->mss >> 8), tcp[23] = (uint8_t)s->mss;
    memcpy(tcp + 20 + opt, s->data ? s->data : "", n);
    return (uint32_t)(tcp + tcp_len - f);
}

/* An ARP reply: `ip` is at the client's MAC. Returns the frame's length (42). */
static inline uint32_t client_arp_reply(uint8_t *f, const uint8_t ip[4]) {
    uint8_t *arp = client_eth(f, 0x0806);
    arp[1] = 1, arp[2] = 0x08, arp[4] = 6, arp[5] = 4, arp[7] = 2; /* Ethernet, IPv4, reply */
    memcpy(arp + 8, user_net_client_mac, 6);
    memcpy(arp + 14, ip, 4);
    memcpy(arp + 18, user_net_guest_mac, 6);
    memcpy(arp + 24, user_net_guest_ip, 4);
    return 14 + 28;
}

/* A neighbor solicitation from the client for the guest's link-local address, with the client's
 * MAC as its source link-layer option. Returns the frame's length. */
static inline uint32_t client_neighbor_solicitation(uint8_t *f) {
    uint8_t *icmp = client_ip6(client_eth(f, 0x86dd), user_net_client_ip6, 32, 58, 255);
    icmp[0] = 135;
    memcpy(icmp + 8, user_net_guest_ip6, 16);
    icmp[24] = 1, icmp[25] = 1;
    memcpy(icmp + 26, user_net_client_mac, 6);
    return (uint32_t)(icmp + 32 - f);
}

#endif
