/*
 * libnexus: AF_UNIX, the Chimera bridge's local sockets (docs/unix.md). A connection is two
 * lanes of shared memory (nexus/unixlane.h), one each way; this file is the family's backend,
 * answering the socket protocol (nexus/sockproto.h) inside the app as a service would answer it
 * over a link, so socket.c's calls, blocking, O_NONBLOCK, timeouts, SIGPIPE, poll and select
 * work on these sockets as on any other. socketpair(2) makes a connection whose two ends are in
 * this app: its lanes are heap memory. Named sockets (streams: bind/listen/accept/connect;
 * datagrams: bind/sendto/recvfrom) get their lanes from the kernel, shared with the peer's app
 * (unix_named.c); the data path here is the same for all.
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

#include "unix_sock.h"

/* One socketpair: both ends and the lanes between them, in one heap block. */
struct unix_pair {
    struct unix_sock end[2];
    uint8_t lanes[] __attribute__((aligned(NXS_PAGE)));
};
#define PAIR_BYTES (sizeof(struct unix_pair) + 2 * UNIX_LANE_BYTES)

static struct unix_sock *socks[NXL_FDS]; /* a socket number is an index here */
static uint8_t *slot;                    /* the data slot socket.c gathers into and scatters from */

static struct unix_sock *sock_at(int32_t s) { return s >= 0 && s < NXL_FDS ? socks[s] : NULL; }

int32_t unix_free_number(int32_t after) {
    for (int32_t s = 0; s < NXL_FDS; s++)
        if (!socks[s] && s != after)
            return s;
    return -1;
}

void unix_install(int32_t s, struct unix_sock *u) { socks[s] = u; }

void unix_attach_lanes(struct unix_chan *c, uint8_t *lanes, int end) {
    unix_lane_writer_attach(&c->out, lanes + (size_t)end * UNIX_LANE_BYTES);
    unix_lane_reader_attach(&c->in, lanes + (size_t)(1 - end) * UNIX_LANE_BYTES);
}

/* The data slot, made with the first socket: 0 or -ENOMEM. */
static long need_slot(void) { return slot || (slot = malloc(NXS_SLOT_DATA)) ? 0 : -ENOMEM; }

static long check_kind(int type, int protocol) {
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return -EPROTONOSUPPORT; /* SOCK_SEQPACKET is not built */
    if (protocol != 0 && protocol != AF_UNIX)
        return -EPROTONOSUPPORT; /* Linux takes PF_UNIX as well as 0 */
    return 0;
}

static long unix_pair_make(int type, int protocol, int32_t sock[2]) {
    long err = check_kind(type, protocol);
    if (err)
        return err;
    int32_t first = unix_free_number(-1), second = unix_free_number(first);
    if (first < 0 || second < 0)
        return -EMFILE; /* every socket has a descriptor: the table is full */
    if (need_slot())
        return -ENOMEM;
    struct unix_pair *p = aligned_alloc(NXS_PAGE, PAIR_BYTES);
    if (!p)
        return -ENOMEM;
    memset(p->end, 0, sizeof p->end);
    for (int i = 0; i < 2; i++)
        unix_lane_init(p->lanes + (size_t)i * UNIX_LANE_BYTES);
    for (int i = 0; i < 2; i++) { /* end i writes lane i and reads lane 1 - i */
        struct unix_sock *u = &p->end[i];
        u->state = UNIX_PAIR_END;
        u->pair = p;
        u->type = type;
        u->ch.peer_bell = -1;
        unix_attach_lanes(&u->ch, p->lanes, i);
    }
    socks[sock[0] = first] = &p->end[0];
    socks[sock[1] = second] = &p->end[1];
    return 0;
}

long unix_named_socket(struct nxs_msg *m) {
    long err = m->arg[0] != AF_UNIX ? -EAFNOSUPPORT : check_kind((int)m->arg[1], (int)m->arg[2]);
    int32_t s = unix_free_number(-1);
    if (!err && s < 0)
        err = -EMFILE;
    struct unix_sock *u = err ? NULL : calloc(1, sizeof *u);
    if (!u)
        return err ? err : -ENOMEM;
    u->state = UNIX_FRESH;
    u->type = (int)m->arg[1];
    u->ch.peer_bell = -1;
    u->ahead = -1;
    u->name = -1;
    socks[s] = u;
    return s;
}

