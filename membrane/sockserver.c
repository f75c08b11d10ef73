/*
 * The Membrane's socket server: answers the socket requests apps send over their links
 * (sockproto.h) with lwIP's raw API, and keeps each socket's status word current so libnexus
 * can block, poll and select without asking.
 *
 * Nothing an app writes is trusted: a request header is copied out of the shared slot and
 * checked before use, socket numbers index the app's own table, and data lengths are bounded by
 * the slot. Every operation finishes at once, except name lookups, whose reply is sent when
 * lwIP's DNS answers.
 */
#include "sockserver.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "ion_ring.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "nexus.h"
#include "sockproto.h"

/* The socket constants are the apps' own: membrane/include (Linux values, see sockproto.h). */
#define TYPE_MASK 0xf /* SOCK_NONBLOCK/SOCK_CLOEXEC are libnexus's business */

#define UDP_QUEUE 16
#define ACCEPT_QUEUE 64
#define MAX_LINKS NEXUS_LINKS_MAX
#define MAX_LOOKUPS 8

struct dgram {
    struct pbuf *p;
    ip_addr_t from;
    u16_t port;
};

struct msock {
    uint8_t used, type, family, listening, connecting, connected, eof, rd_shut, wr_shut, dirty;
    uint8_t embryonic; /* accepted by lwIP, not yet by the app */
    int16_t listener;  /* while embryonic: the socket number of the listener queueing it */
    int err;           /* pending error (positive errno), reported once */
    union {
        struct tcp_pcb *tcp;
        struct udp_pcb *udp;
    } pcb;
    struct pbuf *rx;   /* TCP: bytes received, not yet read */
    struct dgram dq[UDP_QUEUE];
    unsigned dq_head, dq_count;
    int16_t pending[ACCEPT_QUEUE]; /* listener: embryonic socket numbers, oldest first */
    unsigned npending;
    struct link_state *link;
};

struct link_state {
    struct nexus_link_info info;
    uint8_t *base;
    struct nxs_header *hdr;
    struct ion_ring requests, completions;
    struct msock socks[NXS_SOCKETS];
    int dirty;     /* some status word may have changed */
    int completed; /* replies enqueued since the last flush */
    uint32_t app_start_seen;
};

/* A name lookup waiting for lwIP's DNS. */
struct lookup {
    struct link_state *link; /* NULL: free */
    uint32_t slot;
    struct nxs_msg msg;
};

static struct link_state links[MAX_LINKS];
static unsigned nlinks;
static struct lookup lookups[MAX_LOOKUPS];
static struct sockserver_stats stats;

/* ---- small helpers ---- */

static struct nxs_msg *slot_msg(struct link_state *l, uint32_t slot) {
    return (struct nxs_msg *)(l->base + NXS_OFF_MSGS + slot * sizeof(struct nxs_msg));
}

static uint8_t *slot_data(struct link_state *l, uint32_t slot) { return l->base + NXS_OFF_DATA + slot * NXS_SLOT_DATA; }

static int sock_number(const struct msock *s) { return (int)(s - s->link->socks); }

static void touch(struct msock *s) {
    s->dirty = 1;
    s->link->dirty = 1;
}

static int errno_of(err_t e) {
    static const int table[] = {
        [-ERR_MEM] = ENOMEM,        [-ERR_BUF] = ENOBUFS,      [-ERR_TIMEOUT] = ETIMEDOUT,
        [-ERR_RTE] = EHOSTUNREACH,  [-ERR_INPROGRESS] = EINPROGRESS, [-ERR_VAL] = EINVAL,
        [-ERR_WOULDBLOCK] = EAGAIN, [-ERR_USE] = EADDRINUSE,   [-ERR_ALREADY] = EALREADY,
        [-ERR_ISCONN] = EISCONN,    [-ERR_CONN] = ENOTCONN,    [-ERR_IF] = ENETDOWN,
        [-ERR_ABRT] = ECONNABORTED, [-ERR_RST] = ECONNRESET,   [-ERR_CLSD] = ENOTCONN,
        [-ERR_ARG] = EINVAL,
    };
    if (e >= 0)
        return 0;
    if ((size_t)-e < sizeof table / sizeof table[0] && table[-e])
        return table[-e];
    return EIO;
}

