/*
 * libnexus: the POSIX socket calls, each sent to the backend of the socket's family
 * (libnexus.h, family.c) over its service link. Services never block; blocking behaviour lives
 * here: a call that would block waits on the socket's status word (nexus/link.h) and tries
 * again, unless the descriptor is O_NONBLOCK or the call passes MSG_DONTWAIT. A signal's handler
 * may run while it waits or when it returns (signal.c); a send on a stream whose peer is gone
 * raises SIGPIPE unless it passes MSG_NOSIGNAL.
 */
#include <signal.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libnexus.h"
#include "nexus.h"

static struct nxl_fd fds[NXL_FDS];

long nxl_result(long r) {
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

struct nxl_fd *nxl_fd_any(int fd) {
    if (fd < NXL_FD_FIRST || fd >= NXL_FD_FIRST + NXL_FDS || !fds[fd - NXL_FD_FIRST].used) {
        errno = EBADF;
        return NULL;
    }
    return &fds[fd - NXL_FD_FIRST];
}

struct nxl_fd *nxl_fd_at(int fd) {
    int i = fd - NXL_FD_FIRST;
    return i >= 0 && i < NXL_FDS && fds[i].used ? &fds[i] : NULL;
}

struct nxl_fd *nxl_fd_get(int fd) {
    struct nxl_fd *f = nxl_fd_any(fd);
    if (f && (f->is_file || f->pipe_end)) {
        errno = ENOTSOCK;
        return NULL;
    }
    return f;
}

/* The lowest free descriptor, cleared and marked used, as POSIX's open and socket pick it. */
static int fd_take(void) {
    for (int i = 0; i < NXL_FDS; i++) {
        if (!fds[i].used) {
            memset(&fds[i], 0, sizeof fds[i]);
            fds[i].used = 1;
            return i;
        }
    }
    return -EMFILE;
}

/* The instance of the family's service now (a family served in the app has one, forever). */
static uint32_t family_epoch(const struct nxl_family *family) {
    return family->backend ? link_client_epoch(family->backend) : 0;
}

int nxl_fd_alloc(const struct nxl_family *family, int32_t sock, int type, int nonblock) {
    int i = fd_take();
    if (i < 0)
        return i;
    fds[i].sock = sock;
    fds[i].type = (uint8_t)type;
    fds[i].family = family;
    fds[i].nonblock = (uint8_t)(nonblock != 0);
    fds[i].epoch = family_epoch(family);
    return i + NXL_FD_FIRST;
}

int nxl_fd_alloc_file(const struct nxl_open_file *file) {
    int i = fd_take();
    if (i < 0)
        return i;
    fds[i].is_file = 1;
    fds[i].file = *file;
    return i + NXL_FD_FIRST;
}

void nxl_fd_free(int fd) { fds[fd - NXL_FD_FIRST].used = 0; }

int nxl_fd_live(const struct nxl_fd *f) {
    return f->epoch == family_epoch(f->family) ? 0 : -ECONNRESET;
}

uint32_t nxl_fd_status(const struct nxl_fd *f) {
    const struct nxl_family *fam = f->family;
    return fam->local ? fam->local->status(f->sock) : link_client_status(fam->backend, f->sock);
}

/* Waits until the socket's status has one of `ready`; -EAGAIN at once if `nonblock`, or when
 * timeout_ns (0: none) ran out. */
static int wait_status(const struct nxl_fd *f, uint32_t ready, int nonblock, uint64_t timeout_ns) {
    uint64_t start = nx_clock_ns();
    struct nxl_watch w = {0};
    nxl_watch_add(&w, f->family);
    nxl_sigio_watch(&w);
    nxl_woke_from_sleep = 0;
    for (;;) {
        nxl_watch_mark(&w);
        if (nxl_fd_live(f))
            return -ECONNRESET;
        if (nxl_fd_status(f) & ready)
            return 0;
        if (nonblock)
            return -EAGAIN;
        uint64_t left = UINT64_MAX;
        if (timeout_ns) {
            uint64_t waited = nx_clock_ns() - start;
            if (waited >= timeout_ns)
                return -EAGAIN; /* SO_RCVTIMEO/SO_SNDTIMEO expiry reads as EAGAIN, as on Linux */
            left = timeout_ns - waited;
        }
        /* As Linux (signal(7)): SA_RESTART restarts a socket call, unless it has a timeout. */
        long intr = nxl_signal_interrupts(timeout_ns == 0);
        if (intr)
            return (int)intr;
        if (nxl_watch_sleep(&w, left) == -ETIMEDOUT && f->family->backend &&
            !link_client_peer_alive(f->family->backend))
            return -ECONNRESET;
    }
}

int nxl_wait_events(const struct nxl_fd *f, uint32_t events, uint64_t timeout_ns) {
    return wait_status(f, events | NXS_EV_ERR | NXS_EV_HUP, f->nonblock, timeout_ns);
}

/* A request to the family's backend, as link_client_call makes it over a service link; a
 * family served in the app answers in its own data slot. */
static long family_call(const struct nxl_family *fam, struct nxs_msg *m, const void *in, uint32_t in_len,
                        void *out, uint32_t out_room) {
    if (!fam->local)
        return link_client_call(fam->backend, m, in, in_len, out, out_room);
    uint8_t *data = fam->local->data();
    if (!data || in_len > NXS_SLOT_DATA)
        return data ? -EINVAL : -ENOMEM;
    if (in && in_len)
        memcpy(data, in, in_len);
    long r = fam->local->call(m, data);
    if (m->len > out_room)
        m->len = out_room;
    if (out && m->len)
        memcpy(out, data, m->len);
    return r;
}

/* Whether the socket's status word already says that a receive (on a listener, an accept)
 * would find nothing, so the answer is EAGAIN without asking the service: a round trip, with
 * its two fiber switches, spared (a nonblocking server's read after accept and its read while
 * it lingers for the peer's FIN; a blocking call goes straight to its wait). Only for a family
 * whose statuses are exact (libnexus.h) and a socket known to be connected or listening, where
 * the service's EAGAIN has no other cause. A word the service has not yet brought up to date
 * reads as data arriving a moment later: poll and the wait see the change when it comes. */
static int nothing_to_take(const struct nxl_fd *f, int listener) {
    if (!f->family->exact_status || !(listener ? f->listening : f->connected) || nxl_fd_live(f))
        return 0;
    uint32_t st = nxl_fd_status(f);
    return (st & NXS_EV_OPEN) && !(st & (NXS_EV_IN | NXS_EV_ERR | NXS_EV_HUP));
}

/* A request on an open socket; fails fast if the socket belongs to a dead service instance. */
static long sock_call(const struct nxl_fd *f, struct nxs_msg *m, const void *in, uint32_t in_len, void *out,
                      uint32_t out_room) {
    if (nxl_fd_live(f))
        return -ECONNRESET;
    m->sock = f->sock;
    return family_call(f->family, m, in, in_len, out, out_room);
}

static void put_addr(const struct nxs_msg *m, struct sockaddr *addr, socklen_t *addrlen) {
    if (!addr || !addrlen)
        return;
    socklen_t n = m->addr_len < *addrlen ? m->addr_len : *addrlen;
    memcpy(addr, m->addr, n);
    *addrlen = m->addr_len;
}

static long set_addr(struct nxs_msg *m, const struct sockaddr *addr, socklen_t len) {
    if (!addr)
        return -EFAULT;
    if (len > NXS_ADDR_MAX)
        len = NXS_ADDR_MAX;
    memcpy(m->addr, addr, len);
    m->addr_len = len;
    return 0;
}

int socket(int domain, int type, int protocol) {
    const struct nxl_family *family = nxl_family(domain);
    if (!family)
        return (int)nxl_result(-EAFNOSUPPORT);
    long err = family->backend ? link_client_ready(family->backend) : 0;
    if (err)
        return (int)nxl_result(err);
    struct nxs_msg m = {.op = NXS_OP_SOCKET, .sock = -1};
    m.arg[0] = (uint32_t)domain;
    m.arg[1] = (uint32_t)(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
    m.arg[2] = (uint32_t)protocol;
    long s = family_call(family, &m, NULL, 0, NULL, 0);
    if (s < 0)
        return (int)nxl_result(s);
    int fd = nxl_fd_alloc(family, (int32_t)s, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), type & SOCK_NONBLOCK);
    if (fd < 0) {
        struct nxs_msg c = {.op = NXS_OP_CLOSE, .sock = (int32_t)s};
        family_call(family, &c, NULL, 0, NULL, 0);
    }
    return (int)nxl_result(fd);
}

static int simple(int fd, struct nxs_msg *m) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    return (int)nxl_result(sock_call(f, m, NULL, 0, NULL, 0));
}

