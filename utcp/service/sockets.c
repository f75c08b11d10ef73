/*
 * AF_UTCP stream sockets for apps, over the service links (lib/link/server.h) with the socket
 * protocol (nexus/sockproto.h) the Membrane speaks for TCP, so libnexus needs nothing but a
 * family row and the calls behave as TCP's do.
 *
 * One connection is one UTCP session carrying one stream: connect() to (CellID, stream) starts a
 * handshake and, once the session is up, the stream's bytes flow on that stream number. A stream
 * number is used once per session (docs/utcp.md section 10: no DATA after FIN), so a session per
 * connection lets a client connect to the same stream again and again, as TCP clients reconnect
 * to a port. A responder's session becomes a connection of the listener bound to the stream its
 * first frame names; a session whose first stream frame finds no listener is reset.
 *
 * A connection (struct conn) outlives its session: the bytes received wait in its buffer until the
 * app reads them, also after the peer finished and the session closed. The buffer's free room is
 * the core's room hook: a full buffer holds the release back, and the peer's window closes.
 */
#include <errno.h>
#include <net/utcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link/server.h"
#include "nexus.h"
#include "nexus/sockproto.h"
#include "utcpd.h"
#ifdef NEXUS_FAULT_INJECTION
#include "fault_inject.h"
#endif

#define SOCKETS_PER_LINK 8
#define CONNS (2 * UTCPD_SESSIONS) /* sessions, and as many closed ones with bytes unread */
#define CONN_BUFFER 65536u
#define ACCEPT_QUEUE 4
#define FIRST_FRAME_WAIT_US 10000000ull /* a responder's session that names no stream: reset */
#define LINGER_US 10000000ull           /* a closed socket's session waiting for the peer's end */
#define NO_SOCKET (-1)

_Static_assert(SOCKETS_PER_LINK <= NXS_SOCKETS, "a socket's status word is in the link header");
_Static_assert(sizeof(struct sockaddr_utcp) <= NXS_ADDR_MAX, "a UTCP address fits the request's field");
_Static_assert(UTCP_CELLID_BYTES == UTCP_CELLID_LEN, "<net/utcp.h> agrees with the wire");

struct conn {
    bool used;
    struct utcp_session *session; /* NULL once it closed */
    uint16_t stream;              /* 0: a responder's session before its first stream frame */
    int link, sock;               /* the socket it belongs to; NO_SOCKET: queued or closed by the app */
    bool queued;                  /* waiting in a listener's accept queue */
    bool established, fin_in, fin_wanted, fin_out, shut_rd;
    int error;                    /* what the socket reports (SO_ERROR, then recv/send) */
    uint8_t peer[UTCP_CELLID_LEN];
    uint64_t since;               /* creation, or the app's close */
    uint32_t head, len;
    uint8_t *buffer; /* CONN_BUFFER bytes from the heap at the slot's first use, kept for the next */
};

struct usock {
    bool used, bound, listening;
    uint16_t stream;
    int conn; /* index into conns, or -1 */
    int queue[ACCEPT_QUEUE];
    unsigned queued;
};

static struct usock socks[NEXUS_LINKS_MAX][SOCKETS_PER_LINK];
static struct conn conns[CONNS];
static unsigned nlinks;
static uint64_t counted_refused;

unsigned sockets_connections(void) {
    unsigned n = 0;
    for (unsigned i = 0; i < CONNS; i++)
        n += conns[i].used;
    return n;
}

static struct conn *conn_of_session(const struct utcp_session *s) {
    for (unsigned i = 0; i < CONNS; i++)
        if (conns[i].used && conns[i].session == s)
            return &conns[i];
    return NULL;
}

static struct conn *conn_new(struct utcp_session *s, uint16_t stream, int link, int sock) {
    for (unsigned i = 0; i < CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->used)
            continue;
        if (!c->buffer && !(c->buffer = malloc(CONN_BUFFER)))
            return NULL; /* no memory for one more connection: as if all were in use */
        memset(c, 0, offsetof(struct conn, buffer));
        c->used = true;
        c->session = s;
        c->stream = stream;
        c->link = link;
        c->sock = sock;
        memcpy(c->peer, s->peer, UTCP_CELLID_LEN);
        c->since = now_us();
        return c;
    }
    return NULL;
}

static void touch_conn(const struct conn *c) {
    if (c->sock != NO_SOCKET)
        link_server_touch((unsigned)c->link, c->sock);
}

/* Ends the session (RESET `reason`, or silently when the peer is gone) and forgets the conn if
 * no socket holds it any more. */
