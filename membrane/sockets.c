/*
 * The socket table of each link and the socket protocol's operations that are not TCP's or
 * UDP's alone (sockets.h). Nothing an app writes is trusted: the link server hands over a
 * checked copy of each request, socket numbers index the app's own table, and data lengths are
 * bounded by the slot.
 */
#include "sockets.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link/server.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "nexus/syscall.h"
#include "send_area.h"

/* The socket constants are the apps' own: lib/libnexus/include (Linux values). */
#define TYPE_MASK 0xf /* SOCK_NONBLOCK/SOCK_CLOEXEC are libnexus's business */

/* A row of NXS_SOCKETS per link served, from the heap once the links are known
 * (sockets_attach): the default manifest gives the Membrane 3 of the system's 16 possible
 * links, and a static table for 16 was 147 KB of bss on every start (36 pages of an 8 MiB
 * machine). */
static struct msock (*socks)[NXS_SOCKETS];
static unsigned links;
struct sockets_stats sockets_counters;

struct msock *sock_at(unsigned link, int k) { return &socks[link][k]; }

int sock_number(const struct msock *s) { return (int)(s - socks[s->link]); }

void touch(struct msock *s) { link_server_touch(s->link, sock_number(s)); }

static void touch_number(unsigned link, unsigned k) {
    if (link < links && k < NXS_SOCKETS)
        link_server_touch(link, (int)k);
}

void sockets_wake_starved(void) {
    for (unsigned l = 0; l < links; l++)
        for (int k = 0; k < NXS_SOCKETS; k++)
            if (socks[l][k].send_starved) {
                socks[l][k].send_starved = 0;
                touch(&socks[l][k]);
            }
}

int errno_of(err_t e) {
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

long take_error(struct msock *s) {
    int e = s->err;
    s->err = 0;
    touch(s);
    return -e;
}

/* ---- addresses ---- */

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
        /* A link-local or other scoped address needs a zone for lwIP to route it. The Membrane
         * has one link: scope id 0 means that link (an app need not know its index), its own
         * index is accepted, any other is no such device. A global address gets no zone. */
        ip6_addr_clear_zone(ip_2_ip6(ip));
        if (netif_default && ip6_addr_has_scope(ip_2_ip6(ip), IP6_UNKNOWN)) {
            if (a->scope != 0 && a->scope != netif_get_index(netif_default))
                return -ENODEV;
            ip6_addr_assign_zone(ip_2_ip6(ip), IP6_UNKNOWN, netif_default);
        }
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
void from_ip(const ip_addr_t *ip, u16_t port, int family, struct nxs_addr *out) {
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
        if (ip6_addr_has_zone(ip_2_ip6(ip)))
            out->scope = ip6_addr_zone(ip_2_ip6(ip));
    }
}

void reply_addr(struct nxs_msg *m, const ip_addr_t *ip, u16_t port, int family) {
    struct nxs_addr a;
    from_ip(ip, port, family, &a);
    m->addr_len = nxs_addr_encode(&a, m->addr, NXS_ADDR_MAX);
}

int decode_addr(const struct msock *s, const struct nxs_msg *m, ip_addr_t *ip, u16_t *port) {
    struct nxs_addr a;
    int err = nxs_addr_decode(m->addr, m->addr_len, &a);
    if (err)
        return err;
    if (s->family == AF_INET && a.family != AF_INET)
        return -EAFNOSUPPORT;
    *port = a.port;
    return to_ip(&a, ip);
}

/* ---- the table ---- */

struct msock *sock_alloc(unsigned link) {
    for (int i = 0; i < NXS_SOCKETS; i++) {
        struct msock *s = &socks[link][i];
        if (!s->used) {
            memset(s, 0, sizeof *s);
            s->used = 1;
            s->link = (uint8_t)link;
            touch(s);
            return s;
        }
    }
    return NULL;
}

int pool_take(uint8_t *used, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        if (!used[i]) {
            used[i] = 1;
            return (int)i;
        }
    return -1;
}

void sock_release(struct msock *s) {
    if (s->type == SOCK_STREAM)
        tcp_sock_close(s);
    else
        udp_sock_close(s);
    send_area_disown(s->link, (unsigned)sock_number(s));
    s->used = 0;
    touch(s);
}

static uint32_t status(unsigned link, int k) {
    const struct msock *s = &socks[link][k];
    if (!s->used || s->embryonic || s->orphan)
        return 0;
    uint32_t ev = NXS_EV_OPEN | (s->err ? NXS_EV_ERR : 0);
    return ev | (s->type == SOCK_DGRAM ? udp_sock_status(s) : tcp_sock_status(s));
}