static int to_ip(const struct nxs_addr *a, ip_addr_t *ip) {
    if (a->family == AF_INET) {
        uint32_t v;
        memcpy(&v, a->ip, 4);
        ip_addr_set_ip4_u32(ip, v);
        return 0;
    }
    if (a->family == AF_INET6) {
        uint32_t w[4];
        memcpy(w, a->ip, 16);
        IP_ADDR6(ip, w[0], w[1], w[2], w[3]);
        ip6_addr_clear_zone(ip_2_ip6(ip));
        /* An IPv4-mapped address is an IPv4 destination for lwIP. */
        if (ip6_addr_isipv4mappedipv6(ip_2_ip6(ip))) {
            uint32_t v4 = w[3];
            ip_addr_set_ip4_u32(ip, v4);
        }
        return 0;
    }
    return -EAFNOSUPPORT;
}

/* An lwIP address as the socket's family sees it (IPv4 peers of an IPv6 socket appear mapped). */
static void from_ip(const ip_addr_t *ip, u16_t port, int family, struct nxs_addr *out) {
    memset(out, 0, sizeof *out);
    out->port = port;
    if (IP_IS_V4(ip) && family == AF_INET) {
        out->family = AF_INET;
        uint32_t v = ip4_addr_get_u32(ip_2_ip4(ip));
        memcpy(out->ip, &v, 4);
    } else if (IP_IS_V4(ip)) {
        out->family = AF_INET6;
        out->ip[10] = out->ip[11] = 0xff;
        uint32_t v = ip4_addr_get_u32(ip_2_ip4(ip));
        memcpy(out->ip + 12, &v, 4);
    } else {
        out->family = AF_INET6;
        memcpy(out->ip, ip_2_ip6(ip)->addr, 16);
    }
}

static void reply_addr(struct nxs_msg *m, const ip_addr_t *ip, u16_t port, int family) {
    struct nxs_addr a;
    from_ip(ip, port, family, &a);
    m->addr_len = nxs_addr_encode(&a, m->addr, NXS_ADDR_MAX);
}

/* ---- socket table ---- */

static struct msock *sock_alloc(struct link_state *l) {
    for (int i = 0; i < NXS_SOCKETS; i++) {
        struct msock *s = &l->socks[i];
        if (!s->used) {
            memset(s, 0, sizeof *s);
            s->used = 1;
            s->link = l;
            touch(s);
            return s;
        }
    }
    return NULL;
}

static void drop_rx(struct msock *s) {
    if (s->rx)
        pbuf_free(s->rx);
    s->rx = NULL;
    while (s->dq_count) {
        pbuf_free(s->dq[s->dq_head].p);
        s->dq_head = (s->dq_head + 1) % UDP_QUEUE;
        s->dq_count--;
    }
}

static void tcp_detach(struct tcp_pcb *pcb) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    if (pcb->state != LISTEN)
        tcp_poll(pcb, NULL, 0);
}

static void sock_release(struct msock *s);

static void tcp_close_pcb(struct msock *s) {
    struct tcp_pcb *pcb = s->pcb.tcp;
    s->pcb.tcp = NULL;
    if (!pcb)
        return;
    if (s->listening) {
        tcp_accept(pcb, NULL);
    } else {
        tcp_detach(pcb);
    }
    if (s->embryonic)
        tcp_backlog_accepted(pcb);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

static void sock_release(struct msock *s) {
    if (s->type == SOCK_STREAM) {
        for (unsigned i = 0; i < s->npending; i++)
            sock_release(&s->link->socks[s->pending[i]]);
        s->npending = 0;
        tcp_close_pcb(s);
    } else if (s->pcb.udp) {
        udp_remove(s->pcb.udp);
        s->pcb.udp = NULL;
    }
    drop_rx(s);
    s->used = 0;
    touch(s);
}

static uint32_t status_of(const struct msock *s) {
    if (!s->used || s->embryonic)
        return 0;
    uint32_t ev = NXS_EV_OPEN;
    if (s->err)
        ev |= NXS_EV_ERR;
    if (s->type == SOCK_DGRAM)
        return ev | NXS_EV_OUT | (s->dq_count ? NXS_EV_IN : 0);
    if (s->listening)
        return ev | (s->npending ? NXS_EV_IN : 0);
    if (s->connecting)
        return ev | (s->err ? NXS_EV_OUT | NXS_EV_HUP : 0);
    if (!s->connected)
        return ev | NXS_EV_OUT | NXS_EV_HUP;
    if (s->rx || s->eof || s->err || s->rd_shut)
        ev |= NXS_EV_IN;
    struct tcp_pcb *pcb = s->pcb.tcp;
    if (!pcb || s->wr_shut || (tcp_sndbuf(pcb) > 0 && tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN - 4))
        ev |= NXS_EV_OUT;
    if (!pcb || (s->eof && s->wr_shut))
        ev |= NXS_EV_HUP;
    return ev;
}

/* ---- lwIP callbacks ---- */

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    struct msock *s = arg;
    (void)err;
    if (!s) {
        if (p) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        s->eof = 1;
    } else if (s->rd_shut) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    } else if (s->rx) {
        pbuf_cat(s->rx, p);
    } else {
        s->rx = p;
    }
    touch(s);
    return ERR_OK;
}