/* ---- the data path ---- */

static int stream(const struct unix_sock *u) { return u->type == SOCK_STREAM; }
static int connected(const struct unix_sock *u) { return u->state == UNIX_PAIR_END || u->state == UNIX_CONNECTED; }

/* For a stream, a closed or shut-down end shows in the lanes; a datagram's shutdown stays its own. */
static int peer_reads_no_more(struct unix_sock *u) { return unix_lane_reader_shut(&u->ch.out); }
static int end_of_input(struct unix_sock *u) { return u->shut_rd || (stream(u) && unix_lane_at_end(&u->ch.in)); }

/* Posts the claimed buffer with n bytes; wakes a peer in another app that sleeps on the lane. */
static int post(struct unix_chan *c, uint32_t n) {
    if (unix_lane_post(&c->out, n))
        return -1;
    if (c->peer_bell >= 0 && ion_ring_producer_should_wake(&c->out.active))
        unix_named_ring(c);
    return 0;
}

/* After buffers went back to the peer's writer: wake it if it waits for room. */
static void released(struct unix_chan *c) {
    if (c->peer_bell >= 0 && ion_ring_producer_should_wake(&c->in.free))
        unix_named_ring(c);
}

static long stream_send(struct unix_sock *u, const uint8_t *data, uint32_t len) {
    if (u->shut_wr || peer_reads_no_more(u))
        return -EPIPE;
    uint32_t done = 0;
    uint8_t *buf;
    while (done < len && (buf = unix_lane_claim(&u->ch.out))) {
        uint32_t n = len - done < UNIX_LANE_BUF_BYTES ? len - done : UNIX_LANE_BUF_BYTES;
        memcpy(buf, data + done, n);
        if (post(&u->ch, n))
            break;
        done += n;
    }
    if (u->ch.out.broken && !done)
        return -ECONNRESET;
    return done || !len ? (long)done : -EAGAIN;
}

long unix_dgram_send(struct unix_sock *u, struct unix_chan *c, const uint8_t *data, uint32_t len) {
    if (u->shut_wr)
        return -EPIPE;
    if (unix_lane_reader_shut(&c->out)) {
        long e = c->refused_told ? -ENOTCONN : -ECONNREFUSED;
        c->refused_told = 1;
        return e;
    }
    if (len > UNIX_LANE_BUF_BYTES)
        return -EMSGSIZE;
    uint8_t *buf = unix_lane_claim(&c->out);
    if (!buf)
        return c->out.broken ? -ECONNRESET : -EAGAIN;
    memcpy(buf, data, len);
    return post(c, len) ? -ECONNRESET : (long)len;
}

static int named_dgram(const struct unix_sock *u) { return u->type == SOCK_DGRAM && u->state != UNIX_PAIR_END; }

static long op_send(struct unix_sock *u, struct nxs_msg *m, uint8_t *data) {
    if (named_dgram(u))
        return unix_named_dgram_send(u, m, data);
    if (!connected(u))
        return -ENOTCONN;
    if (m->addr_len) /* a destination: the connection is the only one there is */
        return stream(u) ? -EISCONN : -EOPNOTSUPP;
    return stream(u) ? stream_send(u, data, m->len) : unix_dgram_send(u, &u->ch, data, m->len);
}

/* Copies up to `want` queued bytes to data, across buffers; consumes them unless peeking. */
static uint32_t stream_take(struct unix_sock *u, uint8_t *data, uint32_t want, int peek) {
    uint32_t got = 0, len;
    const uint8_t *piece;
    for (uint32_t i = 0; got < want && (piece = unix_lane_piece(&u->ch.in, i, &len)); i++) {
        uint32_t n = want - got < len ? want - got : len;
        memcpy(data + got, piece, n);
        got += n;
    }
    if (!peek) {
        unix_lane_consume(&u->ch.in, got);
        released(&u->ch);
    }
    return got;
}

