/*
 * libnexus: named AF_UNIX sockets, between two apps or within one (docs/unix.md). The kernel
 * keeps the namespace and makes connections: bind puts a path in it, listen lets connections
 * queue on it, connect makes one and maps its two lanes into the caller, accept maps them into
 * the listener. A datagram socket makes one connection per receiving name on its first send
 * there and keeps it; a bound one takes its senders' connections without listen and reads them
 * in turn, each with the sender's name. Bytes move over the lanes without the kernel (unix.c),
 * and each side rings the other's doorbell only when the other said it sleeps. Every call here
 * needs the `unix` promise: an app without it is killed at its first bind or connect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nexus.h"
#include "unix_sock.h"

static int bell = -1; /* this app's doorbell, once it has one */

int unix_named_doorbell(void) { return bell; }

void unix_named_ring(const struct unix_chan *c) {
    if (c->peer_bell >= 0)
        nx_signal(c->peer_bell);
}

static int kernel_type(const struct unix_sock *u) { return u->type == SOCK_DGRAM ? NEXUS_UNIX_DGRAM : NEXUS_UNIX_STREAM; }

/* The path of a sockaddr_un in data (m->len bytes) into path: 0, -EINVAL (Linux's answer to a
 * length outside the structure or another family), -EOPNOTSUPP (an empty or abstract name:
 * autobind and the abstract namespace are not built). */
static long path_of(const struct nxs_msg *m, const uint8_t *data, char path[NEXUS_UNIX_PATH_MAX + 1]) {
    uint16_t family;
    if (m->len < sizeof family || m->len > sizeof family + NEXUS_UNIX_PATH_MAX)
        return -EINVAL;
    memcpy(&family, data, sizeof family);
    if (family != AF_UNIX)
        return -EINVAL;
    size_t n = m->len - sizeof family;
    if (n == 0 || data[sizeof family] == '\0')
        return -EOPNOTSUPP;
    memcpy(path, data + sizeof family, n);
    path[n] = '\0'; /* a name filling sun_path has no NUL of its own */
    return 0;
}

/* Makes this app's doorbell on first use. */
static long need_bell(void) {
    if (bell >= 0)
        return 0;
    long ch = nx_unix_doorbell();
    if (ch < 0)
        return ch;
    bell = (int)ch;
    return 0;
}

long unix_named_bind(struct unix_sock *u, const struct nxs_msg *m, const uint8_t *data) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    long err = path_of(m, data, path);
    if (err)
        return err;
    if (u->state != UNIX_FRESH)
        return -EINVAL; /* bound already, as Linux says */
    if ((err = need_bell()))
        return err;
    long name = nx_unix_bind(path, kernel_type(u));
    if (name < 0)
        return name;
    u->name = name;
    u->state = UNIX_BOUND;
    memcpy(u->path, path, sizeof path);
    return 0;
}

long unix_named_listen(struct unix_sock *u, uint32_t backlog) {
    if (u->state != UNIX_BOUND && u->state != UNIX_LISTENING)
        return -EINVAL;
    long err = nx_unix_listen(u->name, backlog);
    if (err)
        return err;
    u->state = UNIX_LISTENING;
    return 0;
}

/* c becomes the end described by info (the peer's name comes with it). */
static void chan_attach(struct unix_chan *c, long conn, const struct nexus_unix_conn *info) {
    c->conn = conn;
    c->peer_bell = info->peer_doorbell == NEXUS_UNIX_NO_PEER ? -1 : (int)info->peer_doorbell;
    unix_attach_lanes(c, (uint8_t *)(uintptr_t)info->va, (int)info->end);
    memcpy(c->path, info->peer_path, sizeof c->path);
    c->path[NEXUS_UNIX_PATH_MAX] = '\0';
}

static void chan_close(struct unix_chan *c) {
    unix_lane_shut_reader(&c->in);
    unix_lane_shut_writer(&c->out);
    nx_unix_close(NEXUS_UNIX_CONN, c->conn); /* unmaps; the kernel wakes the peer */
}

