/*
 * The Membrane's sockets: the AF_INET/AF_INET6 backend behind libnexus. The link transport is
 * lib/link/server.c; this is what the socket protocol's requests (nexus/sockproto.h) do, with
 * lwIP's raw API:
 *   sockets.c   the socket table per link, dispatch by operation, options, names, status words
 *   sock_tcp.c  TCP: lwIP's callbacks, listen/accept, connect, send, receive, close
 *   sock_udp.c  UDP: the datagram queue, send, receive
 *   sock_dns.c  name lookups through lwIP's DNS (answered when DNS answers)
 * Every operation finishes at once, except name lookups.
 */
#ifndef NEXUS_MEMBRANE_SOCKETS_H
#define NEXUS_MEMBRANE_SOCKETS_H

#include <stdint.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "nexus/sockproto.h"

#define UDP_QUEUE 16
/* A listener's backlog at most: lwIP drops a SYN past it without a word, and the client only
 * retries a second later; as deep as a link has sockets, a socket limit refuses first (RST). */
#define ACCEPT_QUEUE NXS_SOCKETS

struct dgram {
    struct pbuf *p;
    ip_addr_t from;
    u16_t port;
};

/* A listener's connections that lwIP accepted and the app has not yet, oldest first. Only
 * listeners have one, from a pool as large as lwIP's listening PCBs (sock_tcp.c). */
struct accept_queue {
    unsigned n;
    unsigned limit; /* the app's backlog: SYNs past it wait (tcp_syn_guard.h) */
    int16_t sock[ACCEPT_QUEUE];
};

/* A UDP socket's received datagrams. Only UDP sockets have one, taken from a pool as large as
 * lwIP's UDP PCBs (sock_udp.c): in every socket it cost 640 of its 824 bytes, the accept queue 128 more. */
struct dgram_queue {
    unsigned head, count;
    uint32_t bytes; /* the datagrams' payload, against SO_RCVBUF */
    struct dgram d[UDP_QUEUE];
};

struct msock {
    uint8_t used, type, family, listening, connecting, connected, eof, rd_shut, wr_shut;
    uint8_t link;      /* the link (app) it belongs to */
    uint8_t embryonic; /* accepted by lwIP, not yet by the app */
    uint8_t linger_on; /* SO_LINGER: with linger_s 0, close resets the connection */
    uint8_t lingering; /* a close waits for the peer's acknowledgements (NXS_CLOSE_LINGER) */
    uint8_t v6only;    /* IPV6_V6ONLY: an AF_INET6 socket bound to :: takes no IPv4 */
    uint8_t nodelay;   /* a listener's TCP_NODELAY, for its connections (its pcb has no flags) */
    uint8_t send_starved; /* a send found room but no memory: no POLLOUT until some is freed */
    uint8_t initial_window; /* RFC 6928's window is due at the first send (tcp_initial_window.h) */
    /* A posted send's rest (sock_posted.c): its first and last piece (chunk + 1; 0: none), and
     * a socket its app closed that lives on until the rest went. With wr_shut, the FIN waits
     * for the rest (no send is taken once wr_shut is set, so no rest begins after it). */
    uint8_t rest_head, rest_tail, orphan;
    int16_t listener;  /* while embryonic: the socket number of the listener queueing it */
    uint32_t rcvbuf;   /* SO_RCVBUF as set (below) */
    int err;           /* pending error (positive errno), reported once */
    union {
        struct tcp_pcb *tcp;
        struct udp_pcb *udp;
    } pcb;
    struct pbuf *rx;   /* TCP: bytes received, not yet read */
    struct dgram_queue *dq; /* UDP, while open */
    struct accept_queue *pending; /* listener: its embryonic sockets */
    /* SO_SNDBUF, SO_RCVBUF: 0 is the default (TCP_SND_BUF, TCP_WND; a UDP queue's 16 datagrams).
     * TCP: at most sndbuf bytes wait unacknowledged; the receive window is cut by rcv_cut =
     * TCP_WND - rcvbuf, as credit held back (rcv_held) from what the app reads. UDP: at most
     * rcvbuf bytes wait in the queue. */
    uint32_t sndbuf; /* TCP_SND_BUF is past 16 bits (lwipopts.h) */
    uint16_t rcv_cut, rcv_held;
    uint16_t linger_s;
};

/* An operation on an open socket: fills the reply in *m, returns the result. */
typedef long (*sock_op)(struct msock *s, struct nxs_msg *m, uint8_t *data);
/* An operation on an open socket and the address the request names, already decoded. */
typedef long (*sock_addr_op)(struct msock *s, const ip_addr_t *ip, u16_t port);

struct sockets_stats {
    uint64_t accept_refused; /* connections lwIP accepted that found the accept queue full */
    uint64_t udp_dropped;    /* datagrams that found their socket's queue full */
    /* What sending costs in copies (docs/ion.md): the bytes apps copied into link slots for send
     * requests, and into their links' send areas (a refused or partial send's rest is copied
     * again on the retry), the bytes copied from there into lwIP's memory or a lent buffer, and
     * the payload bytes lwIP accepted. */
    uint64_t tx_slot_bytes, tx_area_bytes, tx_stack_copied_bytes, tx_payload_bytes;
    /* Connections in TIME_WAIT let go by a socket its app had not closed (tcp_timewait.h). */
    uint64_t timewait_released;
    /* TCP sends that found room in the send buffer but no memory to take the bytes in (lwIP's
     * heap down to what it keeps, or its own pools): the socket shows no POLLOUT until memory
     * was freed, instead of its app asking again at once (sock_tcp.c). */
    uint64_t send_starved;
    /* Posted sends (sock_posted.c) lwIP could not take whole at once, and the bytes of rests a
     * dead connection dropped (the app learns it from the socket's error). */
    uint64_t posted_rests, posted_dropped_bytes;
};