long unix_dgram_recv(struct unix_chan *c, struct nxs_msg *m, uint8_t *data, uint32_t want, int peek) {
    uint32_t len;
    const uint8_t *first = unix_lane_piece(&c->in, 0, &len);
    if (!first)
        return -EAGAIN;
    m->len = len < want ? len : want;
    memcpy(data, first, m->len);
    m->arg[0] = len; /* the whole datagram: more than m->len means it was cut */
    if (!peek) {
        unix_lane_drop_first(&c->in);
        released(c);
    }
    return m->len;
}

static long op_recv(struct unix_sock *u, struct nxs_msg *m, uint8_t *data) {
    uint32_t want = m->len, len;
    int peek = (m->flags & MSG_PEEK) != 0;
    m->len = 0;
    m->addr_len = 0; /* the peer of a socketpair has no name */
    if (named_dgram(u)) {
        m->len = want;
        return unix_named_dgram_recv(u, m, data);
    }
    if (!connected(u))
        return -EINVAL; /* as Linux's stream recvmsg on a socket that is not connected */
    if (u->ch.in.broken)
        return -ECONNRESET;
    const uint8_t *first = unix_lane_piece(&u->ch.in, 0, &len);
    if (!first)
        return end_of_input(u) ? 0 : -EAGAIN;
    if (stream(u)) {
        m->len = stream_take(u, data, want, peek);
        return m->len;
    }
    return unix_dgram_recv(&u->ch, m, data, want, peek);
}

static long op_shutdown(struct unix_sock *u, uint32_t how) {
    if (how > SHUT_RDWR)
        return -EINVAL;
    if (!connected(u) && !named_dgram(u))
        return -ENOTCONN;
    if (how != SHUT_WR) {
        u->shut_rd = 1;
        if (stream(u))
            unix_lane_shut_reader(&u->ch.in);
    }
    if (how != SHUT_RD) {
        u->shut_wr = 1;
        if (stream(u))
            unix_lane_shut_writer(&u->ch.out);
    }
    unix_named_ring(&u->ch);
    return 0;
}

