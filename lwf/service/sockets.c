/*
 * AF_LWF sockets for apps, over the service links (lib/link/server.h) with the socket protocol
 * (nexus/sockproto.h) the Membrane speaks too, so libnexus needs nothing but a family row.
 * Datagrams only: a socket is bound to a service number; a message goes to (CellID, service)
 * and arrives with the sender's (CellID, service) (<net/lwf.h>). Received messages wait in the
 * socket's queue in buffers from a fixed pool; a full queue or pool drops the message and counts
 * it (wire_counters.queue_full): LWF, like UDP, does not promise delivery.
 */
#include <errno.h>
#include <net/lwf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link/server.h"
#include "lwfd.h"
#include "nexus.h"
#include "nexus/sockproto.h"

#define SOCKETS_PER_LINK 8
#define QUEUE_PER_SOCKET 8
#define SMALL_BUFFERS 32
#define SMALL_BUFFER_BYTES 2048
#define LARGE_BUFFERS 4
#define EPHEMERAL_FIRST 49152u

_Static_assert(SOCKETS_PER_LINK <= NXS_SOCKETS, "a socket's status word is in the link header");
_Static_assert(sizeof(struct sockaddr_lwf) <= NXS_ADDR_MAX, "an LWF address fits the request's field");
_Static_assert(LWF_MESSAGE_BYTES == LWF_MESSAGE_MAX && LWF_CELLID_BYTES == LWF_CELLID_LEN, "<net/lwf.h> agrees with the wire");

struct received {
    uint8_t *data;
    uint32_t len;
    uint16_t src_service;
    uint8_t src[LWF_CELLID_LEN];
};

struct lsock {
    bool used, bound, connected, sign;
    uint16_t service;
    uint8_t peer[LWF_CELLID_LEN];
    uint16_t peer_service;
    struct received queue[QUEUE_PER_SOCKET];
    unsigned head, len;
};

static struct lsock socks[NEXUS_LINKS_MAX][SOCKETS_PER_LINK];
static unsigned nlinks;
static const struct lwf_node *me;

static uint8_t small_pool[SMALL_BUFFERS][SMALL_BUFFER_BYTES];
/* Whole-message buffers (64 KiB each) come from the heap at their first use and stay for the
 * next: a node that only ever receives small messages never spends the 256 KiB. */
static uint8_t *large_pool[LARGE_BUFFERS];
static bool small_used[SMALL_BUFFERS], large_used[LARGE_BUFFERS];

static uint64_t now_ms(void) { return nx_clock_ns() / 1000000u; }

static uint8_t *buffer_take(uint32_t len) {
    bool small = len <= SMALL_BUFFER_BYTES;
    bool *used = small ? small_used : large_used;
    unsigned n = small ? SMALL_BUFFERS : LARGE_BUFFERS;
    for (unsigned i = 0; i < n; i++)
        if (!used[i]) {
            if (!small && !large_pool[i] && !(large_pool[i] = malloc(LWF_MESSAGE_MAX)))
                return NULL; /* no memory for it: as if all were in use */
            used[i] = true;
            return small ? small_pool[i] : large_pool[i];
        }
    return NULL;
}

static void buffer_give(uint8_t *b) {
    for (unsigned i = 0; i < SMALL_BUFFERS; i++)
        if (b == small_pool[i])
            small_used[i] = false;
    for (unsigned i = 0; i < LARGE_BUFFERS; i++)
        if (b == large_pool[i])
            large_used[i] = false;
}

static void sock_reset(struct lsock *s) {
    for (unsigned i = 0; i < s->len; i++)
        buffer_give(s->queue[(s->head + i) % QUEUE_PER_SOCKET].data);
    memset(s, 0, sizeof *s);
}

static struct lsock *bound_to(uint16_t service) {
    for (unsigned l = 0; l < nlinks; l++)
        for (unsigned k = 0; k < SOCKETS_PER_LINK; k++)
            if (socks[l][k].used && socks[l][k].bound && socks[l][k].service == service)
                return &socks[l][k];
    return NULL;
}

/* The sockaddr_lwf an app sent: 0, or -EINVAL (short) / -EAFNOSUPPORT (another family). */
static int addr_decode(const struct nxs_msg *m, uint8_t cellid[LWF_CELLID_LEN], uint16_t *service) {
    struct sockaddr_lwf a;
    if (m->addr_len < sizeof a)
        return -EINVAL;
    memcpy(&a, m->addr, sizeof a);
    if (a.slwf_family != AF_LWF)
        return -EAFNOSUPPORT;
    memcpy(cellid, a.slwf_cellid, LWF_CELLID_LEN);
    *service = a.slwf_service;
    return 0;
}