/* A request that names an address: in the protocol's address field for a service, whole in the
 * data for a family served in the app (an AF_UNIX path is longer than the field). */
static long addr_call(const struct nxl_fd *f, struct nxs_msg *m, const struct sockaddr *addr, socklen_t len) {
    if (!f->family->local) {
        long err = set_addr(m, addr, len);
        return err ? err : sock_call(f, m, NULL, 0, NULL, 0);
    }
    if (!addr)
        return -EFAULT;
    if (len > NXS_SLOT_DATA)
        return -EINVAL;
    m->len = len;
    return sock_call(f, m, addr, len, NULL, 0);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    struct nxs_msg m = {.op = NXS_OP_BIND};
    return (int)nxl_result(addr_call(f, &m, addr, len));
}

int listen(int fd, int backlog) {
    struct nxs_msg m = {.op = NXS_OP_LISTEN};
    m.arg[0] = backlog < 0 ? 0 : (uint32_t)backlog;
    int r = simple(fd, &m);
    if (r == 0)
        nxl_fd_at(fd)->listening = 1;
    return r;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    for (;;) {
        struct nxs_msg m = {.op = NXS_OP_ACCEPT};
        long s = nothing_to_take(f, 1) ? -EAGAIN : sock_call(f, &m, NULL, 0, NULL, 0);
        if (s >= 0) {
            int nfd = nxl_fd_alloc(f->family, (int32_t)s, SOCK_STREAM, flags & SOCK_NONBLOCK);
            if (nfd < 0) {
                struct nxs_msg c = {.op = NXS_OP_CLOSE, .sock = (int32_t)s};
                family_call(f->family, &c, NULL, 0, NULL, 0);
                return (int)nxl_return(nfd);
            }
            nxl_fd_at(nfd)->connected = 1;
            put_addr(&m, addr, addrlen);
            return (int)nxl_return(nfd);
        }
        if (s != -EAGAIN)
            return (int)nxl_return(s);
        long w = nxl_wait_events(f, NXS_EV_IN, f->rcvtimeo_ns);
        if (w)
            return (int)nxl_return(w);
    }
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen) { return accept4(fd, addr, addrlen, 0); }