/* ---- operations on any socket ---- */

static long op_socket(unsigned link, struct nxs_msg *m) {
    int family = (int)m->arg[0], type = (int)(m->arg[1] & TYPE_MASK), proto = (int)m->arg[2];
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return -EINVAL;
    if (proto != 0 && proto != (type == SOCK_STREAM ? 6 : 17))
        return -EPROTONOSUPPORT;
    struct msock *s = sock_alloc(link);
    if (!s)
        return -EMFILE;
    s->type = (uint8_t)type;
    s->family = (uint8_t)family;
    u8_t iptype = family == AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY;
    int ok = type == SOCK_STREAM ? tcp_sock_open(s, iptype) : udp_sock_open(s, iptype);
    if (!ok) {
        s->used = 0;
        return -ENOBUFS;
    }
    return sock_number(s);
}

static long op_bind(struct msock *s, const ip_addr_t *at, u16_t port) {
    /* :: takes IPv4 too (dual stack) unless IPV6_V6ONLY */
    const ip_addr_t *ip = s->family == AF_INET6 && ip_addr_isany(at) ? (s->v6only ? IP6_ADDR_ANY : IP_ANY_TYPE) : at;
    if (s->type == SOCK_STREAM) {
        if (!s->pcb.tcp || s->listening || s->connected)
            return -EINVAL;
        return -errno_of(tcp_bind(s->pcb.tcp, ip, port));
    }
    return -errno_of(udp_bind(s->pcb.udp, ip, port));
}

static long op_close(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)m;
    (void)data;
    sock_release(s);
    return 0;
}

static long op_close_tcp(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    long linger_s = m->flags & NXS_CLOSE_LINGER ? tcp_sock_linger(s) : 0;
    if (linger_s)
        return linger_s;
    return tcp_sock_orphan(s) ? 0 : op_close(s, m, data);
}

static long op_unsupported(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)s;
    (void)m;
    (void)data;
    return -EOPNOTSUPP;
}

static long op_not_listening(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)s;
    (void)m;
    (void)data;
    return -EINVAL;
}

static long udp_shutdown(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)s;
    (void)data;
    return m->arg[0] > SHUT_RDWR ? -EINVAL : -ENOTCONN; /* a datagram socket has no connection */
}

/* ---- socket options: a table of what each does on set and on get ---- */

static struct ip_pcb *ip_part(struct msock *s) {
    return s->type == SOCK_STREAM ? (struct ip_pcb *)(void *)s->pcb.tcp : (struct ip_pcb *)(void *)s->pcb.udp;
}

/* A value as the app gave it or gets it: an int, or a struct linger. */
struct optval {
    int v[2];
};

struct option;
typedef long (*opt_set)(struct msock *s, const struct option *o, const struct optval *in);
typedef long (*opt_get)(struct msock *s, const struct option *o, struct optval *out);

struct option {
    uint32_t level, name;
    uint8_t stream_only; /* a TCP option: ENOPROTOOPT on UDP, as Linux */
    uint8_t size;        /* the value's bytes: 4 (int) or 8 (struct linger) */
    u8_t pcb_flag;       /* for the flags lwIP keeps on every pcb */
    opt_set set;         /* NULL: read-only, ENOPROTOOPT as Linux */
    opt_get get;
};

static long set_flag(struct msock *s, const struct option *o, const struct optval *in) {
    if (in->v[0])
        ip_set_option(ip_part(s), o->pcb_flag);
    else
        ip_reset_option(ip_part(s), o->pcb_flag);
    return 0;
}

static long get_flag(struct msock *s, const struct option *o, struct optval *out) {
    out->v[0] = s->pcb.tcp && ip_get_option(ip_part(s), o->pcb_flag) != 0;
    return 0;
}

static long get_type(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = s->type;
    return 0;
}

static long get_error(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = s->err;
    s->err = 0;
    touch(s);
    return 0;
}

static long get_acceptconn(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = s->listening;
    return 0;
}

/* SO_SNDBUF/SO_RCVBUF: bounded to what lwIP has (a request past it gets the most, as Linux
 * caps at its maximum), and at least one segment. */
#define BUF_MIN TCP_MSS
#define UDP_RCVBUF_MAX (UDP_QUEUE * 65535u)

static uint32_t bounded(int v, uint32_t max) {
    return v < BUF_MIN ? BUF_MIN : (uint32_t)v > max ? max : (uint32_t)v;
}