static void addr_encode(struct nxs_msg *m, const uint8_t cellid[LWF_CELLID_LEN], uint16_t service) {
    struct sockaddr_lwf a = {.slwf_family = AF_LWF, .slwf_service = service};
    memcpy(a.slwf_cellid, cellid, LWF_CELLID_LEN);
    memcpy(m->addr, &a, sizeof a);
    m->addr_len = sizeof a;
}

static int bind_service(struct lsock *s, uint16_t service) {
    if (s->bound)
        return -EINVAL;
    if (service == 0) {
        for (uint32_t p = EPHEMERAL_FIRST; p <= 0xffff && !service; p++)
            if (!bound_to((uint16_t)p))
                service = (uint16_t)p;
        if (!service)
            return -EADDRINUSE;
    } else if (bound_to(service)) {
        return -EADDRINUSE;
    }
    s->service = service;
    s->bound = true;
    return 0;
}

typedef long (*sock_op)(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data);

static long op_bind(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)data;
    uint8_t cellid[LWF_CELLID_LEN], zero[LWF_CELLID_LEN] = {0};
    uint16_t service;
    int err = addr_decode(m, cellid, &service);
    if (err)
        return err;
    if (memcmp(cellid, zero, sizeof zero) && memcmp(cellid, me->cellid, LWF_CELLID_LEN))
        return -EADDRNOTAVAIL;
    return bind_service(s, service);
}

static long op_connect(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)data;
    uint8_t cellid[LWF_CELLID_LEN];
    uint16_t service;
    int err = addr_decode(m, cellid, &service);
    if (err)
        return err;
    if (!memcmp(cellid, lwf_broadcast_cellid, LWF_CELLID_LEN) || service == 0)
        return -EINVAL;
    if (!s->bound && (err = bind_service(s, 0)) != 0)
        return err;
    memcpy(s->peer, cellid, LWF_CELLID_LEN);
    s->peer_service = service;
    s->connected = true;
    return 0;
}

static long op_send(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link;
    uint8_t dst[LWF_CELLID_LEN];
    uint16_t service;
    if (m->addr_len) {
        int err = addr_decode(m, dst, &service);
        if (err)
            return err;
        if (!memcmp(dst, lwf_broadcast_cellid, LWF_CELLID_LEN) || service == 0)
            return -EINVAL;
    } else if (s->connected) {
        memcpy(dst, s->peer, LWF_CELLID_LEN);
        service = s->peer_service;
    } else {
        return -EDESTADDRREQ;
    }
    uint32_t len = m->len;
    int err = s->bound ? 0 : bind_service(s, 0);
    if (!err)
        err = wire_send(dst, service, s->service, s->sign, data, len, now_ms());
    m->len = 0;
    return err ? err : (long)len;
}

static long op_recv(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link;
    if (!s->len)
        return -EAGAIN;
    struct received *r = &s->queue[s->head];
    uint32_t n = r->len < m->len ? r->len : m->len; /* the rest of a datagram is discarded */
    memcpy(data, r->data, n);
    addr_encode(m, r->src, r->src_service);
    m->len = n;
    m->arg[0] = r->len; /* the whole message's length: recvmsg's MSG_TRUNC */
    if (!(m->flags & MSG_PEEK)) {
        buffer_give(r->data);
        s->head = (s->head + 1) % QUEUE_PER_SOCKET;
        s->len--;
    }
    return n;
}

/* FIONREAD: the next message's length. */
static long op_readable(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)m, (void)data;
    return s->len ? (long)s->queue[s->head].len : 0;
}

static long op_close(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)m, (void)data;
    sock_reset(s);
    return 0;
}

static long op_getsockname(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)data;
    addr_encode(m, me->cellid, s->service);
    return 0;
}

static long op_getpeername(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)data;
    if (!s->connected)
        return -ENOTCONN;
    addr_encode(m, s->peer, s->peer_service);
    return 0;
}

/* The one option: SOL_LWF/LWF_SIGNED (<net/lwf.h>), an int. Others are ENOPROTOOPT, never
 * accepted silently. */
static bool option_is_signed(const struct nxs_msg *m) { return m->arg[0] == SOL_LWF && m->arg[1] == LWF_SIGNED; }

static long op_setsockopt(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link;
    if (!option_is_signed(m))
        return -ENOPROTOOPT;
    int on;
    if (m->len < sizeof on)
        return -EINVAL;
    memcpy(&on, data, sizeof on);
    s->sign = on != 0;
    return 0;
}

