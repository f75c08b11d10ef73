/* Fuzzed frames made worth lwIP's while (frame_repair.h). */
#include "frame_repair.h"

#include <stddef.h>

#define ETH_HDR 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define IPV6_HDR 40
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define TCP_HDR 20
#define UDP_HDR 8
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67
#define BOOTP_XID_AT 4

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i + 1 < n; i += 2)
        sum += be16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum) {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Where an IP packet's transport part lies, if its lengths fit the frame. */
struct l4 {
    uint8_t *hdr;
    uint32_t len;
    uint8_t proto;
    uint32_t pseudo; /* the pseudo-header's sum, without the length and protocol */
    int v6;
};

static int find_l4(uint8_t *frame, uint32_t len, struct l4 *out, uint8_t **ip4_hdr, uint32_t *ip4_hlen) {
    *ip4_hdr = NULL;
    if (len < ETH_HDR)
        return 0;
    uint8_t *ip = frame + ETH_HDR;
    uint32_t avail = len - ETH_HDR;
    uint16_t type = be16(frame + 12);
    if (type == ETHERTYPE_IPV4) {
        if (avail < 20 || ip[0] >> 4 != 4)
            return 0;
        uint32_t hlen = (uint32_t)(ip[0] & 15) * 4, total = be16(ip + 2);
        if (hlen < 20 || hlen > avail)
            return 0;
        *ip4_hdr = ip, *ip4_hlen = hlen;
        if (total < hlen || total > avail || (be16(ip + 6) & 0x3fff) != 0)
            return 0; /* does not fit, or a fragment: the transport checksum spans fragments */
        out->hdr = ip + hlen, out->len = total - hlen, out->proto = ip[9], out->v6 = 0;
        out->pseudo = sum_bytes(0, ip + 12, 8);
        return 1;
    }
    if (type == ETHERTYPE_IPV6) {
        if (avail < IPV6_HDR || ip[0] >> 4 != 6)
            return 0;
        uint32_t payload = be16(ip + 4);
        if (payload > avail - IPV6_HDR)
            return 0;
        out->hdr = ip + IPV6_HDR, out->len = payload, out->proto = ip[6], out->v6 = 1;
        out->pseudo = sum_bytes(0, ip + 8, 32);
        return 1;
    }
    return 0;
}

void frame_repair_learn(struct echo_state *echo, const uint8_t *frame, uint32_t len) {
    struct l4 t;
    uint8_t *ip4;
    uint32_t ip4_len;
    /* find_l4 writes nothing; the cast only lets one parser serve both directions. */
    if (!find_l4((uint8_t *)frame, len, &t, &ip4, &ip4_len))
        return;
    if (t.proto == PROTO_TCP && t.len >= TCP_HDR) {
        uint32_t data_off = (uint32_t)(t.hdr[12] >> 4) * 4;
        if (data_off < TCP_HDR || data_off > t.len)
            return;
        uint8_t flags = t.hdr[13];
        echo->tcp_next_ack = be32(t.hdr + 4) + (t.len - data_off) + !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
        echo->have_tcp = 1;
    } else if (t.proto == PROTO_UDP && t.len >= UDP_HDR + BOOTP_XID_AT + 4 &&
               be16(t.hdr + 2) == DHCP_SERVER_PORT) {
        echo->dhcp_xid = be32(t.hdr + UDP_HDR + BOOTP_XID_AT);
        echo->have_dhcp = 1;
    }
}

/* Offset of the checksum field in each transport header, 0 for none we repair. */
static uint32_t checksum_at(uint8_t proto, int v6) {
    switch (proto) {
    case PROTO_TCP:
        return 16;
    case PROTO_UDP:
        return 6;
    case PROTO_ICMP:
        return v6 ? 0 : 2;
    case PROTO_ICMPV6:
        return v6 ? 2 : 0;
    }
    return 0;
}

static void echo_fields(const struct echo_state *echo, const struct l4 *t) {
    if (t->proto == PROTO_TCP && t->len >= TCP_HDR && echo->have_tcp && (t->hdr[13] & TCP_FLAG_ACK))
        put32(t->hdr + 8, echo->tcp_next_ack);
    if (t->proto == PROTO_UDP && t->len >= UDP_HDR + BOOTP_XID_AT + 4 && echo->have_dhcp &&
        be16(t->hdr + 2) == DHCP_CLIENT_PORT)
        put32(t->hdr + UDP_HDR + BOOTP_XID_AT, echo->dhcp_xid);
}

void frame_repair(const struct echo_state *echo, uint8_t *frame, uint32_t len) {
    struct l4 t;
    uint8_t *ip4;
    uint32_t ip4_len;
    int whole = find_l4(frame, len, &t, &ip4, &ip4_len);
    if (whole) {
        if (echo)
            echo_fields(echo, &t);
        uint32_t at = checksum_at(t.proto, t.v6);
        int udp_none = t.proto == PROTO_UDP && !t.v6 && t.len >= UDP_HDR && be16(t.hdr + 6) == 0;
        if (at && t.len >= at + 2 && !udp_none) {
            put16(t.hdr + at, 0);
            uint32_t sum = sum_bytes(0, t.hdr, t.len);
            if (t.proto != PROTO_ICMP)
                sum += t.pseudo + t.proto + (t.len & 0xffff) + (t.len >> 16);
            uint16_t c = fold(sum);
            put16(t.hdr + at, c == 0 && t.proto == PROTO_UDP ? 0xffff : c);
        }
    }
    if (ip4) {
        put16(ip4 + 10, 0);
        put16(ip4 + 10, fold(sum_bytes(0, ip4, ip4_len)));
    }
}