static void conn_abort(struct conn *c, int reason) {
    struct utcp_session *s = c->session;
    c->session = NULL;
    if (!(c->fin_in && c->fin_out) && !c->error)
        c->error = ECONNRESET;
    if (s && s->state != UTCP_FREE)
        utcp_session_close(&core, s, reason, false);
    if (c->sock == NO_SOCKET && !c->queued)
        c->used = false;
}

static struct usock *listener_of(uint16_t stream) {
    for (unsigned l = 0; l < nlinks; l++)
        for (unsigned k = 0; k < SOCKETS_PER_LINK; k++)
            if (socks[l][k].used && socks[l][k].listening && socks[l][k].stream == stream)
                return &socks[l][k];
    return NULL;
}

static void sock_touch(const struct usock *u) {
    unsigned link = (unsigned)((u - &socks[0][0]) / SOCKETS_PER_LINK);
    link_server_touch(link, (int)(u - socks[link]));
}

/* A responder's session named its stream: the listener's, or refused. */
static bool conn_offer(struct conn *c, uint16_t stream) {
    struct usock *l = listener_of(stream);
    if (!l || l->queued == ACCEPT_QUEUE) {
        counted_refused++;
        conn_abort(c, UTCP_RESET_CLOSED);
        return false;
    }
    c->stream = stream;
    c->queued = true;
    l->queue[l->queued++] = (int)(c - conns);
    sock_touch(l);
    return true;
}

/* The receive buffer is a ring: bytes in at head + len, out at head, in at most two pieces. */
static void ring_copy_in(struct conn *c, const uint8_t *data, size_t len) {
    uint32_t at = (c->head + c->len) % CONN_BUFFER;
    size_t first = len < CONN_BUFFER - at ? len : CONN_BUFFER - at;
    memcpy(c->buffer + at, data, first);
    memcpy(c->buffer, data + first, len - first);
    c->len += (uint32_t)len;
}

static void ring_copy_out(const struct conn *c, uint8_t *out, uint32_t n) {
    uint32_t first = n < CONN_BUFFER - c->head ? n : CONN_BUFFER - c->head;
    memcpy(out, c->buffer + c->head, first);
    memcpy(out + first, c->buffer, n - first);
}

/* ---- the core's callbacks ---- */

size_t sockets_room(void *ctx, struct utcp_session *s, uint16_t stream) {
    (void)ctx, (void)stream;
    struct conn *c = conn_of_session(s);
    if (!c || c->shut_rd || (c->sock == NO_SOCKET && !c->queued))
        return UTCP_PLAINTEXT_MAX; /* nobody reads: taken and dropped */
    return CONN_BUFFER - c->len;
}

void sockets_on_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len) {
    (void)ctx;
#ifdef NEXUS_FAULT_INJECTION
    if (stream == UTCP_FAULT_STREAM) {
        fault_inject_commit("utcp", data, len);
        return;
    }
#endif
    struct conn *c = conn_of_session(s);
    if (!c)
        return;
    if (c->stream == 0 && !conn_offer(c, stream))
        return;
    if (stream != c->stream) { /* one stream per session: another is the peer's error */
        conn_abort(c, UTCP_RESET_ERROR);
        return;
    }
    if (c->shut_rd || (c->sock == NO_SOCKET && !c->queued))
        return;
    ring_copy_in(c, data, len); /* sockets_room made sure it fits */
    touch_conn(c);
}

void sockets_on_fin(void *ctx, struct utcp_session *s, uint16_t stream) {
    (void)ctx;
    struct conn *c = conn_of_session(s);
    if (!c || (c->stream == 0 && !conn_offer(c, stream)))
        return;
    c->fin_in = true;
    touch_conn(c);
}

void sockets_on_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason) {
    (void)ctx;
    struct conn *c = conn_of_session(s);
    if (event == UTCP_EVENT_ESTABLISHED) {
        wire_counters.sessions_established++;
        if (!c && !s->initiator && (c = conn_new(s, 0, 0, NO_SOCKET)) == NULL)
            utcp_session_close(&core, s, UTCP_RESET_CLOSED, false); /* cannot happen: CONNS > sessions */
        if (c) {
            c->established = true;
            /* the listener's accept returns now, not at the client's first byte: servers that
             * speak first (a banner, a prompt) work as over TCP */
            if (s->initiator)
                utcp_open_stream(&core, s, c->stream, now_us());
            touch_conn(c);
        }
        return;
    }
    wire_counters.sessions_closed++;
    if (!c)
        return;
    c->session = NULL;
    bool clean = c->fin_in && c->fin_out;
    if (!clean && !c->error)
        c->error = !c->established ? (reason == UTCP_RESET_TIMEOUT ? ETIMEDOUT : ECONNREFUSED) : ECONNRESET;
    if (c->sock == NO_SOCKET && !c->queued)
        c->used = false;
    touch_conn(c);
}