static long pending_error(const struct nxl_fd *f) {
    int value = 0;
    struct nxs_msg m = {.op = NXS_OP_GETSOCKOPT};
    m.arg[0] = SOL_SOCKET;
    m.arg[1] = SO_ERROR;
    m.len = sizeof value;
    long r = sock_call(f, &m, NULL, 0, &value, sizeof value);
    return r < 0 ? r : -value;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    struct nxs_msg m = {.op = NXS_OP_CONNECT};
    long r = addr_call(f, &m, addr, len);
    if (r == -EINPROGRESS && !f->nonblock) {
        r = nxl_wait_events(f, NXS_EV_OUT, f->sndtimeo_ns);
        if (r == -EAGAIN)
            r = -ETIMEDOUT;
        if (!r)
            r = pending_error(f);
    }
    f->connected |= r == 0;
    return (int)nxl_return(r); /* EINTR: the connection goes on, as POSIX says */
}

/* The link slot's data, where a send's pieces are gathered and a receive's bytes arrive. */
static uint8_t *slot_data(const struct nxl_fd *f) {
    return f->family->local ? f->family->local->data() : link_client_data(f->family->backend);
}

/* The most payload one request carries: the whole slot, but for a family served in the app,
 * whose slot ends with the address (NXL_LOCAL_ADDR_AT). */
static uint32_t slot_room(const struct nxl_fd *f) { return f->family->local ? NXL_LOCAL_ADDR_AT : NXS_SLOT_DATA; }

/* A send's destination: in the request for a service, whole at the slot's end for a family
 * served in the app. */
static long put_dest(const struct nxl_fd *f, struct nxs_msg *m, uint8_t *slot, const struct sockaddr *to,
                     socklen_t tolen) {
    if (!f->family->local)
        return set_addr(m, to, tolen);
    if (tolen > NXL_LOCAL_ADDR_ROOM)
        return -EINVAL;
    memcpy(slot + NXL_LOCAL_ADDR_AT, to, tolen);
    m->addr_len = tolen;
    return 0;
}

/* A receive's source, from the request or from the slot's end (put_dest). */
static void get_source(const struct nxl_fd *f, const struct nxs_msg *m, const uint8_t *slot, struct sockaddr *addr,
                       socklen_t *addrlen) {
    if (!f->family->local || !addr || !addrlen) {
        put_addr(m, addr, addrlen);
        return;
    }
    socklen_t n = m->addr_len < NXL_LOCAL_ADDR_ROOM ? m->addr_len : NXL_LOCAL_ADDR_ROOM;
    memcpy(addr, slot + NXL_LOCAL_ADDR_AT, n < *addrlen ? n : *addrlen);
    *addrlen = n;
}

/* Bytes a chunk of the send area is filled with until the service says the stream's segment
 * size (SEND's reply arg1): one TCP segment over Ethernet and IPv4, so that the Membrane sends
 * each chunk as one frame from where it lies. */