static long set_sndbuf(struct msock *s, const struct option *o, const struct optval *in) {
    (void)o;
    if (s->type == SOCK_STREAM)
        tcp_sock_set_sndbuf(s, bounded(in->v[0], TCP_SND_BUF));
    else
        s->sndbuf = bounded(in->v[0], 65535); /* UDP sends complete at once: nothing waits */
    return 0;
}

static long get_sndbuf(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = s->sndbuf ? s->sndbuf : s->type == SOCK_STREAM ? TCP_SND_BUF : 65535;
    return 0;
}

static long set_rcvbuf(struct msock *s, const struct option *o, const struct optval *in) {
    (void)o;
    if (s->type == SOCK_STREAM)
        tcp_sock_set_rcvbuf(s, bounded(in->v[0], TCP_WND));
    else
        s->rcvbuf = bounded(in->v[0], UDP_RCVBUF_MAX);
    touch(s);
    return 0;
}

static long get_rcvbuf(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = (int)(s->rcvbuf ? s->rcvbuf : s->type == SOCK_STREAM ? TCP_WND : UDP_RCVBUF_MAX);
    return 0;
}

static long set_linger(struct msock *s, const struct option *o, const struct optval *in) {
    (void)o;
    s->linger_on = in->v[0] != 0;
    s->linger_s = in->v[1] < 0 ? 0 : in->v[1] > 65535 ? 65535 : (uint16_t)in->v[1];
    return 0;
}

static long get_linger(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = s->linger_on;
    out->v[1] = s->linger_s;
    return 0;
}

static long set_nodelay(struct msock *s, const struct option *o, const struct optval *in) {
    (void)o;
    if (s->listening)
        s->nodelay = in->v[0] != 0; /* lwIP's listening pcb has no flags: kept for accept */
    else if (in->v[0])
        tcp_nagle_disable(s->pcb.tcp);
    else
        tcp_nagle_enable(s->pcb.tcp);
    return 0;
}

static long get_nodelay(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    out->v[0] = s->listening ? s->nodelay : s->pcb.tcp && tcp_nagle_disabled(s->pcb.tcp) != 0;
    return 0;
}

static long set_keepalive_param(struct msock *s, const struct option *o, const struct optval *in) {
    return tcp_sock_set_keepalive(s, o->name, in->v[0]);
}

static long get_keepalive_param(struct msock *s, const struct option *o, struct optval *out) {
    return tcp_sock_get_keepalive(s, o->name, &out->v[0]);
}

/* IPV6_V6ONLY: takes effect at bind (op_bind), as on Linux; EINVAL once bound. */
static long set_v6only(struct msock *s, const struct option *o, const struct optval *in) {
    (void)o;
    if (s->family != AF_INET6)
        return -ENOPROTOOPT; /* an IPv6 option on an IPv4 socket, as Linux */
    if (s->type == SOCK_STREAM ? s->pcb.tcp->local_port : s->pcb.udp->local_port)
        return -EINVAL;
    s->v6only = in->v[0] != 0;
    return 0;
}

static long get_v6only(struct msock *s, const struct option *o, struct optval *out) {
    (void)o;
    if (s->family != AF_INET6)
        return -ENOPROTOOPT;
    out->v[0] = s->v6only;
    return 0;
}

/* Everything else (Linux's other options included) is ENOPROTOOPT: never accepted unheeded. */
static const struct option options[] = {
    {SOL_SOCKET, SO_REUSEADDR, 0, 4, SOF_REUSEADDR, set_flag, get_flag},
    {SOL_SOCKET, SO_BROADCAST, 0, 4, SOF_BROADCAST, set_flag, get_flag},
    {SOL_SOCKET, SO_KEEPALIVE, 0, 4, SOF_KEEPALIVE, set_flag, get_flag},
    {SOL_SOCKET, SO_TYPE, 0, 4, 0, NULL, get_type},
    {SOL_SOCKET, SO_ERROR, 0, 4, 0, NULL, get_error},
    {SOL_SOCKET, SO_ACCEPTCONN, 0, 4, 0, NULL, get_acceptconn},
    {SOL_SOCKET, SO_SNDBUF, 0, 4, 0, set_sndbuf, get_sndbuf},
    {SOL_SOCKET, SO_RCVBUF, 0, 4, 0, set_rcvbuf, get_rcvbuf},
    {SOL_SOCKET, SO_LINGER, 0, 8, 0, set_linger, get_linger},
    {IPPROTO_TCP, TCP_NODELAY, 1, 4, 0, set_nodelay, get_nodelay},
    {IPPROTO_TCP, TCP_KEEPIDLE, 1, 4, 0, set_keepalive_param, get_keepalive_param},
    {IPPROTO_TCP, TCP_KEEPINTVL, 1, 4, 0, set_keepalive_param, get_keepalive_param},
    {IPPROTO_TCP, TCP_KEEPCNT, 1, 4, 0, set_keepalive_param, get_keepalive_param},
    {IPPROTO_IPV6, IPV6_V6ONLY, 0, 4, 0, set_v6only, get_v6only},
};