/* ---- requests ---- */

static int addr_decode(const struct nxs_msg *m, uint8_t cellid[UTCP_CELLID_LEN], uint16_t *stream) {
    struct sockaddr_utcp a;
    if (m->addr_len < sizeof a)
        return -EINVAL;
    memcpy(&a, m->addr, sizeof a);
    if (a.sutcp_family != AF_UTCP)
        return -EAFNOSUPPORT;
    memcpy(cellid, a.sutcp_cellid, UTCP_CELLID_LEN);
    *stream = a.sutcp_stream;
    return 0;
}

static void addr_encode(struct nxs_msg *m, const uint8_t cellid[UTCP_CELLID_LEN], uint16_t stream) {
    struct sockaddr_utcp a = {.sutcp_family = AF_UTCP, .sutcp_stream = stream};
    memcpy(a.sutcp_cellid, cellid, UTCP_CELLID_LEN);
    memcpy(m->addr, &a, sizeof a);
    m->addr_len = sizeof a;
}

static struct conn *conn_of(const struct usock *u) { return u->conn >= 0 ? &conns[u->conn] : NULL; }

typedef long (*sock_op)(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data);

static long op_bind(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)data;
    uint8_t cellid[UTCP_CELLID_LEN], zero[UTCP_CELLID_LEN] = {0};
    uint16_t stream;
    int err = addr_decode(m, cellid, &stream);
    if (err)
        return err;
    if (memcmp(cellid, zero, sizeof zero) && memcmp(cellid, core.config.identity.cellid, UTCP_CELLID_LEN))
        return -EADDRNOTAVAIL;
    if (u->bound || u->conn >= 0 || stream == 0)
        return -EINVAL; /* a client needs no bind: its session is its own */
    for (unsigned l = 0; l < nlinks; l++)
        for (unsigned j = 0; j < SOCKETS_PER_LINK; j++)
            if (socks[l][j].used && socks[l][j].bound && socks[l][j].stream == stream)
                return -EADDRINUSE;
    u->stream = stream;
    u->bound = true;
    return 0;
}

static long op_listen(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)m, (void)data;
    if (!u->bound || u->conn >= 0)
        return -EINVAL;
    u->listening = true;
    return 0;
}

static long op_accept(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)k, (void)data;
    if (!u->listening)
        return -EINVAL;
    if (!u->queued)
        return -EAGAIN;
    for (int j = 0; j < SOCKETS_PER_LINK; j++) {
        struct usock *n = &socks[link][j];
        if (n->used)
            continue;
        struct conn *c = &conns[u->queue[0]];
        memmove(u->queue, u->queue + 1, --u->queued * sizeof u->queue[0]);
        memset(n, 0, sizeof *n);
        n->used = true;
        n->conn = (int)(c - conns);
        n->stream = c->stream;
        c->queued = false;
        c->link = (int)link;
        c->sock = j;
        addr_encode(m, c->peer, c->stream);
        link_server_touch(link, j);
        return j;
    }
    return -EMFILE;
}

static long op_connect(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)data;
    uint8_t cellid[UTCP_CELLID_LEN];
    uint16_t stream;
    int err = addr_decode(m, cellid, &stream);
    if (err)
        return err;
    struct conn *c = conn_of(u);
    if (c)
        return c->established || c->error ? -EISCONN : -EALREADY;
    if (u->listening)
        return -EINVAL;
    if (stream == 0)
        return -EINVAL;
    if (!memcmp(cellid, core.config.identity.cellid, UTCP_CELLID_LEN))
        return -EADDRNOTAVAIL; /* UTCP has no loopback: a session joins two nodes */
    struct utcp_session *s = utcp_connect(&core, cellid, now_us());
    if (!s)
        return -ENOBUFS;
    c = conn_new(s, stream, (int)link, k);
    if (!c) {
        utcp_session_close(&core, s, UTCP_RESET_CLOSED, true);
        return -ENOBUFS;
    }
    wire_counters.handshakes_started++;
    u->conn = (int)(c - conns);
    return -EINPROGRESS;
}