static err_t on_tcp_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)pcb;
    (void)len;
    if (arg)
        touch(arg);
    return ERR_OK;
}

static void pending_remove(struct msock *l, unsigned k) {
    memmove(&l->pending[k], &l->pending[k + 1], (l->npending - k - 1) * sizeof l->pending[0]);
    l->npending--;
    touch(l);
}

/* The pcb is already gone when lwIP reports an error. */
static void on_tcp_err(void *arg, err_t err) {
    struct msock *s = arg;
    if (!s)
        return;
    s->pcb.tcp = NULL;
    s->err = s->connecting && err == ERR_RST ? ECONNREFUSED : errno_of(err);
    if (s->embryonic) {
        /* Reset before the app accepted it: it leaves the listener's queue and the table. */
        struct msock *l = &s->link->socks[s->listener];
        for (unsigned k = 0; k < l->npending; k++)
            if (l->pending[k] == sock_number(s))
                pending_remove(l, k);
        s->embryonic = 0;
        drop_rx(s);
        s->used = 0;
    }
    touch(s);
}

static err_t on_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    struct msock *s = arg;
    (void)pcb;
    if (s) {
        s->connecting = 0;
        s->connected = err == ERR_OK;
        s->err = errno_of(err);
        touch(s);
    }
    return ERR_OK;
}

static void tcp_attach(struct msock *s, struct tcp_pcb *pcb) {
    s->pcb.tcp = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_tcp_recv);
    tcp_sent(pcb, on_tcp_sent);
    tcp_err(pcb, on_tcp_err);
}

static err_t on_tcp_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
    struct msock *l = arg;
    if (!l || err != ERR_OK || !newpcb)
        return ERR_VAL;
    struct msock *s = l->npending < ACCEPT_QUEUE ? sock_alloc(l->link) : NULL;
    if (!s) {
        stats.accept_refused++;
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    s->type = SOCK_STREAM;
    s->family = l->family;
    s->connected = 1;
    s->embryonic = 1;
    s->listener = (int16_t)sock_number(l);
    tcp_attach(s, newpcb);
    tcp_backlog_delayed(newpcb); /* counts against the listen backlog until the app accepts */
    l->pending[l->npending++] = (int16_t)sock_number(s);
    touch(l);
    return ERR_OK;
}

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
    struct msock *s = arg;
    (void)pcb;
    if (!s || s->dq_count == UDP_QUEUE) {
        stats.udp_dropped++;
        pbuf_free(p);
        return;
    }
    struct dgram *d = &s->dq[(s->dq_head + s->dq_count++) % UDP_QUEUE];
    d->p = p;
    ip_addr_copy(d->from, *addr);
    d->port = port;
    touch(s);
}

/* ---- operations: each fills the reply in *m and returns the result ---- */

static long op_socket(struct link_state *l, struct nxs_msg *m) {
    int family = (int)m->arg[0], type = (int)(m->arg[1] & TYPE_MASK), proto = (int)m->arg[2];
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return -EINVAL;
    if (proto != 0 && proto != (type == SOCK_STREAM ? 6 : 17))
        return -EPROTONOSUPPORT;
    struct msock *s = sock_alloc(l);
    if (!s)
        return -EMFILE;
    s->type = (uint8_t)type;
    s->family = (uint8_t)family;
    u8_t iptype = family == AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY;
    if (type == SOCK_STREAM) {
        struct tcp_pcb *pcb = tcp_new_ip_type(iptype);
        if (pcb)
            tcp_attach(s, pcb);
        s->pcb.tcp = pcb;
    } else {
        s->pcb.udp = udp_new_ip_type(iptype);
        if (s->pcb.udp)
            udp_recv(s->pcb.udp, on_udp_recv, s);
    }
    if (!s->pcb.tcp && !s->pcb.udp) {
        s->used = 0;
        return -ENOBUFS;
    }
    return sock_number(s);
}

static int decode_addr(const struct msock *s, const struct nxs_msg *m, ip_addr_t *ip, u16_t *port) {
    struct nxs_addr a;
    int err = nxs_addr_decode(m->addr, m->addr_len, &a);
    if (err)
        return err;
    if (s->family == AF_INET && a.family != AF_INET)
        return -EAFNOSUPPORT;
    *port = a.port;
    return to_ip(&a, ip);
}