#define SEND_AREA_FILL 1460u
#define SEND_AREA_FILL_MIN 536u /* the least segment size TCP lets a peer ask for */

/* Where byte `at` of the pieces lies. */
static uintptr_t iov_address(const struct iovec *iov, long n, size_t at) {
    for (long i = 0; i < n; i++) {
        if (at < iov[i].iov_len)
            return (uintptr_t)iov[i].iov_base + at;
        at -= iov[i].iov_len;
    }
    return 0;
}

/* The link a stream socket of a service reaches, or NULL (a family served in the app). */
static struct link_client *stream_link(const struct nxl_fd *f) {
    return f->type == SOCK_STREAM && !f->family->local ? f->family->backend : NULL;
}

/* Puts the next bytes of a stream send into the chunks of the send area the service does not
 * hold and lists them in the slot (nexus/sockproto.h, SEND's arg0): the bytes, or 0 if the
 * send goes through the slot alone (not a stream of a service with a send area, nothing to
 * send, or every chunk held). What does not fit the chunks waits for the next request rather
 * than riding behind the list: bytes in the slot are copied twice (here and into the stack),
 * and a socket whose own chunks fill the area waits for them instead (area_wait). */
static uint32_t fill_send_area(const struct nxl_fd *f, struct nxs_msg *m, const struct iovec *iov, long n,
                               size_t done, size_t len, uint8_t *slot) {
    uint64_t held;
    struct link_client *lc = stream_link(f);
    uint8_t *area = lc ? link_client_send_area(lc, &held) : NULL;
    if (!area)
        return 0;
    uint32_t k = 0, fill = f->send_fill ? f->send_fill : SEND_AREA_FILL;
    size_t at = done;
    for (uint32_t c = 0; c < NXS_SEND_CHUNKS && at < len; c++) {
        if (held >> c & 1)
            continue;
        uint32_t piece = len - at > fill ? fill : (uint32_t)(len - at);
        uint8_t offset = (uint8_t)(iov_address(iov, n, at) & 7); /* memcpy moves words between equal alignments */
        nxl_iov_gather(iov, n, at, area + c * NXS_SEND_CHUNK + offset, piece);
        struct nxs_chunk e = {(uint8_t)c, offset, (uint16_t)piece};
        memcpy(slot + k++ * sizeof e, &e, sizeof e);
        at += piece;
    }
    if (k == 0)
        return 0;
    m->arg[0] = k;
    m->len = k * (uint32_t)sizeof(struct nxs_chunk);
    return (uint32_t)(at - done);
}

/* Every chunk held and the socket shows no POLLOUT: the service says this socket waits for its
 * own chunks (or for the window, or for a posted send's rest), so a request through the slot
 * would be refused or would copy what the chunks will carry once the peer acknowledges them. */
static int area_wait(const struct nxl_fd *f) {
    uint64_t held;
    struct link_client *lc = stream_link(f);
    if (!lc || !link_client_send_area(lc, &held))
        return 0;
    uint32_t st = nxl_fd_status(f);
    return (st & (NXS_EV_OPEN | NXS_EV_OUT | NXS_EV_ERR | NXS_EV_HUP)) == NXS_EV_OPEN;
}

/* How a posted send of this socket ended, once: the error, or 0 (nexus/link.h, the post slot). */
static long posted_error(const struct nxl_fd *f) {
    struct link_client *lc = stream_link(f);
    return lc ? link_client_post_error(lc, f->sock) : 0;
}

/* The flags a posted send may carry: none the Membrane must answer at once. */
#define POSTABLE_FLAGS (MSG_NOSIGNAL | MSG_DONTWAIT | MSG_EOF)
/* The largest send posted. A switch saved matters to a small response; a bulk stream's sends
 * wait for the window anyway, and a post's chunks, held by the app until the reply, left the
 * next send fewer, so more of it went through the slot (1 MiB GETs: 0.39 copies per byte more
 * with 32 KiB sends posted). */
#define POST_MAX (16u << 10)

/* A stream send that fits the free chunks of the send area whole, on a socket that shows
 * POLLOUT and no error, is posted (docs/sockets.md, "Posted sends"): the service takes every
 * byte, into lwIP now or later from the chunks in order, and the app goes on without waiting
 * for the reply, saving a switch each way. 1 if posted; 0 to send the usual way. */