static long op_send(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k;
    struct conn *c = conn_of(u);
    uint32_t len = m->len;
    m->len = 0;
    if (!c)
        return -ENOTCONN;
    if (c->error)
        return -c->error;
    if (c->fin_wanted)
        return -EPIPE;
    if (!c->session)
        return -EPIPE;
    if (!c->established)
        return -EAGAIN; /* libnexus waits for the connection like for room */
    if (len == 0)
        return 0;
    size_t n = utcp_send(&core, c->session, c->stream, data, len, now_us());
    return n ? (long)n : -EAGAIN;
}

static long op_recv(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k;
    struct conn *c = conn_of(u);
    uint32_t want = m->len;
    m->len = 0;
    if (!c)
        return -ENOTCONN;
    if (c->len == 0) {
        if (c->error) {
            int err = c->error;
            c->error = 0; /* reported once, as TCP does; then end of stream */
            c->fin_in = true;
            return -err;
        }
        return c->fin_in || c->shut_rd ? 0 : -EAGAIN;
    }
    uint32_t n = c->len < want ? c->len : want;
    ring_copy_out(c, data, n);
    if (!(m->flags & MSG_PEEK)) {
        c->head = (c->head + n) % CONN_BUFFER;
        c->len -= n;
        if (c->session) /* frames held for want of room can go now */
            utcp_receiver_deliver(&core, c->session);
    }
    addr_encode(m, c->peer, c->stream);
    m->len = n;
    return n;
}

/* FIONREAD: the received bytes waiting in the connection's buffer. */
static long op_readable(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)m, (void)data;
    struct conn *c = conn_of(u);
    return c ? (long)c->len : 0;
}

static long op_shutdown(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)data;
    struct conn *c = conn_of(u);
    int how = (int)m->arg[0];
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    if (!c || !c->established)
        return -ENOTCONN;
    if (how != SHUT_WR) {
        c->shut_rd = true;
        c->len = 0;
        if (c->session)
            utcp_receiver_deliver(&core, c->session);
    }
    if (how != SHUT_RD)
        c->fin_wanted = true;
    return 0;
}

static void sock_reset(struct usock *u) {
    for (unsigned i = 0; i < u->queued; i++) {
        struct conn *c = &conns[u->queue[i]];
        c->queued = false;
        conn_abort(c, UTCP_RESET_CLOSED);
    }
    struct conn *c = conn_of(u);
    if (c) {
        c->sock = NO_SOCKET;
        c->since = now_us();
        if (c->session && c->established && c->len == 0 && !c->error) {
            c->fin_wanted = true; /* a graceful end: the FIN leaves, the session lingers for the peer's */
            c->shut_rd = true;
        } else {
            conn_abort(c, UTCP_RESET_CLOSED); /* unread bytes or no connection: reset, as TCP does */
        }
        if (!c->session)
            c->used = false;
    }
    memset(u, 0, sizeof *u);
    u->conn = -1;
}

static long op_close(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)m, (void)data;
    sock_reset(u);
    return 0;
}

static long op_getsockname(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)data;
    addr_encode(m, core.config.identity.cellid, u->stream ? u->stream : conn_of(u) ? conn_of(u)->stream : 0);
    return 0;
}

static long op_getpeername(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)data;
    struct conn *c = conn_of(u);
    if (!c || !c->established)
        return -ENOTCONN;
    addr_encode(m, c->peer, c->stream);
    return 0;
}

static long op_setsockopt(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)k, (void)u, (void)data;
    int name = (int)m->arg[1];
    /* accepted: buffers are fixed and a stream number is free again as soon as it is closed */
    if (m->arg[0] == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_SNDBUF || name == SO_RCVBUF))
        return 0;
    return -ENOPROTOOPT;
}

static long op_getsockopt(unsigned link, int k, struct usock *u, struct nxs_msg *m, uint8_t *data) {
    (void)k;
    int value;
    struct conn *c = conn_of(u);
    if (m->arg[0] != SOL_SOCKET)
        return -ENOPROTOOPT;
    if (m->arg[1] == SO_ERROR) {
        value = c && !c->established ? c->error : 0; /* after a connect; a broken stream tells recv */
        if (c && !c->established)
            c->error = 0;
        link_server_touch(link, k);
    } else if (m->arg[1] == SO_TYPE) {
        value = SOCK_STREAM;
    } else if (m->arg[1] == SO_RCVBUF) {
        value = CONN_BUFFER;
    } else {
        return -ENOPROTOOPT;
    }
    if (m->len < sizeof value)
        return -EINVAL;
    memcpy(data, &value, sizeof value);
    m->len = sizeof value;
    return sizeof value;
}