static long op_getsockopt(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link;
    if (!option_is_signed(m))
        return -ENOPROTOOPT;
    int on = s->sign;
    if (m->len < sizeof on)
        return -EINVAL;
    memcpy(data, &on, sizeof on);
    m->len = sizeof on;
    return sizeof on;
}

static long op_not_datagram(unsigned link, struct lsock *s, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)s, (void)m, (void)data;
    return -EOPNOTSUPP;
}

/* What each socket operation does on an LWF datagram socket; NULL: -ENOSYS. */
static const sock_op ops[NXS_OP_COUNT] = {
    [NXS_OP_BIND] = op_bind,
    [NXS_OP_LISTEN] = op_not_datagram,
    [NXS_OP_ACCEPT] = op_not_datagram,
    [NXS_OP_CONNECT] = op_connect,
    [NXS_OP_SEND] = op_send,
    [NXS_OP_RECV] = op_recv,
    [NXS_OP_SHUTDOWN] = op_not_datagram,
    [NXS_OP_CLOSE] = op_close,
    [NXS_OP_SETSOCKOPT] = op_setsockopt,
    [NXS_OP_GETSOCKOPT] = op_getsockopt,
    [NXS_OP_GETSOCKNAME] = op_getsockname,
    [NXS_OP_GETPEERNAME] = op_getpeername,
    [NXS_OP_READABLE] = op_readable,
};
static const uint8_t op_takes_addr[NXS_OP_COUNT] = {[NXS_OP_BIND] = 1, [NXS_OP_CONNECT] = 1, [NXS_OP_SEND] = 1};

static long op_socket(unsigned link, const struct nxs_msg *m) {
    int err = nxs_socket_args_check(m, AF_LWF, SOCK_DGRAM);
    if (err)
        return err;
    for (unsigned k = 0; k < SOCKETS_PER_LINK; k++) {
        if (!socks[link][k].used) {
            sock_reset(&socks[link][k]);
            socks[link][k].used = true;
            link_server_touch(link, (int)k);
            return (long)k;
        }
    }
    return -EMFILE;
}

static int check(const struct nxs_msg *m) { return nxs_msg_check_sockets(m, SOCKETS_PER_LINK); }

static long handle(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data) {
    (void)slot;
    if (!op_takes_addr[m->op])
        m->addr_len = 0;
    if (m->op == NXS_OP_SOCKET)
        return op_socket(link, m);
    if (m->op == NXS_OP_RESOLVE)
        return -EAFNOSUPPORT; /* CellIDs need no resolving */
    struct lsock *s = &socks[link][m->sock];
    if (!s->used)
        return -EBADF;
    long r = ops[m->op] ? ops[m->op](link, s, m, data) : -ENOSYS;
    link_server_touch(link, m->sock);
    return r;
}

static void app_restarted(unsigned link) {
    for (unsigned k = 0; k < SOCKETS_PER_LINK; k++)
        sock_reset(&socks[link][k]);
}

static uint32_t status(unsigned link, int k) {
    if (k < 0 || k >= SOCKETS_PER_LINK || !socks[link][k].used)
        return 0;
    const struct lsock *s = &socks[link][k];
    return NXS_EV_OPEN | (s->len ? NXS_EV_IN : 0) | (wire_can_send() ? NXS_EV_OUT : 0);
}

static const struct link_service service = {
    .magic = NXS_MAGIC,
    .check = check,
    .handle = handle,
    .app_restarted = app_restarted,
    .status = status,
};

unsigned sockets_attach_node(const struct lwf_node *node) {
    me = node;
    nlinks = link_server_attach(&service);
    return nlinks;
}

int sockets_deliver(uint16_t service, const uint8_t src[LWF_CELLID_LEN], uint16_t src_service, const uint8_t *msg,
                    uint32_t len) {
    struct lsock *s = bound_to(service);
    if (!s)
        return -ENOENT;
    uint8_t *b = s->len < QUEUE_PER_SOCKET ? buffer_take(len) : NULL;
    if (!b)
        return -ENOBUFS;
    struct received *r = &s->queue[(s->head + s->len) % QUEUE_PER_SOCKET];
    memcpy(b, msg, len);
    r->data = b;
    r->len = len;
    r->src_service = src_service;
    memcpy(r->src, src, LWF_CELLID_LEN);
    s->len++;
    unsigned link = (unsigned)((s - &socks[0][0]) / SOCKETS_PER_LINK);
    link_server_touch(link, (int)(s - socks[link]));
    return 0;
}

void sockets_writable(void) {
    for (unsigned l = 0; l < nlinks; l++)
        for (unsigned k = 0; k < SOCKETS_PER_LINK; k++)
            if (socks[l][k].used)
                link_server_touch(l, (int)k);
}
