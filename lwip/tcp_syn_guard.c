/*
 * SYN flood guard (tcp_syn_guard.h): evict the oldest half-open connection when a SYN finds its
 * listener's backlog full. lwIP's PCB list and tcp_abandon are declared in its private TCP
 * header; they are read and called here, never changed.
 */
#include "tcp_syn_guard.h"

#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/tcp.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "tcp_syn_cookie.h"

#define TCP_OPT_END 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_MSS_LEN 4
#define REPLAYS_MAX 4 /* connections re-created per turn of the Membrane's loop; more wait for a resend */
#define REBUILT_TTL 64 /* and IPv6 hop limit */

/* A connection to re-create: the SYN rebuilt from its cookie, then the segment that proved it;
 * or a new connection (segment NULL): a SYN that met one in TIME_WAIT, again as it came. */
struct replay {
    struct pbuf *syn, *segment;
    ip_addr_t local, remote;
    uint16_t local_port, remote_port;
    uint32_t iss;
};

static uint64_t evicted, queue_full, recovered, reopened;
static uint32_t evicted_at_ms; /* sys_now() of the last eviction; with none, no ACK is worth a cookie check */
static int (*accept_room)(void *listener_arg);
static struct replay replays[REPLAYS_MAX];
static unsigned replays_pending;

void tcp_syn_guard_set_accept_room(int (*room)(void *listener_arg)) { accept_room = room; }

uint64_t tcp_syn_guard_evicted(void) { return evicted; }

uint64_t tcp_syn_guard_queue_full(void) { return queue_full; }

uint64_t tcp_syn_guard_recovered(void) { return recovered; }

uint64_t tcp_syn_guard_reopened(void) { return reopened; }

/* The half-open connection of `listener` that has waited longest, or NULL. */
static struct tcp_pcb *oldest_half_open(const struct tcp_pcb_listen *listener) {
    struct tcp_pcb *oldest = NULL;
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
        if (pcb->state != SYN_RCVD || pcb->listener != listener)
            continue;
        /* tmr is the tcp_ticks (500 ms) of the last activity, so many share an age; lwIP
         * puts new PCBs at the head of the list, so among equals the last one seen is the
         * oldest (>=). Evicting the first would drop the newest, a real client's included. */
        if (!oldest || (u32_t)(tcp_ticks - pcb->tmr) >= (u32_t)(tcp_ticks - oldest->tmr))
            oldest = pcb;
    }
    return oldest;
}

/* The option byte at `at` of the segment's options, which lwIP may hold in two pieces. */
static uint8_t option_byte(const struct tcp_hdr *hdr, uint16_t opt1len, const uint8_t *opt2, unsigned at) {
    return at < opt1len ? ((const uint8_t *)hdr)[TCP_HLEN + at] : opt2[at - opt1len];
}

/* The MSS a SYN announces (RFC 9293, 3.2), 0 if none. */
static uint16_t announced_mss(const struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len, const uint8_t *opt2) {
    for (unsigned at = 0; at < optlen;) {
        uint8_t kind = option_byte(hdr, opt1len, opt2, at);
        if (kind == TCP_OPT_END)
            break;
        if (kind == TCP_OPT_NOP) {
            at++;
            continue;
        }
        if (at + 1 >= optlen)
            break;
        uint8_t len = option_byte(hdr, opt1len, opt2, at + 1);
        if (len < 2 || at + len > optlen)
            break;
        if (kind == TCP_OPT_MSS && len == TCP_OPT_MSS_LEN)
            return (uint16_t)(option_byte(hdr, opt1len, opt2, at + 2) << 8 | option_byte(hdr, opt1len, opt2, at + 3));
        at += len;
    }
    return 0;
}

/* The network header of the packet being input, rebuilt for total_len bytes: IPv4 or IPv6, its
 * addresses as they came. */
static uint16_t net_header_len(void) { return ip_current_is_v6() ? IP6_HLEN : IP_HLEN; }