static long op_bind(struct msock *s, struct nxs_msg *m) {
    ip_addr_t ip;
    u16_t port;
    int err = decode_addr(s, m, &ip, &port);
    if (err)
        return err;
    if (s->family == AF_INET6 && ip_addr_isany(&ip))
        ip = *IP_ANY_TYPE;
    if (s->type == SOCK_STREAM) {
        if (!s->pcb.tcp || s->listening || s->connected)
            return -EINVAL;
        return -errno_of(tcp_bind(s->pcb.tcp, &ip, port));
    }
    return -errno_of(udp_bind(s->pcb.udp, &ip, port));
}

static long op_listen(struct msock *s, struct nxs_msg *m) {
    if (s->type != SOCK_STREAM)
        return -EOPNOTSUPP;
    if (s->listening)
        return 0;
    if (!s->pcb.tcp || s->connected || s->connecting)
        return -EINVAL;
    if (s->pcb.tcp->local_port == 0) {
        err_t e = tcp_bind(s->pcb.tcp, IP_ANY_TYPE, 0);
        if (e != ERR_OK)
            return -errno_of(e);
    }
    unsigned backlog = m->arg[0] == 0 ? 1 : m->arg[0] > ACCEPT_QUEUE ? ACCEPT_QUEUE : m->arg[0];
    err_t e;
    tcp_detach(s->pcb.tcp);
    struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(s->pcb.tcp, (u8_t)backlog, &e);
    if (!lpcb) {
        tcp_attach(s, s->pcb.tcp);
        return -errno_of(e);
    }
    s->pcb.tcp = lpcb;
    s->listening = 1;
    tcp_arg(lpcb, s);
    tcp_accept(lpcb, on_tcp_accept);
    touch(s);
    return 0;
}

static long op_accept(struct msock *s, struct nxs_msg *m) {
    if (!s->listening)
        return -EINVAL;
    if (!s->npending)
        return -EAGAIN;
    struct msock *c = &s->link->socks[s->pending[0]];
    pending_remove(s, 0);
    c->embryonic = 0;
    if (c->pcb.tcp) {
        tcp_backlog_accepted(c->pcb.tcp);
        reply_addr(m, &c->pcb.tcp->remote_ip, c->pcb.tcp->remote_port, c->family);
    }
    touch(s);
    touch(c);
    return sock_number(c);
}

static long op_connect(struct msock *s, struct nxs_msg *m) {
    ip_addr_t ip;
    u16_t port;
    int err = decode_addr(s, m, &ip, &port);
    if (err)
        return err;
    if (s->type == SOCK_DGRAM) {
        touch(s);
        return -errno_of(udp_connect(s->pcb.udp, &ip, port));
    }
    if (s->listening)
        return -EINVAL;
    if (s->connecting)
        return -EALREADY;
    if (s->connected)
        return -EISCONN;
    if (!s->pcb.tcp)
        return s->err ? -s->err : -EINVAL;
    err_t e = tcp_connect(s->pcb.tcp, &ip, port, on_tcp_connected);
    if (e != ERR_OK)
        return -errno_of(e);
    s->connecting = 1;
    touch(s);
    return -EINPROGRESS;
}

static long take_error(struct msock *s) {
    int e = s->err;
    s->err = 0;
    touch(s);
    return -e;
}

static long tcp_send_op(struct msock *s, const uint8_t *data, uint32_t len) {
    if (s->err)
        return take_error(s);
    if (s->wr_shut || (!s->connected && s->eof))
        return -EPIPE;
    if (!s->connected || !s->pcb.tcp)
        return -ENOTCONN;
    struct tcp_pcb *pcb = s->pcb.tcp;
    uint32_t n = len < tcp_sndbuf(pcb) ? len : tcp_sndbuf(pcb);
    while (n > 0 && tcp_write(pcb, data, (u16_t)(n > 0xffff ? 0xffff : n), TCP_WRITE_FLAG_COPY) != ERR_OK)
        n /= 2;
    if (n > 0xffff)
        n = 0xffff;
    touch(s);
    if (n == 0)
        return len == 0 ? 0 : -EAGAIN;
    tcp_output(pcb);
    return n;
}

static long udp_send_op(struct msock *s, struct nxs_msg *m, const uint8_t *data) {
    if (s->err)
        return take_error(s);
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)m->len, PBUF_RAM);
    if (!p)
        return -ENOBUFS;
    memcpy(p->payload, data, m->len);
    err_t e;
    if (m->addr_len) {
        ip_addr_t ip;
        u16_t port;
        int err = decode_addr(s, m, &ip, &port);
        if (err) {
            pbuf_free(p);
            return err;
        }
        e = udp_sendto(s->pcb.udp, p, &ip, port);
    } else if (s->pcb.udp->flags & UDP_FLAGS_CONNECTED) {
        e = udp_send(s->pcb.udp, p);
    } else {
        pbuf_free(p);
        return -EDESTADDRREQ;
    }
    pbuf_free(p);
    return e == ERR_OK ? (long)m->len : -errno_of(e);
}

