/*
 * libnexus: AF_UNIX, the Chimera bridge's local sockets (docs/unix.md). A connection is two
 * lanes of shared memory (nexus/unixlane.h), one each way; this file is the family's backend,
 * answering the socket protocol (nexus/sockproto.h) inside the app as a service would answer it
 * over a link, so socket.c's calls, blocking, O_NONBLOCK, timeouts, SIGPIPE, poll and select
 * work on these sockets as on any other. socketpair(2) makes a connection whose two ends are in
 * this app: its lanes are heap memory. Named sockets (bind/connect to a path, between two apps
 * through the kernel) are designed in docs/unix.md and not built: socket(AF_UNIX) is refused.
 *
 * Semantics follow Linux's AF_UNIX: a stream's peer closing (or SHUT_WR) is end of file after
 * the queued bytes, a send to a closed (or SHUT_RD) peer is EPIPE with SIGPIPE; a datagram to a
 * closed peer is ECONNREFUSED once, then ENOTCONN. Shutdown on a datagram socket is its own
 * business only, as on Linux.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "libnexus.h"
#include "unix_lane.h"

struct unix_pair;

struct unix_sock {
    struct unix_pair *pair; /* NULL: the slot is free */
    int type;
    uint8_t shut_rd, shut_wr, closed;
    uint8_t refused_told; /* a datagram socket's peer is gone and a send said so */
    struct unix_lane_reader in;
    struct unix_lane_writer out;
};

/* One connection: both ends and the lanes between them, in one heap block. */
struct unix_pair {
    struct unix_sock end[2];
    uint8_t pad[] __attribute__((aligned(NXS_PAGE)));
};
#define PAIR_BYTES (sizeof(struct unix_pair) + 2 * UNIX_LANE_BYTES)

static struct unix_sock *socks[NXL_FDS]; /* a socket number is an index here */
static uint8_t *slot;                    /* the data slot socket.c gathers into and scatters from */

static uint8_t *lane_of(struct unix_pair *p, int i) { return p->pad + (size_t)i * UNIX_LANE_BYTES; }

static struct unix_sock *sock_at(int32_t s) {
    return s >= 0 && s < NXL_FDS ? socks[s] : NULL;
}

static struct unix_sock *peer_of(const struct unix_sock *u) {
    return u == &u->pair->end[0] ? &u->pair->end[1] : &u->pair->end[0];
}

static int32_t free_number(int32_t after) {
    for (int32_t s = 0; s < NXL_FDS; s++)
        if (!socks[s] && s != after)
            return s;
    return -1;
}

static long unix_pair_make(int type, int protocol, int32_t sock[2]) {
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return -EPROTONOSUPPORT; /* SOCK_SEQPACKET is not built; Linux says ESOCKTNOSUPPORT for others */
    if (protocol != 0 && protocol != AF_UNIX)
        return -EPROTONOSUPPORT; /* Linux takes PF_UNIX as well as 0 */
    int32_t first = free_number(-1), second = free_number(first);
    if (first < 0 || second < 0)
        return -EMFILE; /* every socket has a descriptor: the table is full */
    if (!slot && !(slot = malloc(NXS_SLOT_DATA)))
        return -ENOMEM;
    struct unix_pair *p = aligned_alloc(NXS_PAGE, PAIR_BYTES);
    if (!p)
        return -ENOMEM;
    memset(p->end, 0, sizeof p->end);
    for (int i = 0; i < 2; i++)
        unix_lane_init(lane_of(p, i));
    for (int i = 0; i < 2; i++) { /* end i writes lane i and reads lane 1 - i */
        struct unix_sock *u = &p->end[i];
        u->pair = p;
        u->type = type;
        unix_lane_writer_attach(&u->out, lane_of(p, i));
        unix_lane_reader_attach(&u->in, lane_of(p, 1 - i));
    }
    socks[sock[0] = first] = &p->end[0];
    socks[sock[1] = second] = &p->end[1];
    return 0;
}

/* ---- the requests ---- */

static int stream(const struct unix_sock *u) { return u->type == SOCK_STREAM; }