/* A datagram socket's connection to path, made on first use. NULL with *err set if none can
 * be (the kernel's connect errors, or ENOBUFS when the socket holds UNIX_DGRAM_CHANS). */
static struct unix_chan *dgram_to(struct unix_sock *u, const char *path, long *err) {
    int free_at = -1;
    for (int i = 0; i < UNIX_DGRAM_CHANS; i++) {
        struct unix_chan *c = u->dgram[i];
        if (c && !u->dgram_in[i] && !strcmp(c->path, path)) {
            if (!unix_lane_reader_shut(&c->out))
                return c;
            chan_close(c); /* its receiver is gone: a new one may have bound the path since */
            free(c);
            u->dgram[i] = NULL;
            if (u->full == c)
                u->full = NULL;
        }
        if (!u->dgram[i] && free_at < 0)
            free_at = i;
    }
    struct nexus_unix_conn info;
    *err = free_at < 0 ? -ENOBUFS : need_bell();
    struct unix_chan *c = *err ? NULL : calloc(1, sizeof *c);
    if (!c) {
        *err = *err ? *err : -ENOMEM;
        return NULL;
    }
    long conn = nx_unix_connect(path, NEXUS_UNIX_DGRAM, &info, u->name);
    if (conn < 0) {
        *err = conn == -ECONNREFUSED || conn == -EAGAIN ? -EAGAIN : conn; /* its queue of senders is full */
        free(c);
        return NULL;
    }
    chan_attach(c, conn, &info);
    u->dgram[free_at] = c;
    u->dgram_in[free_at] = 0;
    return c;
}

long unix_named_connect(struct unix_sock *u, const struct nxs_msg *m, const uint8_t *data) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    long err = path_of(m, data, path);
    if (err)
        return err;
    if (u->state == UNIX_LISTENING)
        return -EINVAL;
    if (u->type == SOCK_DGRAM) { /* the default destination: it must exist now, as on Linux */
        if (!dgram_to(u, path, &err))
            return err;
        memcpy(u->dest, path, sizeof path);
        return 0;
    }
    if ((err = need_bell()))
        return err;
    struct nexus_unix_conn info;
    long conn = nx_unix_connect(path, NEXUS_UNIX_STREAM, &info, u->name);
    if (conn < 0)
        return conn; /* ENOENT, ECONNREFUSED, EPROTOTYPE, EAGAIN (backlog full) as the kernel says */
    u->state = UNIX_CONNECTED;
    chan_attach(&u->ch, conn, &info);
    return 0;
}

long unix_named_dgram_send(struct unix_sock *u, struct nxs_msg *m, const uint8_t *data) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    if (m->addr_len) { /* sendto: the address is at the slot's end (socket.c) */
        struct nxs_msg a = {.len = m->addr_len};
        long err = path_of(&a, data + NXL_LOCAL_ADDR_AT, path);
        if (err)
            return err;
    } else if (u->dest[0]) {
        memcpy(path, u->dest, sizeof path);
    } else {
        return -ENOTCONN;
    }
    long err;
    struct unix_chan *c = dgram_to(u, path, &err);
    if (!c)
        return err;
    long r = unix_dgram_send(u, c, data, m->len);
    u->full = r == -EAGAIN ? c : NULL; /* a blocking send waits for this one to drain */
    return r;
}

/* Takes the connections queued on the socket's name (new senders), as far as there is room. */
static void take_senders(struct unix_sock *u) {
    for (int i = 0; i < UNIX_DGRAM_CHANS && u->name >= 0; i++) {
        if (u->dgram[i])
            continue;
        if (!unix_named_acceptable(u))
            return;
        struct unix_chan *c = calloc(1, sizeof *c);
        if (!c)
            return;
        chan_attach(c, u->ahead, &u->ahead_info);
        u->ahead = -1;
        u->dgram[i] = c;
        u->dgram_in[i] = 1;
    }
}