/* sockets.c */
/* Serves every link of this fiber (lib/link/server.h); how many. */
unsigned sockets_attach(void);
extern struct sockets_stats sockets_counters; /* read by membrane.c for /Bus */

/* A stream send's bytes given to lwIP, and of those the ones it copied into its own memory. */
static inline void count_tcp_sent(uint64_t payload, uint64_t copied) {
    sockets_counters.tx_payload_bytes += payload;
    sockets_counters.tx_stack_copied_bytes += copied;
}
struct msock *sock_at(unsigned link, int k);
int sock_number(const struct msock *s);
struct msock *sock_alloc(unsigned link);
/* The index of a free entry of a per-socket pool (used[i] == 0), now marked used; -1 if none. */
int pool_take(uint8_t *used, unsigned n);
void sock_release(struct msock *s);
void touch(struct msock *s);
/* Clears every socket's send_starved, touching those that had it. */
void sockets_wake_starved(void);
int errno_of(err_t e);
long take_error(struct msock *s);
int decode_addr(const struct msock *s, const struct nxs_msg *m, ip_addr_t *ip, u16_t *port);
void from_ip(const ip_addr_t *ip, u16_t port, int family, struct nxs_addr *out);
void reply_addr(struct nxs_msg *m, const ip_addr_t *ip, u16_t port, int family);

/* sock_tcp.c: what TCP sockets do (status: NXS_EV_* of a TCP socket) */
/* Once, before any socket: lets the SYN guard ask a listener's accept queue (tcp_syn_guard.h). */
void tcp_sock_start(void);
/* Once a pass: if memory was freed since a send found none (or a while passed), the starved
 * sockets may show POLLOUT again. */
void tcp_sock_recheck_starved(void);
int tcp_sock_open(struct msock *s, u8_t iptype);
void tcp_sock_close(struct msock *s);
uint32_t tcp_sock_status(const struct msock *s);
long tcp_sock_listen(struct msock *s, struct nxs_msg *m, uint8_t *data);
long tcp_sock_accept(struct msock *s, struct nxs_msg *m, uint8_t *data);
long tcp_sock_connect(struct msock *s, const ip_addr_t *ip, u16_t port);
/* The app is done sending (shutdown, MSG_EOF, a close): the FIN leaves now, or after a posted
 * send's rest. */
void tcp_sock_shut_wr(struct msock *s);
/* A send begins: 0 if the socket can take bytes, else what the send answers (a pending error,
 * taken). A connection's first send widens its congestion window (tcp_initial_window.h). */
long tcp_sock_send_begin(struct msock *s);
long tcp_sock_send(struct msock *s, struct nxs_msg *m, uint8_t *data);
/* Bytes a send may add now: lwIP's free send buffer, within SO_SNDBUF. */
uint32_t tcp_sock_send_room(const struct msock *s);
long tcp_sock_recv(struct msock *s, struct nxs_msg *m, uint8_t *data);
long tcp_sock_shutdown(struct msock *s, struct nxs_msg *m, uint8_t *data);
/* A close that may linger (NXS_CLOSE_LINGER): the seconds the app is to wait, writing shut
 * down, or 0 if the socket does not linger and is to close now. */
long tcp_sock_linger(struct msock *s);
void tcp_sock_drop_rx(struct msock *s);
/* SO_SNDBUF/SO_RCVBUF on a TCP socket (bytes, already bounded): applied at once */
void tcp_sock_set_sndbuf(struct msock *s, uint32_t bytes);
void tcp_sock_set_rcvbuf(struct msock *s, uint32_t bytes);
/* TCP_KEEPIDLE/TCP_KEEPINTVL (seconds) and TCP_KEEPCNT: 0, or -EINVAL out of Linux's bounds */
long tcp_sock_set_keepalive(struct msock *s, uint32_t name, int value);
long tcp_sock_get_keepalive(const struct msock *s, uint32_t name, int *value);
/* The bytes a receive could take now (FIONREAD) */
long tcp_sock_readable(struct msock *s, struct nxs_msg *m, uint8_t *data);

/* sock_posted.c: sends from the link's post slot (nexus/link.h), taken whole */
long tcp_sock_post(struct msock *s, struct nxs_msg *m, uint8_t *data);
int tcp_sock_has_rest(const struct msock *s);
uint32_t tcp_sock_rest_bytes(const struct msock *s);
/* Releases the chunks of the socket's rest; its bytes are not sent. */
void tcp_sock_drop_rest(struct msock *s);
/* A close of a socket with a rest: 1 if the socket stays to send it, then closes by itself. */
int tcp_sock_orphan(struct msock *s);
/* Once a pass: gives lwIP what it takes of every rest; how many sockets sent some. */
unsigned tcp_sock_push_rests(void);

/* sock_udp.c */
int udp_sock_open(struct msock *s, u8_t iptype);
void udp_sock_close(struct msock *s);
uint32_t udp_sock_status(const struct msock *s);
long udp_sock_connect(struct msock *s, const ip_addr_t *ip, u16_t port);
long udp_sock_send(struct msock *s, struct nxs_msg *m, uint8_t *data);
long udp_sock_recv(struct msock *s, struct nxs_msg *m, uint8_t *data);
long udp_sock_readable(struct msock *s, struct nxs_msg *m, uint8_t *data); /* the next datagram's length */

/* sock_dns.c: starts a lookup; its reply goes out when lwIP's DNS answers (LINK_DEFERRED), or
 * at once with the error. */
long dns_resolve(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data);
/* Forgets the lookups of a link whose app started again. */
void dns_forget(unsigned link);

#endif