/* The option, or NULL; *other_level: it is a TCP option and s is not TCP. */
static const struct option *find_option(const struct msock *s, uint32_t level, uint32_t name, int *other_level) {
    *other_level = level == IPPROTO_TCP && s->type != SOCK_STREAM;
    for (unsigned i = 0; i < sizeof options / sizeof options[0]; i++)
        if (options[i].level == level && options[i].name == name)
            return options[i].stream_only && s->type != SOCK_STREAM ? NULL : &options[i];
    return NULL;
}

static long op_setsockopt(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    int other_level;
    const struct option *o = find_option(s, m->arg[0], m->arg[1], &other_level);
    if (!o || !o->set)
        return -ENOPROTOOPT;
    if (m->len < o->size)
        return -EINVAL;
    if (!s->pcb.tcp) /* the connection broke */
        return s->err ? -s->err : -EINVAL;
    struct optval in;
    memcpy(&in, data, o->size);
    return o->set(s, o, &in);
}

static long op_getsockopt(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    int other_level;
    const struct option *o = find_option(s, m->arg[0], m->arg[1], &other_level);
    if (!o || !o->get)
        return other_level ? -EOPNOTSUPP : -ENOPROTOOPT; /* Linux's getsockopt says so for a level not the protocol's */
    struct optval out = {{0, 0}};
    long err = o->get(s, o, &out);
    if (err)
        return err;
    if (m->len < o->size)
        return -EINVAL;
    memcpy(data, &out, o->size);
    m->len = o->size;
    return o->size;
}

static long sockname(struct msock *s, struct nxs_msg *m, int peer) {
    if (!s->pcb.tcp)
        return peer ? -ENOTCONN : -EINVAL;
    const ip_addr_t *local_ip, *remote_ip;
    u16_t local_port, remote_port;
    int connected;
    if (s->type == SOCK_STREAM) {
        struct tcp_pcb *p = s->pcb.tcp;
        local_ip = &p->local_ip, remote_ip = &p->remote_ip;
        local_port = p->local_port, remote_port = p->remote_port;
        connected = s->connected;
    } else {
        struct udp_pcb *p = s->pcb.udp;
        local_ip = &p->local_ip, remote_ip = &p->remote_ip;
        local_port = p->local_port, remote_port = p->remote_port;
        connected = (p->flags & UDP_FLAGS_CONNECTED) != 0;
    }
    if (peer && !connected)
        return -ENOTCONN;
    if (peer)
        reply_addr(m, remote_ip, remote_port, s->family);
    else if (s->family == AF_INET6 && IP_IS_ANY_TYPE_VAL(*local_ip)) {
        static const ip_addr_t any6 = IPADDR6_INIT(0, 0, 0, 0);
        reply_addr(m, &any6, local_port, s->family);
    } else
        reply_addr(m, local_ip, local_port, s->family);
    return 0;
}

static long op_getsockname(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)data;
    return sockname(s, m, 0);
}

static long op_getpeername(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)data;
    return sockname(s, m, 1);
}

/* What each operation on an open socket does, by socket type. Operations that name an address
 * (tcp_at, udp_at) get it decoded for the socket's family first. */
static const struct {
    sock_op tcp, udp;
    sock_addr_op tcp_at, udp_at;
} ops[NXS_OP_COUNT] = {
    [NXS_OP_BIND] = {.tcp_at = op_bind, .udp_at = op_bind},
    [NXS_OP_LISTEN] = {tcp_sock_listen, op_unsupported},
    [NXS_OP_ACCEPT] = {tcp_sock_accept, op_not_listening},
    [NXS_OP_CONNECT] = {.tcp_at = tcp_sock_connect, .udp_at = udp_sock_connect},
    [NXS_OP_SEND] = {tcp_sock_send, udp_sock_send},
    [NXS_OP_RECV] = {tcp_sock_recv, udp_sock_recv},
    [NXS_OP_SHUTDOWN] = {tcp_sock_shutdown, udp_shutdown},
    [NXS_OP_CLOSE] = {op_close_tcp, op_close},
    [NXS_OP_SETSOCKOPT] = {op_setsockopt, op_setsockopt},
    [NXS_OP_GETSOCKOPT] = {op_getsockopt, op_getsockopt},
    [NXS_OP_GETSOCKNAME] = {op_getsockname, op_getsockname},
    [NXS_OP_GETPEERNAME] = {op_getpeername, op_getpeername},
    [NXS_OP_READABLE] = {tcp_sock_readable, udp_sock_readable},
};