/* For a stream, a closed or shut-down end shows in the lanes; a datagram's shutdown stays its own. */
static int peer_reads_no_more(struct unix_sock *u) { return unix_lane_reader_shut(&u->out); }
static int end_of_input(struct unix_sock *u) {
    return u->shut_rd || (stream(u) && unix_lane_at_end(&u->in));
}

static long stream_send(struct unix_sock *u, const uint8_t *data, uint32_t len) {
    if (u->shut_wr || peer_reads_no_more(u))
        return -EPIPE;
    uint32_t done = 0;
    uint8_t *buf;
    while (done < len && (buf = unix_lane_claim(&u->out))) {
        uint32_t n = len - done < UNIX_LANE_BUF_BYTES ? len - done : UNIX_LANE_BUF_BYTES;
        memcpy(buf, data + done, n);
        if (unix_lane_post(&u->out, n))
            break;
        done += n;
    }
    if (u->out.broken && !done)
        return -ECONNRESET;
    return done || !len ? (long)done : -EAGAIN;
}

static long dgram_send(struct unix_sock *u, const uint8_t *data, uint32_t len) {
    if (u->shut_wr)
        return -EPIPE;
    if (peer_reads_no_more(u)) {
        long e = u->refused_told ? -ENOTCONN : -ECONNREFUSED;
        u->refused_told = 1;
        return e;
    }
    if (len > UNIX_LANE_BUF_BYTES)
        return -EMSGSIZE;
    uint8_t *buf = unix_lane_claim(&u->out);
    if (!buf)
        return u->out.broken ? -ECONNRESET : -EAGAIN;
    memcpy(buf, data, len);
    return unix_lane_post(&u->out, len) ? -ECONNRESET : (long)len;
}

static long op_send(struct unix_sock *u, struct nxs_msg *m, uint8_t *data) {
    if (m->addr_len) /* a destination: the connection is the only one there is */
        return stream(u) ? -EISCONN : -EOPNOTSUPP;
    return stream(u) ? stream_send(u, data, m->len) : dgram_send(u, data, m->len);
}

/* Copies up to `want` queued bytes to data, across buffers; consumes them unless peeking. */
static uint32_t stream_take(struct unix_sock *u, uint8_t *data, uint32_t want, int peek) {
    uint32_t got = 0, len;
    const uint8_t *piece;
    for (uint32_t i = 0; got < want && (piece = unix_lane_piece(&u->in, i, &len)); i++) {
        uint32_t n = want - got < len ? want - got : len;
        memcpy(data + got, piece, n);
        got += n;
    }
    if (!peek)
        unix_lane_consume(&u->in, got);
    return got;
}

static long op_recv(struct unix_sock *u, struct nxs_msg *m, uint8_t *data) {
    uint32_t want = m->len, len;
    int peek = (m->flags & MSG_PEEK) != 0;
    m->len = 0;
    m->addr_len = 0; /* the peer of a socketpair has no name */
    if (u->in.broken)
        return -ECONNRESET;
    const uint8_t *first = unix_lane_piece(&u->in, 0, &len);
    if (!first)
        return end_of_input(u) ? 0 : -EAGAIN;
    if (stream(u)) {
        m->len = stream_take(u, data, want, peek);
        return m->len;
    }
    m->len = len < want ? len : want;
    memcpy(data, first, m->len);
    m->arg[0] = len; /* the whole datagram: more than m->len means it was cut */
    if (!peek)
        unix_lane_drop_first(&u->in);
    return m->len;
}

static long op_shutdown(struct unix_sock *u, uint32_t how) {
    if (how > SHUT_RDWR)
        return -EINVAL;
    if (how != SHUT_WR) {
        u->shut_rd = 1;
        if (stream(u))
            unix_lane_shut_reader(&u->in);
    }
    if (how != SHUT_RD) {
        u->shut_wr = 1;
        if (stream(u))
            unix_lane_shut_writer(&u->out);
    }
    return 0;
}

static long op_close(int32_t s, struct unix_sock *u) {
    unix_lane_shut_reader(&u->in);
    unix_lane_shut_writer(&u->out);
    u->closed = 1;
    socks[s] = NULL;
    if (peer_of(u)->closed)
        free(u->pair);
    return 0;
}