static long op_send(struct msock *s, struct nxs_msg *m, const uint8_t *data) {
    if (s->type == SOCK_DGRAM)
        return m->len > 65507 ? -EMSGSIZE : udp_send_op(s, m, data);
    return tcp_send_op(s, data, m->len);
}

static long tcp_recv_op(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    if (s->rx) {
        uint32_t n = m->len < s->rx->tot_len ? m->len : s->rx->tot_len;
        pbuf_copy_partial(s->rx, data, (u16_t)n, 0);
        if (!(m->flags & MSG_PEEK)) {
            s->rx = pbuf_free_header(s->rx, (u16_t)n);
            if (s->pcb.tcp)
                tcp_recved(s->pcb.tcp, (u16_t)n);
        }
        touch(s);
        return n;
    }
    if (s->err)
        return take_error(s);
    if (s->eof || s->rd_shut)
        return 0;
    if (!s->connected)
        return -ENOTCONN;
    return -EAGAIN;
}

static long udp_recv_op(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    if (!s->dq_count)
        return s->err ? take_error(s) : -EAGAIN;
    struct dgram *d = &s->dq[s->dq_head];
    uint32_t n = m->len < d->p->tot_len ? m->len : d->p->tot_len;
    pbuf_copy_partial(d->p, data, (u16_t)n, 0);
    reply_addr(m, &d->from, d->port, s->family);
    m->arg[0] = d->p->tot_len; /* the datagram's real length (MSG_TRUNC) */
    if (!(m->flags & MSG_PEEK)) {
        pbuf_free(d->p);
        s->dq_head = (s->dq_head + 1) % UDP_QUEUE;
        s->dq_count--;
        touch(s);
    }
    return n;
}

static long op_recv(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    long n = s->type == SOCK_DGRAM ? udp_recv_op(s, m, data) : tcp_recv_op(s, m, data);
    m->len = n > 0 ? (uint32_t)n : 0;
    return n;
}

static long op_shutdown(struct msock *s, struct nxs_msg *m) {
    unsigned how = m->arg[0];
    if (how > SHUT_RDWR)
        return -EINVAL;
    if (s->type != SOCK_STREAM || !s->connected)
        return -ENOTCONN;
    int rd = how != SHUT_WR, wr = how != SHUT_RD;
    if (rd) {
        s->rd_shut = 1;
        if (s->rx && s->pcb.tcp)
            tcp_recved(s->pcb.tcp, s->rx->tot_len);
        drop_rx(s);
    }
    if (wr && !s->wr_shut && s->pcb.tcp) {
        s->wr_shut = 1;
        tcp_shutdown(s->pcb.tcp, 0, 1);
    }
    touch(s);
    return 0;
}

static long op_close(struct msock *s) {
    sock_release(s);
    return 0;
}

static int int_value(const struct nxs_msg *m, const uint8_t *data, int *v) {
    if (m->len < 4)
        return -EINVAL;
    memcpy(v, data, 4);
    return 0;
}

static struct ip_pcb *ip_part(struct msock *s) {
    return s->type == SOCK_STREAM ? (struct ip_pcb *)(void *)s->pcb.tcp : (struct ip_pcb *)(void *)s->pcb.udp;
}

static long op_setsockopt(struct msock *s, struct nxs_msg *m, const uint8_t *data) {
    uint32_t level = m->arg[0], name = m->arg[1];
    int v;
    if (int_value(m, data, &v) && !(level == SOL_SOCKET && name == SO_LINGER))
        return -EINVAL;
    if (!s->pcb.tcp)
        return s->err ? -s->err : -EINVAL;
    struct tcp_pcb *tcp = s->type == SOCK_STREAM ? s->pcb.tcp : NULL;
    if (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_BROADCAST || name == SO_KEEPALIVE)) {
        u8_t opt = name == SO_REUSEADDR ? SOF_REUSEADDR : name == SO_BROADCAST ? SOF_BROADCAST : SOF_KEEPALIVE;
        if (v)
            ip_set_option(ip_part(s), opt);
        else
            ip_reset_option(ip_part(s), opt);
        return 0;
    }
    if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF || name == SO_LINGER))
        return 0; /* accepted; lwIP's buffers are fixed at build time */
    if (level == IPPROTO_TCP && name == TCP_NODELAY && tcp) {
        if (v)
            tcp_nagle_disable(tcp);
        else
            tcp_nagle_enable(tcp);
        return 0;
    }
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY)
        return 0;
    return -ENOPROTOOPT;
}