/* What each socket operation does on a UTCP stream socket. */
static const sock_op ops[NXS_OP_COUNT] = {
    [NXS_OP_BIND] = op_bind,
    [NXS_OP_LISTEN] = op_listen,
    [NXS_OP_ACCEPT] = op_accept,
    [NXS_OP_CONNECT] = op_connect,
    [NXS_OP_SEND] = op_send,
    [NXS_OP_RECV] = op_recv,
    [NXS_OP_SHUTDOWN] = op_shutdown,
    [NXS_OP_CLOSE] = op_close,
    [NXS_OP_SETSOCKOPT] = op_setsockopt,
    [NXS_OP_GETSOCKOPT] = op_getsockopt,
    [NXS_OP_GETSOCKNAME] = op_getsockname,
    [NXS_OP_GETPEERNAME] = op_getpeername,
    [NXS_OP_READABLE] = op_readable,
};
static const uint8_t op_takes_addr[NXS_OP_COUNT] = {[NXS_OP_BIND] = 1, [NXS_OP_CONNECT] = 1};

static long op_socket(unsigned link, const struct nxs_msg *m) {
    int err = nxs_socket_args_check(m, AF_UTCP, SOCK_STREAM);
    if (err)
        return err;
    for (unsigned k = 0; k < SOCKETS_PER_LINK; k++) {
        if (!socks[link][k].used) {
            memset(&socks[link][k], 0, sizeof socks[link][k]);
            socks[link][k].used = true;
            socks[link][k].conn = -1;
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
    struct usock *u = &socks[link][m->sock];
    if (!u->used)
        return -EBADF;
    long r = ops[m->op] ? ops[m->op](link, m->sock, u, m, data) : -ENOSYS;
    link_server_touch(link, m->sock);
    return r;
}

static void app_restarted(unsigned link) {
    for (unsigned k = 0; k < SOCKETS_PER_LINK; k++)
        if (socks[link][k].used)
            sock_reset(&socks[link][k]);
}

static uint32_t status(unsigned link, int k) {
    if (k < 0 || k >= SOCKETS_PER_LINK || !socks[link][k].used)
        return 0;
    const struct usock *u = &socks[link][k];
    uint32_t st = NXS_EV_OPEN;
    if (u->listening)
        return st | (u->queued ? NXS_EV_IN : 0);
    const struct conn *c = conn_of(u);
    if (!c)
        return st;
    if (c->len || c->fin_in || c->error)
        st |= NXS_EV_IN;
    if (c->error)
        st |= NXS_EV_ERR | NXS_EV_OUT;
    else if (c->established && c->session && !c->fin_wanted && utcp_send_room(c->session) > 0)
        st |= NXS_EV_OUT;
    if (c->error || (c->fin_in && !c->session))
        st |= NXS_EV_HUP;
    return st;
}

static const struct link_service service = {
    .magic = NXS_MAGIC,
    .check = check,
    .handle = handle,
    .app_restarted = app_restarted,
    .status = status,
};

unsigned sockets_attach(void) {
    for (unsigned l = 0; l < NEXUS_LINKS_MAX; l++)
        for (unsigned k = 0; k < SOCKETS_PER_LINK; k++)
            socks[l][k].conn = -1;
    nlinks = link_server_attach(&service);
    return nlinks;
}

/* A connection's end: its FIN leaves once the send buffer has room; the session ends when both
 * sides finished and the peer has every frame of ours, or when it waited too long for its first
 * stream frame or, closed by the app, for the peer's end. */
static void conn_progress(struct conn *c, uint64_t now) {
    struct utcp_session *s = c->session;
    if (!s)
        return;
    if (c->fin_wanted && !c->fin_out && c->established && utcp_finish(&core, s, c->stream, now))
        c->fin_out = true;
    bool delivered = s->peer_release + 1 == s->send_next;
    if (c->fin_in && c->fin_out && delivered) {
        conn_abort(c, UTCP_RESET_CLOSED);
        return;
    }
    bool waited = now - c->since >= (c->stream == 0 ? FIRST_FRAME_WAIT_US : LINGER_US);
    if (waited && ((c->stream == 0 && !c->queued) || (c->sock == NO_SOCKET && !c->queued)))
        conn_abort(c, UTCP_RESET_TIMEOUT);
}

void sockets_refresh(void) {
    uint64_t now = now_us();
    for (unsigned i = 0; i < CONNS; i++) {
        if (!conns[i].used)
            continue;
        conn_progress(&conns[i], now);
        touch_conn(&conns[i]);
    }
}

uint64_t sockets_refused(void) { return counted_refused; }