static int post_send(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags) {
    struct link_client *lc = stream_link(f);
    uint64_t held;
    uint8_t *area = lc && !(flags & ~POSTABLE_FLAGS) && len > 0 && len <= POST_MAX && !f->wr_shut && !nxl_fd_live(f)
                        ? link_client_send_area(lc, &held)
                        : NULL;
    if (!area || !link_client_can_post(lc))
        return 0;
    uint32_t st = nxl_fd_status(f);
    if ((st & (NXS_EV_OPEN | NXS_EV_OUT | NXS_EV_ERR | NXS_EV_HUP)) != (NXS_EV_OPEN | NXS_EV_OUT))
        return 0;
    uint64_t all = (1ull << NXS_SEND_CHUNKS) - 1, fill = f->send_fill ? f->send_fill : SEND_AREA_FILL;
    if ((uint64_t)__builtin_popcountll(~held & all) * fill < len)
        return 0;
    struct nxs_msg m = {.op = NXS_OP_SEND, .sock = f->sock};
    m.flags = (uint32_t)flags;
    struct nxs_chunk list[NXS_SEND_CHUNKS];
    if (fill_send_area(f, &m, iov, n, 0, len, (uint8_t *)list) != len || m.len != m.arg[0] * sizeof list[0])
        return 0; /* cannot be: the chunks had room; the usual way fills them again */
    uint64_t named = 0;
    for (uint32_t i = 0; i < m.arg[0]; i++)
        named |= 1ull << list[i].index;
    if (link_client_post(lc, &m, list, m.len, named) != 0)
        return 0;
    /* An app that had to sleep for this work is not busy: the service takes the post now, so
     * the bytes leave at once and the peer's acknowledgement comes while the CPU is still
     * awake (an idle guest woken again for it cost one connection about a fifth of its
     * requests/s). A busy app's post rides its next switch, the one the post saves. */
    if (nxl_woke_from_sleep) {
        nxl_woke_from_sleep = 0;
        nx_yield();
    }
    return 1;
}

/* Bytes sent, or -errno. */
static long send_iov(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags,
                     const struct sockaddr *to, socklen_t tolen) {
    if (f->type != SOCK_STREAM && len > NXS_SLOT_DATA)
        return -EMSGSIZE;
    uint8_t *slot = slot_data(f);
    if (!slot)
        return -ENOTCONN;
    size_t done = 0;
    int nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    uint32_t room = slot_room(f);
    /* MSG_EOF: only on a stream, and on the request that carries the last bytes; a service
     * that does not take it gets a shutdown once every byte went. */
    int eof = (flags & MSG_EOF) && f->type == SOCK_STREAM;
    long failed = posted_error(f);
    if (failed)
        return failed;
    if (!to && (!eof || f->family->send_eof) && post_send(f, iov, n, len, flags)) {
        f->wr_shut |= (uint8_t)eof;
        return (long)len;
    }
    flags &= ~MSG_EOF;
    do {
        struct nxs_msg m = {.op = NXS_OP_SEND};
        m.flags = (uint32_t)flags;
        if (to) {
            long err = put_dest(f, &m, slot, to, tolen); /* again on a retry: the slot served others */
            if (err)
                return done ? (long)done : err;
        }
        /* Either way again on a retry: the slot served others, the service took chunks back. */
        uint32_t chunk = to ? 0 : fill_send_area(f, &m, iov, n, done, len, slot);
        long r;
        if (!chunk && done < len && area_wait(f)) {
            r = -EAGAIN;
        } else {
            if (!chunk) {
                chunk = len - done > room ? room : (uint32_t)(len - done);
                m.len = chunk;
                nxl_iov_gather(iov, n, done, slot, chunk);
            }
            if (eof && f->family->send_eof && done + chunk == len)
                m.flags |= MSG_EOF;
            r = sock_call(f, &m, NULL, m.len, NULL, 0);
        }
        if (m.arg[0] && m.arg[1] >= SEND_AREA_FILL_MIN && m.arg[1] <= NXS_SEND_CHUNK - 8)
            f->send_fill = (uint16_t)m.arg[1]; /* 8: the room an offset mod 8 takes */
        if (r > 0) {
            done += (size_t)(r < chunk ? r : chunk);
            continue;
        }
        if (r == 0 && len == 0)
            return 0;
        if (r == -EAGAIN && !nonblock) {
            r = nxl_wait_events(f, NXS_EV_OUT, f->sndtimeo_ns);
            if (!r)
                continue;
        }
        return done ? (long)done : r < 0 ? r : -EIO;
    } while (done < len);
    f->wr_shut |= (uint8_t)eof;
    if (eof && !f->family->send_eof) {
        struct nxs_msg m = {.op = NXS_OP_SHUTDOWN};
        m.arg[0] = SHUT_WR;
        sock_call(f, &m, NULL, 0, NULL, 0); /* the bytes went; a failure here is the next call's */
    }
    return (long)done;
}

