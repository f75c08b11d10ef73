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
#include <string.h>
#include <sys/socket.h>

#include "link/server.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "nexus/syscall.h"

/* The socket constants are the apps' own: lib/libnexus/include (Linux values). */
#define TYPE_MASK 0xf /* SOCK_NONBLOCK/SOCK_CLOEXEC are libnexus's business */

static struct msock socks[NEXUS_LINKS_MAX][NXS_SOCKETS];
struct sockets_stats sockets_counters;

struct msock *sock_at(unsigned link, int k) { return &socks[link][k]; }

int sock_number(const struct msock *s) { return (int)(s - socks[s->link]); }

void touch(struct msock *s) { link_server_touch(s->link, sock_number(s)); }

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
    s->used = 0;
    touch(s);
}

static uint32_t status(unsigned link, int k) {
    const struct msock *s = &socks[link][k];
    if (!s->used || s->embryonic)
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
    const ip_addr_t *ip = s->family == AF_INET6 && ip_addr_isany(at) ? IP_ANY_TYPE : at;
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

static int int_value(const struct nxs_msg *m, const uint8_t *data, int *v) {
    if (m->len < 4)
        return -EINVAL;
    memcpy(v, data, 4);
    return 0;
}

static struct ip_pcb *ip_part(struct msock *s) {
    return s->type == SOCK_STREAM ? (struct ip_pcb *)(void *)s->pcb.tcp : (struct ip_pcb *)(void *)s->pcb.udp;
}

/* The SOL_SOCKET flags lwIP keeps on every pcb. */
static int pcb_flag(uint32_t name, u8_t *opt) {
    static const struct {
        uint32_t name;
        u8_t opt;
    } flags[] = {{SO_REUSEADDR, SOF_REUSEADDR}, {SO_BROADCAST, SOF_BROADCAST}, {SO_KEEPALIVE, SOF_KEEPALIVE}};
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (flags[i].name == name) {
            *opt = flags[i].opt;
            return 1;
        }
    }
    return 0;
}

static long op_setsockopt(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    uint32_t level = m->arg[0], name = m->arg[1];
    int v;
    u8_t opt;
    if (int_value(m, data, &v) && !(level == SOL_SOCKET && name == SO_LINGER))
        return -EINVAL;
    if (!s->pcb.tcp)
        return s->err ? -s->err : -EINVAL;
    struct tcp_pcb *tcp = s->type == SOCK_STREAM ? s->pcb.tcp : NULL;
    if (level == SOL_SOCKET && pcb_flag(name, &opt)) {
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
    u8_t opt;
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
    } else if (level == SOL_SOCKET && pcb_flag(name, &opt)) {
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
    [NXS_OP_CLOSE] = {op_close, op_close},
    [NXS_OP_SETSOCKOPT] = {op_setsockopt, op_setsockopt},
    [NXS_OP_GETSOCKOPT] = {op_getsockopt, op_getsockopt},
    [NXS_OP_GETSOCKNAME] = {op_getsockname, op_getsockname},
    [NXS_OP_GETPEERNAME] = {op_getpeername, op_getpeername},
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
    if (!s->used || s->embryonic)
        return -EBADF;
    int udp = s->type == SOCK_DGRAM;
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

static long handle(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data) {
    if (!op_takes_addr[m->op])
        m->addr_len = 0;
    if (m->op == NXS_OP_SEND)
        sockets_counters.tx_slot_bytes += m->len;
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
    .handle = handle,
    .app_restarted = app_restarted,
    .status = status,
};

unsigned sockets_attach(void) { return link_server_attach(&socket_service); }