/* Which ops take an address from the app, and which put bytes in the slot's data. */
static const uint8_t op_takes_addr[NXS_OP_COUNT] = {[NXS_OP_BIND] = 1, [NXS_OP_CONNECT] = 1, [NXS_OP_SEND] = 1};
static const uint8_t op_returns_data[NXS_OP_COUNT] = {[NXS_OP_RECV] = 1, [NXS_OP_GETSOCKOPT] = 1};

static long dispatch(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data) {
    if (m->op == NXS_OP_SOCKET)
        return op_socket(link, m);
    if (m->op == NXS_OP_RESOLVE)
        return dns_resolve(link, slot, m, data);
    struct msock *s = &socks[link][m->sock];
    if (!s->used || s->embryonic || s->orphan)
        return -EBADF;
    int udp = s->type == SOCK_DGRAM;
    if (slot == NXS_POST_SLOT) /* nxs_post_check let only a send from the send area through */
        return udp ? -EINVAL : tcp_sock_post(s, m, data);
    sock_addr_op at = udp ? ops[m->op].udp_at : ops[m->op].tcp_at;
    if (at) {
        ip_addr_t ip;
        u16_t port;
        int err = decode_addr(s, m, &ip, &port);
        return err ? err : at(s, &ip, port);
    }
    sock_op op = udp ? ops[m->op].udp : ops[m->op].tcp;
    return op ? op(s, m, data) : -ENOSYS;
}

/* The payload bytes the app copied into the chunks a send lists (the rest of a send is in the
 * slot, after the list). */
static uint64_t area_bytes(const struct nxs_msg *m, const uint8_t *data) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < m->arg[0] && (i + 1) * sizeof(struct nxs_chunk) <= m->len; i++) {
        struct nxs_chunk c;
        memcpy(&c, data + i * sizeof c, sizeof c);
        n += c.len <= NXS_SEND_CHUNK ? c.len : 0;
    }
    return n;
}

static long handle(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data) {
    if (!op_takes_addr[m->op])
        m->addr_len = 0;
    if (m->op == NXS_OP_SEND) {
        uint64_t list = (uint64_t)m->arg[0] * sizeof(struct nxs_chunk);
        sockets_counters.tx_area_bytes += area_bytes(m, data);
        sockets_counters.tx_slot_bytes += list < m->len ? m->len - list : 0;
    }
    long result = dispatch(link, slot, m, data);
    if (result == LINK_DEFERRED)
        return result;
    if (!op_returns_data[m->op])
        m->len = 0;
    if (op_takes_addr[m->op])
        m->addr_len = 0; /* the request's address is not echoed */
    return result;
}

/* The link's app started again: close whatever its predecessor left, forget its lookups. */
static void app_restarted(unsigned link) {
    for (int k = 0; k < NXS_SOCKETS; k++)
        if (socks[link][k].used && !socks[link][k].embryonic)
            sock_release(&socks[link][k]); /* a listener takes its embryonic sockets along */
    for (int k = 0; k < NXS_SOCKETS; k++)
        if (socks[link][k].used)
            sock_release(&socks[link][k]);
    dns_forget(link);
}

static const struct link_service socket_service = {
    .magic = NXS_MAGIC,
    .check = nxs_msg_check,
    .check_post = nxs_post_check,
    .handle = handle,
    .app_restarted = app_restarted,
    .status = status,
};

unsigned sockets_attach(void) {
    tcp_sock_start();
    unsigned n = link_server_attach(&socket_service);
    socks = calloc(n ? n : 1, sizeof *socks);
    if (!socks) {
        printf("membrane: no memory for the sockets of %u app link(s)\n", n);
        exit(1); /* restarted per policy: a machine this small serves nothing anyway */
    }
    links = n;
    send_area_on_wait_change(touch_number);
    for (unsigned i = 0; i < n; i++)
        send_area_attach(i, link_server_base(i), link_server_id(i), link_server_size(i));
    return n;
}