ssize_t nxl_send_iov(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags,
                     const struct sockaddr *to, socklen_t tolen) {
    long r = send_iov(f, iov, n, len, flags, to, tolen);
    if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
        nxl_signal_raise(SIGPIPE);
    return nxl_return(r);
}

static ssize_t send_common(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                           socklen_t tolen) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    if (len && !buf)
        return nxl_result(-EFAULT);
    struct iovec piece = {(void *)(uintptr_t)buf, len};
    return nxl_send_iov(f, &piece, 1, len, flags, to, tolen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) { return send_common(fd, buf, len, flags, NULL, 0); }

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen) {
    return send_common(fd, buf, len, flags, to, to ? tolen : 0);
}

/* Bytes received, or -errno. */
static long recv_iov(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags,
                     struct sockaddr *from, socklen_t *fromlen, int *msg_flags) {
    uint8_t *slot = slot_data(f);
    if (!slot)
        return -ENOTCONN;
    size_t done = 0;
    int nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    /* MSG_WAITALL on a stream keeps reading until the buffer is full (a peek cannot). */
    int wait_all = (flags & MSG_WAITALL) && !(flags & MSG_PEEK);
    long failed = posted_error(f);
    if (failed)
        return failed;
    for (;;) {
        struct nxs_msg m = {.op = NXS_OP_RECV};
        m.flags = (uint32_t)(flags & (MSG_PEEK));
        uint32_t room = slot_room(f);
        uint32_t want = len - done > room ? room : (uint32_t)(len - done);
        m.len = want;
        long r = nothing_to_take(f, 0) ? -EAGAIN : sock_call(f, &m, NULL, 0, NULL, want);
        if (r >= 0) {
            uint32_t got = (uint64_t)r < m.len ? (uint32_t)r : m.len;
            nxl_iov_scatter(iov, n, done, slot, got);
            if (!done)
                get_source(f, &m, slot, from, fromlen);
            done += got;
            if (f->type != SOCK_STREAM) {
                /* A datagram comes whole or cut: the service says how long it was (arg0). */
                int cut = m.arg[0] > got;
                if (cut && msg_flags)
                    *msg_flags |= MSG_TRUNC;
                return cut && (flags & MSG_TRUNC) ? (long)m.arg[0] : (long)done;
            }
            if (r == 0 || !wait_all || done == len)
                return (long)done;
            continue;
        }
        if (r == -EAGAIN && !nonblock && (!done || wait_all)) {
            r = nxl_wait_events(f, NXS_EV_IN, f->rcvtimeo_ns);
            if (!r)
                continue;
        }
        return done ? (long)done : r;
    }
}

ssize_t nxl_recv_iov(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags,
                     struct sockaddr *from, socklen_t *fromlen, int *msg_flags) {
    return nxl_return(recv_iov(f, iov, n, len, flags, from, fromlen, msg_flags));
}

static ssize_t recv_common(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    if (len && !buf)
        return nxl_result(-EFAULT);
    struct iovec piece = {buf, len};
    return nxl_recv_iov(f, &piece, 1, len, flags, from, fromlen, NULL);
}

ssize_t recv(int fd, void *buf, size_t len, int flags) { return recv_common(fd, buf, len, flags, NULL, NULL); }

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen) {
    return recv_common(fd, buf, len, flags, from, fromlen);
}

int shutdown(int fd, int how) {
    struct nxs_msg m = {.op = NXS_OP_SHUTDOWN};
    m.arg[0] = (uint32_t)how;
    int r = simple(fd, &m);
    if (r == 0 && how != SHUT_RD)
        nxl_fd_get(fd)->wr_shut = 1;
    return r;
}

/* Closing a socket of a dead service instance only frees the descriptor; a file needs nothing
 * more (the kernel keeps the writable area's files by name, not by descriptor). */
static int close_socket(int fd) {
    struct nxl_fd *f = nxl_fd_any(fd);
    if (!f)
        return -1;
    long r = 0;
    if (!f->is_file && !nxl_fd_live(f)) {
        struct nxs_msg m = {.op = NXS_OP_CLOSE, .flags = NXS_CLOSE_LINGER};
        r = sock_call(f, &m, NULL, 0, NULL, 0);
        if (r > 0) { /* SO_LINGER with a time (socket(7)): O_NONBLOCK or not, as Linux */
            wait_status(f, NXS_EV_DRAINED | NXS_EV_ERR, 0, (uint64_t)r * 1000000000ull);
            struct nxs_msg last = {.op = NXS_OP_CLOSE};
            r = sock_call(f, &last, NULL, 0, NULL, 0);
        }
        if (r == -ECONNRESET || r == -EBADF)
            r = 0;
        posted_error(f); /* the socket's number may name another socket next */
    }
    nxl_fd_free(fd);
    return (int)nxl_result(r);
}