static void fill_net_header(uint8_t *at, uint16_t total_len) {
    if (ip_current_is_v6()) {
        struct ip6_hdr *ip6 = (struct ip6_hdr *)at;
        memset(ip6, 0, IP6_HLEN);
        IP6H_VTCFL_SET(ip6, 6, 0, 0);
        IP6H_PLEN_SET(ip6, (uint16_t)(total_len - IP6_HLEN));
        IP6H_NEXTH_SET(ip6, IP6_NEXTH_TCP);
        IP6H_HOPLIM_SET(ip6, REBUILT_TTL);
        memcpy(&ip6->src, &ip6_current_header()->src, sizeof ip6->src);
        memcpy(&ip6->dest, &ip6_current_header()->dest, sizeof ip6->dest);
        return;
    }
    const struct ip_hdr *like = ip4_current_header();
    struct ip_hdr *ip = (struct ip_hdr *)at;
    memset(ip, 0, IP_HLEN);
    IPH_VHL_SET(ip, 4, IP_HLEN / 4);
    IPH_LEN_SET(ip, lwip_htons(total_len));
    IPH_TTL_SET(ip, REBUILT_TTL);
    IPH_PROTO_SET(ip, IP_PROTO_TCP);
    ip4_addr_copy(ip->src, like->src);
    ip4_addr_copy(ip->dest, like->dest);
    IPH_CHKSUM_SET(ip, inet_chksum(ip, IP_HLEN));
}

/* The TCP checksum of a rebuilt packet, over the TCP part of `p` (after hlen header bytes). */
static void fill_tcp_checksum(struct pbuf *p, uint16_t hlen) {
    struct tcp_hdr *tcp = (struct tcp_hdr *)((uint8_t *)p->payload + hlen);
    tcp->chksum = 0;
    pbuf_remove_header(p, hlen);
    tcp->chksum = ip_chksum_pseudo(p, IP_PROTO_TCP, p->tot_len, ip_current_src_addr(), ip_current_dest_addr());
    pbuf_add_header(p, hlen);
}

/* The SYN the client sent, as far as the cookie tells: its sequence, ports, window and MSS. */
static struct pbuf *rebuilt_syn(const struct tcp_hdr *seen, uint16_t mss) {
    uint16_t hlen = net_header_len(), len = (uint16_t)(hlen + TCP_HLEN + TCP_OPT_MSS_LEN);
    struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);
    if (!p)
        return NULL;
    uint8_t *b = p->payload;
    memset(b, 0, len);
    fill_net_header(b, len);
    struct tcp_hdr *tcp = (struct tcp_hdr *)(b + hlen);
    tcp->src = lwip_htons(seen->src);
    tcp->dest = lwip_htons(seen->dest);
    tcp->seqno = lwip_htonl(seen->seqno - 1);
    TCPH_HDRLEN_FLAGS_SET(tcp, (TCP_HLEN + TCP_OPT_MSS_LEN) / 4, TCP_SYN);
    tcp->wnd = lwip_htons(seen->wnd);
    uint8_t *opt = b + hlen + TCP_HLEN;
    opt[0] = TCP_OPT_MSS, opt[1] = TCP_OPT_MSS_LEN, opt[2] = (uint8_t)(mss >> 8), opt[3] = (uint8_t)mss;
    fill_tcp_checksum(p, hlen);
    return p;
}

/* The segment again, as it came (lwIP turned its header's numbers to host order in place, and
 * its options and data may sit in pieces). */
static struct pbuf *rebuilt_segment(const struct tcp_hdr *seen, uint16_t optlen, uint16_t opt1len,
                                    const uint8_t *opt2, struct pbuf *data) {
    uint16_t hlen = net_header_len(), tcp_len = (uint16_t)(TCP_HLEN + optlen);
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (uint16_t)(hlen + tcp_len + data->tot_len), PBUF_RAM);
    if (!p)
        return NULL;
    uint8_t *b = p->payload;
    fill_net_header(b, (uint16_t)p->tot_len);
    struct tcp_hdr *tcp = (struct tcp_hdr *)(b + hlen);
    memcpy(tcp, seen, TCP_HLEN + opt1len);
    if (optlen > opt1len)
        memcpy(b + hlen + TCP_HLEN + opt1len, opt2, optlen - opt1len);
    tcp->src = lwip_htons(seen->src);
    tcp->dest = lwip_htons(seen->dest);
    tcp->seqno = lwip_htonl(seen->seqno);
    tcp->ackno = lwip_htonl(seen->ackno);
    tcp->wnd = lwip_htons(seen->wnd);
    pbuf_copy_partial(data, b + hlen + tcp_len, data->tot_len, 0);
    fill_tcp_checksum(p, hlen);
    return p;
}

/* An ACK at a listener: a connection evicted, or made from a cookie, if it acknowledges one.
 * ERR_ABRT keeps lwIP from answering it with a RST; the replay re-creates the connection. */