static long op_getsockopt(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    uint32_t level = m->arg[0], name = m->arg[1];
    int v;
    if (level == SOL_SOCKET && name == SO_ERROR) {
        v = s->err;
        s->err = 0;
        touch(s);
    } else if (level == SOL_SOCKET && name == SO_TYPE) {
        v = s->type;
    } else if (level == SOL_SOCKET && name == SO_SNDBUF) {
        v = TCP_SND_BUF;
    } else if (level == SOL_SOCKET && name == SO_RCVBUF) {
        v = TCP_WND;
    } else if (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_KEEPALIVE || name == SO_BROADCAST)) {
        u8_t opt = name == SO_REUSEADDR ? SOF_REUSEADDR : name == SO_BROADCAST ? SOF_BROADCAST : SOF_KEEPALIVE;
        v = s->pcb.tcp ? ip_get_option(ip_part(s), opt) != 0 : 0;
    } else if (level == IPPROTO_TCP && name == TCP_NODELAY && s->type == SOCK_STREAM) {
        v = s->pcb.tcp ? tcp_nagle_disabled(s->pcb.tcp) != 0 : 0;
    } else {
        return -ENOPROTOOPT;
    }
    if (m->len < 4)
        return -EINVAL;
    memcpy(data, &v, 4);
    m->len = 4;
    return 4;
}

static long op_sockname(struct msock *s, struct nxs_msg *m, int peer) {
    if (!s->pcb.tcp)
        return peer ? -ENOTCONN : -EINVAL;
    if (s->type == SOCK_STREAM) {
        struct tcp_pcb *p = s->pcb.tcp;
        if (peer && !s->connected)
            return -ENOTCONN;
        if (peer)
            reply_addr(m, &p->remote_ip, p->remote_port, s->family);
        else
            reply_addr(m, &p->local_ip, p->local_port, s->family);
    } else {
        struct udp_pcb *p = s->pcb.udp;
        if (peer && !(p->flags & UDP_FLAGS_CONNECTED))
            return -ENOTCONN;
        if (peer)
            reply_addr(m, &p->remote_ip, p->remote_port, s->family);
        else
            reply_addr(m, &p->local_ip, p->local_port, s->family);
    }
    if (!peer && s->family == AF_INET6 && IP_IS_ANY_TYPE_VAL(s->pcb.tcp->local_ip)) {
        static const ip_addr_t any6 = IPADDR6_INIT(0, 0, 0, 0);
        reply_addr(m, &any6, s->type == SOCK_STREAM ? s->pcb.tcp->local_port : s->pcb.udp->local_port, s->family);
    }
    return 0;
}

/* ---- name lookups ---- */

static void complete(struct link_state *l, uint32_t slot, const struct nxs_msg *m);

static void finish_lookup(struct lookup *q, const ip_addr_t *ip) {
    struct nxs_msg *m = &q->msg;
    if (!ip) {
        m->result = -ENOENT;
        m->len = 0;
    } else {
        struct nxs_addr a;
        from_ip(ip, 0, IP_IS_V4(ip) ? AF_INET : AF_INET6, &a);
        memcpy(slot_data(q->link, q->slot), &a, sizeof a);
        m->len = sizeof a;
        m->result = 1;
    }
    complete(q->link, q->slot, m);
    q->link = NULL;
}

static void on_dns_found(const char *name, const ip_addr_t *ip, void *arg) {
    (void)name;
    struct lookup *q = arg;
    if (q->link)
        finish_lookup(q, ip);
}

/* Returns 1 if the reply was deferred. */
static int op_resolve(struct link_state *l, uint32_t slot, struct nxs_msg *m, long *result) {
    char name[DNS_MAX_NAME_LENGTH];
    if (m->len == 0 || m->len >= sizeof name) {
        *result = -EINVAL;
        return 0;
    }
    memcpy(name, slot_data(l, slot), m->len);
    name[m->len] = 0;
    if (memchr(name, 0, m->len)) {
        *result = -EINVAL;
        return 0;
    }
    struct lookup *q = NULL;
    for (int i = 0; i < MAX_LOOKUPS && !q; i++)
        if (!lookups[i].link)
            q = &lookups[i];
    if (!q) {
        *result = -EAGAIN;
        return 0;
    }
    u8_t type = m->arg[0] == AF_INET6 ? LWIP_DNS_ADDRTYPE_IPV6 : m->arg[0] == AF_INET ? LWIP_DNS_ADDRTYPE_IPV4 : LWIP_DNS_ADDRTYPE_IPV4_IPV6;
    ip_addr_t ip;
    q->link = l;
    q->slot = slot;
    q->msg = *m;
    err_t e = dns_gethostbyname_addrtype(name, &ip, on_dns_found, q, type);
    if (e == ERR_INPROGRESS)
        return 1;
    if (e == ERR_OK) {
        finish_lookup(q, &ip);
        return 1; /* already completed */
    }
    q->link = NULL;
    *result = e == ERR_VAL ? -EAGAIN : -ENOENT; /* ERR_VAL: no DNS server known yet */
    return 0;
}