static long put_int(struct nxs_msg *m, uint8_t *data, int value) {
    memcpy(data, &value, sizeof value);
    m->len = sizeof value;
    return sizeof value;
}

/* The options a lane has; nothing can be changed (SO_RCVTIMEO/SO_SNDTIMEO live in socket.c). */
static long op_getsockopt(struct unix_sock *u, struct nxs_msg *m, uint8_t *data) {
    if (m->arg[0] != SOL_SOCKET)
        return -ENOPROTOOPT;
    switch (m->arg[1]) {
    case SO_ERROR: return put_int(m, data, 0);
    case SO_TYPE: return put_int(m, data, u->type);
    case SO_SNDBUF:
    case SO_RCVBUF: return put_int(m, data, (int)(UNIX_LANE_BUFS * UNIX_LANE_BUF_BYTES));
    default: return -ENOPROTOOPT;
    }
}

static long op_name(struct nxs_msg *m) {
    uint16_t family = AF_UNIX; /* an unnamed socket: only the family, as Linux answers */
    memcpy(m->addr, &family, sizeof family);
    m->addr_len = sizeof family;
    return 0;
}

static long op_readable(struct unix_sock *u) {
    uint32_t len;
    if (stream(u))
        return (long)unix_lane_queued_bytes(&u->in);
    return unix_lane_piece(&u->in, 0, &len) ? (long)len : 0;
}

static long unix_call(struct nxs_msg *m, uint8_t *data) {
    struct unix_sock *u = sock_at(m->sock);
    if (!u)
        return -EBADF;
    if (m->len > NXS_SLOT_DATA)
        return -EINVAL;
    switch (m->op) {
    case NXS_OP_SEND: return op_send(u, m, data);
    case NXS_OP_RECV: return op_recv(u, m, data);
    case NXS_OP_SHUTDOWN: return op_shutdown(u, m->arg[0]);
    case NXS_OP_CLOSE: return op_close(m->sock, u);
    case NXS_OP_GETSOCKOPT: return op_getsockopt(u, m, data);
    case NXS_OP_SETSOCKOPT: return -ENOPROTOOPT;
    case NXS_OP_GETSOCKNAME:
    case NXS_OP_GETPEERNAME: return op_name(m);
    case NXS_OP_READABLE: return op_readable(u);
    case NXS_OP_CONNECT: return stream(u) ? -EISCONN : -EOPNOTSUPP; /* already connected; no names */
    case NXS_OP_LISTEN:
    case NXS_OP_ACCEPT: return -EINVAL; /* a connected socket, as Linux says */
    case NXS_OP_BIND: return -EOPNOTSUPP; /* no path namespace yet (docs/unix.md) */
    default: return -EOPNOTSUPP;
    }
}

/* Readiness as Linux's unix_poll: readable with data or at end of input, writable while a
 * buffer is free (or a send would fail at once), hung up when both directions are shut (a
 * stream's by either end, a datagram socket's by itself). */
static uint32_t unix_status(int32_t s) {
    struct unix_sock *u = sock_at(s);
    if (!u)
        return 0;
    uint32_t len, st = NXS_EV_OPEN;
    int rcv_shut = u->shut_rd || (stream(u) && unix_lane_writer_shut(&u->in));
    int snd_shut = u->shut_wr || (stream(u) && peer_reads_no_more(u));
    if (unix_lane_piece(&u->in, 0, &len) || end_of_input(u))
        st |= NXS_EV_IN;
    if (unix_lane_writable(&u->out) || snd_shut || peer_reads_no_more(u))
        st |= NXS_EV_OUT;
    if (u->in.broken || u->out.broken)
        st |= NXS_EV_ERR;
    if (rcv_shut && snd_shut)
        st |= NXS_EV_HUP;
    return st;
}

static uint8_t *unix_data(void) { return slot; }

const struct nxl_local nxl_unix = {
    .call = unix_call,
    .status = unix_status,
    .data = unix_data,
    .pair = unix_pair_make,
};