static err_t recover(struct tcp_pcb_listen *listener, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len,
                     const uint8_t *opt2, struct pbuf *p) {
    /* only an evicted connection is worth re-creating; a flood of ACKs with nothing evicted
     * (tcp_malformed) costs no hashing */
    if (!evicted || sys_now() - evicted_at_ms >= 2 * TCP_SYN_COOKIE_SLOT_MS)
        return ERR_OK;
    uint16_t mss = tcp_syn_cookie_check(ip_current_dest_addr(), hdr->dest, ip_current_src_addr(), hdr->src,
                                        hdr->seqno - 1, hdr->ackno - 1, sys_now());
    if (!mss)
        return ERR_OK; /* a stray ACK: lwIP resets it */
    if (accept_room && !accept_room(listener->callback_arg)) {
        queue_full++;
        return ERR_ABRT; /* the client sends it again */
    }
    if (replays_pending == REPLAYS_MAX)
        return ERR_ABRT;
    struct replay *r = &replays[replays_pending];
    r->syn = rebuilt_syn(hdr, mss);
    r->segment = r->syn ? rebuilt_segment(hdr, optlen, opt1len, opt2, p) : NULL;
    if (!r->segment) {
        if (r->syn)
            pbuf_free(r->syn);
        return ERR_ABRT;
    }
    ip_addr_copy(r->local, *ip_current_dest_addr());
    ip_addr_copy(r->remote, *ip_current_src_addr());
    r->local_port = hdr->dest;
    r->remote_port = hdr->src;
    r->iss = hdr->ackno - 1;
    replays_pending++;
    return ERR_ABRT;
}

/* A SYN for a connection in TIME_WAIT (tcp_syn_guard.h): if it starts past everything the old
 * connection received, the old one goes and the SYN is input again, to the listener; its
 * connection starts past everything the old one sent (RFC 1122, 4.2.2.13; Linux's choice of
 * number). Otherwise lwIP answers it as RFC 793 says. ERR_ABRT: lwIP drops this copy. */
static err_t reopen(struct tcp_pcb *old, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len, const uint8_t *opt2,
                    struct pbuf *p) {
    if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN || !TCP_SEQ_GT(hdr->seqno, old->rcv_nxt) ||
        replays_pending == REPLAYS_MAX)
        return ERR_OK;
    struct replay *r = &replays[replays_pending];
    r->syn = rebuilt_segment(hdr, optlen, opt1len, opt2, p);
    if (!r->syn)
        return ERR_OK;
    r->segment = NULL;
    ip_addr_copy(r->local, *ip_current_dest_addr());
    ip_addr_copy(r->remote, *ip_current_src_addr());
    r->local_port = hdr->dest;
    r->remote_port = hdr->src;
    r->iss = old->snd_nxt + 0xffffu + 2u;
    replays_pending++;
    tcp_abandon(old, 0); /* a TIME_WAIT pcb leaves its list quietly */
    reopened++;
    return ERR_ABRT;
}

signed char tcp_syn_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len,
                                   uint8_t *opt2, struct pbuf *p) {
    if (pcb->state == TIME_WAIT)
        return reopen(pcb, hdr, optlen, opt1len, opt2, p);
    if (pcb->state != LISTEN)
        return ERR_OK;
    /* tcp_listen_input's test: a SYN without ACK or RST opens a connection. */
    u16_t flags = TCPH_FLAGS(hdr);
    struct tcp_pcb_listen *listener = (struct tcp_pcb_listen *)pcb;
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK)
        return recover(listener, hdr, optlen, opt1len, opt2, p);
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return ERR_OK;
    if (accept_room && !accept_room(listener->callback_arg)) {
        queue_full++;
        return ERR_ABRT; /* lwIP frees the segment and does nothing else */
    }
    tcp_syn_cookie_note_syn(hdr->seqno, announced_mss(hdr, optlen, opt1len, opt2));
    if (listener->accepts_pending < listener->backlog)
        return ERR_OK;
    struct tcp_pcb *victim = oldest_half_open(listener);
    if (victim) {
        tcp_abandon(victim, 0); /* unlinks it and gives its backlog slot back */
        evicted++;
        evicted_at_ms = sys_now();
    }
    return ERR_OK;
}

void tcp_syn_guard_replay(struct netif *netif) {
    for (unsigned i = 0; i < replays_pending; i++) {
        struct replay *r = &replays[i];
        tcp_syn_cookie_force(&r->local, r->local_port, &r->remote, r->remote_port, r->iss);
        if (ip_input(r->syn, netif) != ERR_OK)
            pbuf_free(r->syn);
        tcp_syn_cookie_forced_done();
        if (!r->segment)
            continue; /* a reopened connection: its SYN was all */
        if (ip_input(r->segment, netif) != ERR_OK)
            pbuf_free(r->segment);
        recovered++;
    }
    replays_pending = 0;
}