/* ---- request loop ---- */

static void complete(struct link_state *l, uint32_t slot, const struct nxs_msg *m) {
    memcpy(slot_msg(l, slot), m, sizeof *m);
    struct ion_desc d = {slot, 0, 0};
    if (ion_ring_enqueue(&l->completions, &d) != ION_RING_OK)
        stats.completions_lost++; /* the app let its own ring fill or broke it */
    l->completed = 1;
}

static long dispatch(struct link_state *l, uint32_t slot, struct nxs_msg *m) {
    uint8_t *data = slot_data(l, slot);
    if (m->op == NXS_OP_SOCKET)
        return op_socket(l, m);
    struct msock *s = &l->socks[m->sock];
    if (!s->used || s->embryonic)
        return -EBADF;
    switch (m->op) {
    case NXS_OP_BIND: return op_bind(s, m);
    case NXS_OP_LISTEN: return op_listen(s, m);
    case NXS_OP_ACCEPT: return op_accept(s, m);
    case NXS_OP_CONNECT: return op_connect(s, m);
    case NXS_OP_SEND: return op_send(s, m, data);
    case NXS_OP_RECV: return op_recv(s, m, data);
    case NXS_OP_SHUTDOWN: return op_shutdown(s, m);
    case NXS_OP_CLOSE: return op_close(s);
    case NXS_OP_SETSOCKOPT: return op_setsockopt(s, m, data);
    case NXS_OP_GETSOCKOPT: return op_getsockopt(s, m, data);
    case NXS_OP_GETSOCKNAME: return op_sockname(s, m, 0);
    case NXS_OP_GETPEERNAME: return op_sockname(s, m, 1);
    default: return -ENOSYS;
    }
}

/* Which ops take an address from the app, and which put bytes in the slot's data. */
static const uint8_t op_takes_addr[NXS_OP_COUNT] = {[NXS_OP_BIND] = 1, [NXS_OP_CONNECT] = 1, [NXS_OP_SEND] = 1};
static const uint8_t op_returns_data[NXS_OP_COUNT] = {[NXS_OP_RECV] = 1, [NXS_OP_GETSOCKOPT] = 1};

static void handle_request(struct link_state *l, uint32_t slot) {
    struct nxs_msg m;
    memcpy(&m, slot_msg(l, slot), sizeof m); /* the app can still write the slot: use the copy */
    long result = nxs_msg_check(&m);
    if (result == 0) {
        if (!op_takes_addr[m.op])
            m.addr_len = 0;
        if (m.op == NXS_OP_RESOLVE) {
            if (op_resolve(l, slot, &m, &result))
                return;
        } else {
            result = dispatch(l, slot, &m);
        }
    }
    stats.requests++;
    if (result < 0)
        stats.errors++;
    if (result < 0 || m.op >= NXS_OP_COUNT || !op_returns_data[m.op])
        m.len = 0;
    if (m.op < NXS_OP_COUNT && op_takes_addr[m.op])
        m.addr_len = 0;
    m.result = result;
    complete(l, slot, &m);
}

/* Both rings empty and every status word clear, for a new Membrane or a new app. */
static void start_link_over(struct link_state *l) {
    ion_ring_init(&l->requests, l->base + NXS_OFF_REQUESTS, NXS_RING_CAPACITY);
    ion_ring_init(&l->completions, l->base + NXS_OFF_COMPLETIONS, NXS_RING_CAPACITY);
    for (int k = 0; k < NXS_SOCKETS; k++)
        __atomic_store_n(&l->hdr->status[k], 0, __ATOMIC_RELAXED);
    __atomic_fetch_add(&l->hdr->status_seq, 1, __ATOMIC_RELEASE);
}

/* The link's app started again (sockproto.h, app_start): close whatever its predecessor left,
 * forget its lookups, start both rings over, then tell the app it may call. */