static uint64_t timeval_ns(const struct timeval *tv) {
    return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    if (!value && len)
        return (int)nxl_result(-EFAULT);
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        if (len < sizeof(struct timeval))
            return (int)nxl_result(-EINVAL);
        const struct timeval *tv = value;
        if (tv->tv_usec < 0 || tv->tv_usec >= 1000000)
            return (int)nxl_result(-EDOM); /* as Linux */
        uint64_t ns = tv->tv_sec < 0 ? 0 : timeval_ns(tv); /* a time past: no limit, as Linux */
        *(name == SO_RCVTIMEO ? &f->rcvtimeo_ns : &f->sndtimeo_ns) = ns;
        return 0;
    }
    struct nxs_msg m = {.op = NXS_OP_SETSOCKOPT};
    m.arg[0] = (uint32_t)level;
    m.arg[1] = (uint32_t)name;
    m.len = len > 64 ? 64 : len;
    return (int)nxl_result(sock_call(f, &m, value, m.len, NULL, 0));
}

int getsockopt(int fd, int level, int name, void *value, socklen_t *len) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    if (!value || !len)
        return (int)nxl_result(-EFAULT);
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        uint64_t ns = name == SO_RCVTIMEO ? f->rcvtimeo_ns : f->sndtimeo_ns;
        struct timeval tv = {(time_t)(ns / 1000000000ull), (suseconds_t)(ns % 1000000000ull / 1000)};
        socklen_t n = *len < sizeof tv ? *len : sizeof tv;
        memcpy(value, &tv, n);
        *len = n;
        return 0;
    }
    uint8_t v[16]; /* an int, or a struct linger */
    struct nxs_msg m = {.op = NXS_OP_GETSOCKOPT};
    m.arg[0] = (uint32_t)level;
    m.arg[1] = (uint32_t)name;
    m.len = sizeof v;
    long r = sock_call(f, &m, NULL, 0, v, sizeof v);
    if (r < 0)
        return (int)nxl_result(r);
    socklen_t n = *len < m.len ? *len : m.len;
    memcpy(value, v, n);
    *len = n;
    return 0;
}

static int sockname(int fd, struct sockaddr *addr, socklen_t *len, int op) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return -1;
    if (!addr || !len)
        return (int)nxl_result(-EFAULT);
    struct nxs_msg m = {.op = (uint32_t)op};
    if (f->family->local) { /* the name comes whole in the data (addr_call) */
        uint8_t name[sizeof(struct sockaddr_storage)];
        long r = sock_call(f, &m, NULL, 0, name, sizeof name);
        if (r < 0)
            return (int)nxl_result(r);
        memcpy(addr, name, m.len < *len ? m.len : *len);
        *len = m.len;
        return 0;
    }
    long r = sock_call(f, &m, NULL, 0, NULL, 0);
    if (r < 0)
        return (int)nxl_result(r);
    put_addr(&m, addr, len);
    return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len) { return sockname(fd, addr, len, NXS_OP_GETSOCKNAME); }
int getpeername(int fd, struct sockaddr *addr, socklen_t *len) { return sockname(fd, addr, len, NXS_OP_GETPEERNAME); }

/* Only a family served in the app (AF_UNIX) makes pairs; Linux says EOPNOTSUPP for others. */
int socketpair(int domain, int type, int protocol, int sv[2]) {
    const struct nxl_family *family = nxl_family(domain);
    if (!family)
        return (int)nxl_result(-EAFNOSUPPORT);
    if (!family->local)
        return (int)nxl_result(-EOPNOTSUPP);
    if (!sv)
        return (int)nxl_result(-EFAULT);
    int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int32_t s[2];
    long r = family->local->pair(kind, protocol, s);
    if (r)
        return (int)nxl_result(r);
    int fd[2] = {nxl_fd_alloc(family, s[0], kind, type & SOCK_NONBLOCK), -EMFILE};
    if (fd[0] >= 0)
        fd[1] = nxl_fd_alloc(family, s[1], kind, type & SOCK_NONBLOCK);
    if (fd[1] < 0) { /* out of descriptors: close what was made */
        for (int i = 0; i < 2; i++) {
            struct nxs_msg c = {.op = NXS_OP_CLOSE, .sock = s[i]};
            if (fd[i] >= 0)
                nxl_fd_free(fd[i]);
            family_call(family, &c, NULL, 0, NULL, 0);
        }
        return (int)nxl_result(fd[0] < 0 ? fd[0] : fd[1]);
    }
    sv[0] = fd[0];
    sv[1] = fd[1];
    return 0;
}

