/* Which received frames lwIP would write into (rx_frame_policy.h). */
#include "rx_frame_policy.h"

#include <stddef.h>

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define IPV4_MIN_HLEN 20
#define IPV4_FRAGMENT_BITS 0x3fff /* MF and the offset; DF alone is no fragment */
#define IPV6_HLEN 40
#define IPV6_FRAGMENT_HEADER 44
#define TCP_MIN_HLEN 20
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define ICMP_ECHO_REQUEST 8

/* Where the transport header starts, its protocol, and whether the datagram is a fragment. */
struct ip_view {
    uint8_t version, proto, fragment;
    uint32_t transport;
};

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int view_ipv4(const uint8_t *f, uint32_t len, struct ip_view *v) {
    const uint8_t *ip = f + ETH_HLEN;
    if (len < ETH_HLEN + IPV4_MIN_HLEN)
        return -1;
    uint32_t hlen = (ip[0] & 0x0fu) * 4;
    if (ip[0] >> 4 != 4 || hlen < IPV4_MIN_HLEN || len < ETH_HLEN + hlen)
        return -1;
    *v = (struct ip_view){4, ip[9], (be16(ip + 6) & IPV4_FRAGMENT_BITS) != 0, ETH_HLEN + hlen};
    return 0;
}

/* Follows the extension headers lwIP skips before the fragment header or the transport. */
static int is_skipped_ipv6_extension(uint8_t next) { return next == 0 || next == 43 || next == 60; }

static int view_ipv6(const uint8_t *f, uint32_t len, struct ip_view *v) {
    if (len < ETH_HLEN + IPV6_HLEN || f[ETH_HLEN] >> 4 != 6)
        return -1;
    uint8_t next = f[ETH_HLEN + 6];
    uint32_t at = ETH_HLEN + IPV6_HLEN;
    while (is_skipped_ipv6_extension(next)) {
        if (len < at + 2)
            return -1;
        next = f[at];
        at += ((uint32_t)f[at + 1] + 1) * 8;
    }
    *v = (struct ip_view){6, next, next == IPV6_FRAGMENT_HEADER, at};
    return 0;
}

static struct rx_decision tcp_headers(const uint8_t *f, uint32_t len, const struct ip_view *v) {
    if (len < v->transport + TCP_MIN_HLEN)
        return (struct rx_decision){RX_COPY_FRAME, 0};
    uint32_t hlen = (uint32_t)(f[v->transport + 12] >> 4) * 4;
    uint32_t end = v->transport + (hlen < TCP_MIN_HLEN ? TCP_MIN_HLEN : hlen);
    if (end > len)
        return (struct rx_decision){RX_COPY_FRAME, 0};
    return (struct rx_decision){RX_COPY_HEADERS, end};
}

static struct rx_decision icmp_echo_request(const uint8_t *f, uint32_t len, const struct ip_view *v) {
    if (len > v->transport && f[v->transport] != ICMP_ECHO_REQUEST)
        return (struct rx_decision){RX_ZERO_COPY, 0};
    return (struct rx_decision){RX_COPY_FRAME, 0};
}

/* The transport protocols lwIP writes into; any other is only read. */
static const struct {
    uint8_t version, proto;
    struct rx_decision (*decide)(const uint8_t *frame, uint32_t len, const struct ip_view *v);
} writers[] = {
    {4, PROTO_TCP, tcp_headers},
    {6, PROTO_TCP, tcp_headers},
    {4, PROTO_ICMP, icmp_echo_request},
};

static const struct {
    uint16_t ethertype;
    int (*view)(const uint8_t *frame, uint32_t len, struct ip_view *v);
} ip_versions[] = {
    {ETHERTYPE_IPV4, view_ipv4},
    {ETHERTYPE_IPV6, view_ipv6},
};

struct rx_decision rx_frame_decide(const uint8_t *frame, uint32_t len) {
    if (len < ETH_HLEN)
        return (struct rx_decision){RX_COPY_FRAME, 0};
    for (size_t i = 0; i < sizeof ip_versions / sizeof ip_versions[0]; i++) {
        if (be16(frame + 12) != ip_versions[i].ethertype)
            continue;
        struct ip_view v;
        if (ip_versions[i].view(frame, len, &v))
            return (struct rx_decision){RX_COPY_FRAME, 0};
        if (v.fragment)
            return (struct rx_decision){RX_COPY_FRAME, 0};
        for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++)
            if (writers[w].version == v.version && writers[w].proto == v.proto)
                return writers[w].decide(frame, len, &v);
        return (struct rx_decision){RX_ZERO_COPY, 0};
    }
    return (struct rx_decision){RX_ZERO_COPY, 0}; /* ARP: etharp_input answers from a new pbuf */
}