/* The sender's name (or the family alone) at the slot's end, for recvfrom (socket.c). */
static void put_source(struct nxs_msg *m, uint8_t *data, const char *path) {
    struct nxs_msg name = {0};
    unix_put_name(&name, data + NXL_LOCAL_ADDR_AT, path);
    m->addr_len = name.len;
}

long unix_named_dgram_recv(struct unix_sock *u, struct nxs_msg *m, uint8_t *data) {
    uint32_t want = m->len;
    int peek = (m->flags & MSG_PEEK) != 0;
    m->len = 0;
    take_senders(u);
    for (int k = 0; k < UNIX_DGRAM_CHANS; k++) {
        int i = (int)((u->dgram_next + (unsigned)k) % UNIX_DGRAM_CHANS);
        struct unix_chan *c = u->dgram[i];
        if (!c || !u->dgram_in[i])
            continue;
        long r = unix_dgram_recv(c, m, data, want, peek);
        if (r >= 0) {
            put_source(m, data, c->path);
            u->dgram_next = (unsigned)i + 1; /* the next sender first next time */
            return r;
        }
        if (unix_lane_at_end(&c->in) || c->in.broken) { /* the sender closed and all was read */
            chan_close(c);
            free(c);
            u->dgram[i] = NULL;
        }
    }
    return u->shut_rd ? 0 : -EAGAIN;
}

uint32_t unix_named_dgram_status(struct unix_sock *u) {
    uint32_t st = NXS_EV_OPEN, len;
    if (!u->full || unix_lane_writable(&u->full->out) || unix_lane_reader_shut(&u->full->out))
        st |= NXS_EV_OUT;
    take_senders(u);
    for (int i = 0; i < UNIX_DGRAM_CHANS; i++)
        if (u->dgram[i] && u->dgram_in[i] && unix_lane_piece(&u->dgram[i]->in, 0, &len))
            st |= NXS_EV_IN;
    if (u->shut_rd)
        st |= NXS_EV_IN;
    return st;
}

int unix_named_each_chan(struct unix_sock *u, int (*arm)(struct unix_chan *c)) {
    for (int i = 0; i < UNIX_DGRAM_CHANS; i++)
        if (u->dgram[i] && !arm(u->dgram[i]))
            return 0;
    return 1;
}

int unix_named_acceptable(struct unix_sock *u) {
    if (u->ahead < 0)
        u->ahead = nx_unix_accept(u->name, &u->ahead_info);
    return u->ahead >= 0;
}

long unix_named_accept(struct unix_sock *u, struct nxs_msg *m) {
    if (u->state != UNIX_LISTENING)
        return -EINVAL;
    int32_t s = unix_free_number(-1);
    if (s < 0)
        return -EMFILE; /* the connection stays queued, as on Linux */
    if (!unix_named_acceptable(u))
        return u->ahead; /* EAGAIN: none waiting */
    struct unix_sock *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->type = SOCK_STREAM;
    a->ahead = -1;
    a->name = -1;
    a->state = UNIX_CONNECTED;
    chan_attach(&a->ch, u->ahead, &u->ahead_info);
    memcpy(a->path, u->path, sizeof a->path); /* an accepted socket has its listener's name */
    u->ahead = -1;
    unix_install(s, a);
    uint16_t family = AF_UNIX; /* accept's address: the family alone when the peer has no name */
    memcpy(m->addr, &family, sizeof family);
    m->addr_len = sizeof family;
    return s;
}

void unix_named_close(struct unix_sock *u) {
    if (u->state == UNIX_CONNECTED)
        chan_close(&u->ch);
    for (int i = 0; i < UNIX_DGRAM_CHANS; i++) {
        if (u->dgram[i]) {
            chan_close(u->dgram[i]);
            free(u->dgram[i]);
        }
    }
    if (u->name >= 0) /* bound, perhaps connected since */
        nx_unix_close(NEXUS_UNIX_NAME, u->name);
    if (u->ahead >= 0)
        nx_unix_close(NEXUS_UNIX_CONN, u->ahead);
}