static long op_close(int32_t s, struct unix_sock *u) {
    socks[s] = NULL;
    if (u->state != UNIX_PAIR_END) {
        unix_named_close(u); /* the kernel shuts a connection's lanes and wakes the peer */
        free(u);
        return 0;
    }
    unix_lane_shut_reader(&u->ch.in);
    unix_lane_shut_writer(&u->ch.out);
    u->closed = 1;
    struct unix_pair *p = u->pair;
    if (p->end[0].closed && p->end[1].closed)
        free(p);
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

long unix_put_name(struct nxs_msg *m, uint8_t *data, const char *path) {
    uint16_t family = AF_UNIX;
    size_t n = strlen(path);
    memcpy(data, &family, sizeof family);
    memcpy(data + sizeof family, path, n + (n != 0)); /* a name's NUL counts, as Linux's length does */
    m->len = (uint32_t)(sizeof family + n + (n != 0));
    return 0;
}

static long op_readable(struct unix_sock *u) {
    uint32_t len;
    if (named_dgram(u)) { /* the next datagram's length, looked at without taking it */
        struct nxs_msg peek = {.flags = MSG_PEEK};
        return unix_named_dgram_recv(u, &peek, slot) >= 0 ? (long)peek.arg[0] : 0;
    }
    if (stream(u))
        return (long)unix_lane_queued_bytes(&u->ch.in);
    return unix_lane_piece(&u->ch.in, 0, &len) ? (long)len : 0;
}

static long unix_call(struct nxs_msg *m, uint8_t *data) {
    if (m->op == NXS_OP_SOCKET)
        return unix_named_socket(m);
    struct unix_sock *u = sock_at(m->sock);
    if (!u)
        return -EBADF;
    if (m->len > NXS_SLOT_DATA)
        return -EINVAL;
    int pair_end = u->state == UNIX_PAIR_END;
    switch (m->op) {
    case NXS_OP_SEND: return op_send(u, m, data);
    case NXS_OP_RECV: return op_recv(u, m, data);
    case NXS_OP_SHUTDOWN: return op_shutdown(u, m->arg[0]);
    case NXS_OP_CLOSE: return op_close(m->sock, u);
    case NXS_OP_GETSOCKOPT: return op_getsockopt(u, m, data);
    case NXS_OP_SETSOCKOPT: return -ENOPROTOOPT;
    case NXS_OP_GETSOCKNAME: return unix_put_name(m, data, u->path);
    case NXS_OP_GETPEERNAME:
        if (named_dgram(u))
            return u->dest[0] ? unix_put_name(m, data, u->dest) : -ENOTCONN;
        return connected(u) ? unix_put_name(m, data, u->ch.path) : -ENOTCONN;
    case NXS_OP_READABLE: return op_readable(u);
    case NXS_OP_CONNECT:
        if (connected(u))
            return stream(u) ? -EISCONN : -EOPNOTSUPP; /* a pair's datagram end: no names */
        return unix_named_connect(u, m, data);
    case NXS_OP_BIND: return pair_end ? -EOPNOTSUPP : unix_named_bind(u, m, data);
    case NXS_OP_LISTEN:
    case NXS_OP_ACCEPT:
        if (named_dgram(u))
            return -EOPNOTSUPP; /* as Linux says for a datagram socket */
        if (pair_end)
            return -EINVAL;
        return m->op == NXS_OP_LISTEN ? unix_named_listen(u, m->arg[0]) : unix_named_accept(u, m);
    default: return -EOPNOTSUPP;
    }
}

/* Readiness as Linux's unix_poll: readable with data or at end of input, writable while a
 * buffer is free (or a send would fail at once), hung up when both directions are shut (a
 * stream's by either end, a datagram socket's by itself); a listener is readable with a
 * connection waiting; a socket not connected yet is writable and hung up, as on Linux. */
static uint32_t unix_status(int32_t s) {
    struct unix_sock *u = sock_at(s);
    if (!u)
        return 0;
    if (u->state == UNIX_LISTENING)
        return NXS_EV_OPEN | (unix_named_acceptable(u) ? NXS_EV_IN : 0);
    if (named_dgram(u))
        return unix_named_dgram_status(u);
    if (!connected(u))
        return NXS_EV_OPEN | NXS_EV_OUT | NXS_EV_HUP;
    uint32_t len, st = NXS_EV_OPEN;
    int rcv_shut = u->shut_rd || (stream(u) && unix_lane_writer_shut(&u->ch.in));
    int snd_shut = u->shut_wr || (stream(u) && peer_reads_no_more(u));
    if (unix_lane_piece(&u->ch.in, 0, &len) || end_of_input(u))
        st |= NXS_EV_IN;
    if (unix_lane_writable(&u->ch.out) || snd_shut || peer_reads_no_more(u))
        st |= NXS_EV_OUT;
    if (u->ch.in.broken || u->ch.out.broken)
        st |= NXS_EV_ERR;
    if (rcv_shut && snd_shut)
        st |= NXS_EV_HUP;
    return st;
}

/* Asks the peer of connection c to ring on its next post or return (ion_ring.h's wake
 * protocol): 0 if something arrived while asking. Whatever already arrived is collected first,
 * so a socket nobody looks at does not keep the app awake. */
static int arm(struct unix_chan *c) {
    if (c->in.broken || c->out.broken)
        return 1; /* a broken lane is never read again: what its peer posts must not keep us up */
    unix_lane_collect(&c->in);
    if (!ion_ring_consumer_sleep_prepare(&c->in.active))
        return 0;
    if (!unix_lane_claim(&c->out) && !c->out.broken && !ion_ring_consumer_sleep_prepare(&c->out.free))
        return 0; /* room came while asking */
    return 1;
}

static int unix_sleep_prepare(void) {
    for (int32_t s = 0; s < NXL_FDS; s++) {
        struct unix_sock *u = socks[s];
        if (u && u->state == UNIX_CONNECTED && !arm(&u->ch))
            return 0;
        if (u && named_dgram(u) && !unix_named_each_chan(u, arm))
            return 0;
    }
    return 1;
}

static uint8_t *unix_data(void) { return need_slot() ? NULL : slot; }

const struct nxl_local nxl_unix = {
    .call = unix_call,
    .status = unix_status,
    .data = unix_data,
    .pair = unix_pair_make,
    .doorbell = unix_named_doorbell,
    .sleep_prepare = unix_sleep_prepare,
};