/* ---- the file calls, for descriptors that are sockets or files (0..2 are the console) ---- */

ssize_t read(int fd, void *buf, size_t len) {
    if (fd == 0)
        return nxl_result(nxl_console_read(buf, len));
    if (fd < NXL_FD_FIRST)
        return nxl_result(-EBADF);
    struct nxl_fd *f = nxl_fd_any(fd);
    if (f && f->is_file)
        return nxl_result(nxl_file_read(f, buf, len));
    if (f && f->pipe_end)
        return nxl_pipe_io(f, &(struct iovec){buf, len}, 1, len, 0);
    if (f && len == 0)
        return 0; /* as Linux's read: nothing asked, nothing waited for (recv of 0 bytes waits) */
    return recv_common(fd, buf, len, 0, NULL, NULL);
}

ssize_t write(int fd, const void *buf, size_t len) {
    if (fd == 1 || fd == 2) {
        size_t done = 0;
        while (done < len) {
            size_t n = len - done > NEXUS_CONSOLE_WRITE_MAX ? NEXUS_CONSOLE_WRITE_MAX : len - done;
            long r = nx_console_write((const char *)buf + done, n);
            if (r < 0)
                return done ? (ssize_t)done : nxl_result(r);
            done += (size_t)r;
        }
        return (ssize_t)done;
    }
    if (fd < NXL_FD_FIRST)
        return nxl_result(-EBADF);
    struct nxl_fd *f = nxl_fd_any(fd);
    if (f && f->is_file)
        return nxl_result(nxl_file_write(f, buf, len));
    if (f && f->pipe_end)
        return nxl_pipe_io(f, &(struct iovec){(void *)(uintptr_t)buf, len}, 1, len, 1);
    return send_common(fd, buf, len, 0, NULL, 0);
}

int close(int fd) {
    if (fd >= 0 && fd < NXL_FD_FIRST)
        return 0; /* the console stays */
    return close_socket(fd);
}

int fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    int arg = cmd == F_SETFL || cmd == F_SETFD || cmd == F_SETOWN ? va_arg(ap, int) : 0;
    va_end(ap);
    if (fd >= 0 && fd < NXL_FD_FIRST)
        return (int)nxl_result(nxl_console_fcntl(fd, cmd, arg));
    struct nxl_fd *f = nxl_fd_any(fd);
    if (!f)
        return -1;
    int access = f->is_file ? f->file.flags : f->pipe_end == NXL_PIPE_READ ? O_RDONLY
                                            : f->pipe_end == NXL_PIPE_WRITE ? O_WRONLY : O_RDWR;
    switch (cmd) {
    case F_GETFL: return access | (f->nonblock ? O_NONBLOCK : 0) | (f->async ? O_ASYNC : 0);
    case F_SETFL:
        f->nonblock = (arg & O_NONBLOCK) != 0;
        nxl_sigio_set(f, (arg & O_ASYNC) != 0);
        return 0;
    case F_GETOWN: return f->owner;
    case F_SETOWN: f->owner = arg; return 0; /* a pid; SIGIO goes only to this app's own */
    case F_GETFD:
    case F_SETFD: return 0;
    default: return (int)nxl_result(-EINVAL);
    }
}

/* FIONREAD of a socket: what a receive could take now, asked of the service. */
static long socket_readable(struct nxl_fd *f) {
    struct nxs_msg m = {.op = NXS_OP_READABLE};
    long r = sock_call(f, &m, NULL, 0, NULL, 0);
    return r == -ENOSYS ? -ENOTTY : r; /* a family service that cannot tell */
}

int ioctl(int fd, unsigned long request, ...) {
    struct nxl_fd *f = nxl_fd_any(fd);
    if (!f)
        return -1;
    va_list ap;
    va_start(ap, request);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    if (request != FIONBIO && request != FIONREAD)
        return (int)nxl_result(-ENOTTY);
    if (!arg)
        return (int)nxl_result(-EFAULT);
    if (request == FIONBIO) { /* any descriptor, as Linux */
        f->nonblock = *arg != 0;
        return 0;
    }
    long n = f->is_file ? nxl_file_readable(f) : socket_readable(f);
    if (n < 0)
        return (int)nxl_result(n);
    *arg = n > INT_MAX ? INT_MAX : (int)n;
    return 0;
}