static void restart_app_side(struct link_state *l, uint32_t start) {
    for (int k = 0; k < NXS_SOCKETS; k++)
        if (l->socks[k].used && !l->socks[k].embryonic)
            sock_release(&l->socks[k]); /* a listener takes its embryonic sockets along */
    for (int k = 0; k < NXS_SOCKETS; k++)
        if (l->socks[k].used)
            sock_release(&l->socks[k]);
    for (unsigned q = 0; q < MAX_LOOKUPS; q++)
        if (lookups[q].link == l)
            lookups[q].link = NULL;
    start_link_over(l);
    __atomic_store_n(&l->hdr->app_start_ack, start, __ATOMIC_RELEASE);
    stats.app_restarts++;
    nx_signal((int)l->info.peer_channel);
}

unsigned sockserver_poll(void) {
    unsigned work = 0;
    for (unsigned i = 0; i < nlinks; i++) {
        struct link_state *l = &links[i];
        struct ion_desc d;
        int r;
        uint32_t start = __atomic_load_n(&l->hdr->app_start, __ATOMIC_ACQUIRE);
        if (start != l->app_start_seen) {
            l->app_start_seen = start;
            restart_app_side(l, start);
            work++;
        }
        while ((r = ion_ring_dequeue(&l->requests, &d)) == ION_RING_OK) {
            work++;
            if (d.handle >= NXS_SLOTS) {
                stats.bad_slots++;
                continue;
            }
            handle_request(l, d.handle);
        }
        if (r == ION_RING_CORRUPT) {
            /* The app broke its own request ring: start it over empty. Its calls fail. */
            stats.bad_rings++;
            ion_ring_init(&l->requests, l->base + NXS_OFF_REQUESTS, NXS_RING_CAPACITY);
        }
    }
    return work;
}

void sockserver_flush(void) {
    for (unsigned i = 0; i < nlinks; i++) {
        struct link_state *l = &links[i];
        int changed = 0;
        if (l->dirty) {
            l->dirty = 0;
            for (int k = 0; k < NXS_SOCKETS; k++) {
                struct msock *s = &l->socks[k];
                if (!s->dirty)
                    continue;
                s->dirty = 0;
                uint32_t ev = status_of(s);
                if (__atomic_load_n(&l->hdr->status[k], __ATOMIC_RELAXED) != ev) {
                    __atomic_store_n(&l->hdr->status[k], ev, __ATOMIC_RELAXED);
                    changed = 1;
                }
            }
        }
        if (changed)
            __atomic_fetch_add(&l->hdr->status_seq, 1, __ATOMIC_RELEASE);
        if (!changed && !l->completed)
            continue;
        l->completed = 0;
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* statuses before the flag: see sockproto.h */
        if (__atomic_exchange_n(&l->hdr->app_waiting, 0, __ATOMIC_SEQ_CST))
            nx_signal((int)l->info.peer_channel);
    }
}

int sockserver_sleep_prepare(void) {
    for (unsigned i = 0; i < nlinks; i++)
        if (!ion_ring_consumer_sleep_prepare(&links[i].requests))
            return 0;
    return 1;
}

uint64_t sockserver_wait_mask(void) {
    uint64_t mask = 0;
    for (unsigned i = 0; i < nlinks; i++)
        mask |= 1ull << links[i].info.wait_channel;
    return mask;
}

unsigned sockserver_attach(void) {
    struct nexus_link_info info;
    for (unsigned i = 0; nlinks < MAX_LINKS && nx_link_info(i, &info) == 0; i++) {
        if (!info.is_server || info.size < NXS_LINK_BYTES)
            continue;
        struct link_state *l = &links[nlinks++];
        l->info = info;
        l->base = (uint8_t *)info.va;
        l->hdr = (struct nxs_header *)(l->base + NXS_OFF_HEADER);
        start_link_over(l);
        l->hdr->magic = NXS_MAGIC;
        /* Whatever app is there now starts fresh with us: nothing to clean up. */
        l->app_start_seen = __atomic_load_n(&l->hdr->app_start, __ATOMIC_ACQUIRE);
        __atomic_store_n(&l->hdr->app_start_ack, l->app_start_seen, __ATOMIC_RELEASE);
        /* A new epoch tells the app that sockets of an earlier Membrane are gone. */
        uint32_t epoch = l->hdr->epoch + 1;
        __atomic_store_n(&l->hdr->epoch, epoch ? epoch : 1, __ATOMIC_RELEASE);
        nx_signal((int)info.peer_channel);
    }
    return nlinks;
}

const struct sockserver_stats *sockserver_stats(void) { return &stats; }
