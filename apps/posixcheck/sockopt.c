/*
 * posixcheck: socket options and flags that ported daemons set, each shown to do what it says
 * rather than only to read back: SO_TYPE, SO_ACCEPTCONN, SO_ERROR (once), SO_REUSEADDR (a port
 * held by a connection), SO_KEEPALIVE and its TCP_KEEP* times, TCP_NODELAY, SO_SNDBUF/SO_RCVBUF
 * (a sender fills up sooner), SO_LINGER (a zero linger resets; a time makes close wait for the
 * peer's acknowledgements, bounded by that time), SO_RCVTIMEO/SO_SNDTIMEO (a
 * blocked call gives up with EAGAIN), MSG_DONTWAIT, MSG_PEEK, MSG_NOSIGNAL, ioctl(FIONREAD),
 * and ENOPROTOOPT/ENOTTY for what no one has. Plain POSIX (and Linux's TCP_KEEP*), proven on
 * the host against glibc first.
 */
#include <time.h> /* first: from a system header, gcc -MMD would leave libnexus's <time.h> out */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "posixcheck.h"

#define WAIT_MS 5000
#define QUIET_MS 300            /* a sender that takes nothing for this long is full */
#define FILL_CAP (64L << 20)    /* a host's autotuned buffers never need more */
#define SMALL_BUF 4096
#define TIMEOUT_US 200000       /* SO_RCVTIMEO/SO_SNDTIMEO */
#define TIMEOUT_SLACK_US 50000  /* a Linux timeout may end a tick early */
#define LINGER_S 5               /* SO_LINGER time when the peer can take everything */
#define LINGER_FITS (16L << 10)  /* bytes any peer's receive window takes unread */
#define LINGER_SHORT_S 2         /* SO_LINGER time when the peer reads nothing */
#define LINGER_UNSENT (200L << 10)
#define LINGER_LATE_S 5          /* a loaded host may wake close this much late */
#define NO_SUCH_OPTION 0x7fff
#define NO_SUCH_IOCTL 0x54ff

static int fails_with(long r, int want) { return r == -1 && errno == want; }

static int get_int(int fd, int level, int name, int *v) {
    socklen_t len = sizeof *v;
    *v = -1;
    return getsockopt(fd, level, name, v, &len) == 0 && len == sizeof *v ? 0 : -1;
}

static int set_int(int fd, int level, int name, int v) { return setsockopt(fd, level, name, &v, sizeof v); }

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static uint16_t port_of(int fd) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    return getsockname(fd, (struct sockaddr *)&sa, &len) == 0 ? ntohs(sa.sin_port) : 0;
}

static struct sockaddr_in loopback(uint16_t port) { return ipv4(INADDR_LOOPBACK, port); }

/* Sends from fd without blocking until it takes nothing for QUIET_MS, or `cap` bytes; the bytes
 * it took. */
static long fill_upto(int fd, long cap) {
    static char junk[8192];
    long total = 0;
    while (total < cap) {
        ssize_t n = send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            total += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (wait_for(fd, POLLOUT, QUIET_MS) <= 0)
            break;
    }
    return total;
}

static long fill(int fd) { return fill_upto(fd, FILL_CAP); }

/* tcp_pair with the client's SO_RCVBUF set before it connects and the accepted end's SO_SNDBUF
 * after (0: defaults): bytes client <- accepted. */
static int buffered_pair(int fds[3], int rcvbuf, int sndbuf) {
    fds[0] = listen_on(0);
    fds[1] = socket(AF_INET, SOCK_STREAM, 0);
    fds[2] = -1;
    struct sockaddr_in sa = loopback(fds[0] >= 0 ? port_of(fds[0]) : 0);
    if (fds[0] >= 0 && fds[1] >= 0 && (!rcvbuf || set_int(fds[1], SOL_SOCKET, SO_RCVBUF, rcvbuf) == 0) &&
        connect(fds[1], (struct sockaddr *)&sa, sizeof sa) == 0 && (fds[2] = accept(fds[0], NULL, NULL)) >= 0 &&
        (!sndbuf || set_int(fds[2], SOL_SOCKET, SO_SNDBUF, sndbuf) == 0))
        return 1;
    close_all(fds, 3);
    return 0;
}

static void check_type_acceptconn(void) {
    int fds[3], u = socket(AF_INET, SOCK_DGRAM, 0), t1 = -1, t2 = -1, t3 = -1, a1 = -1, a2 = -1;
    int ok = tcp_pair(fds);
    ok = ok && get_int(fds[1], SOL_SOCKET, SO_TYPE, &t1) == 0 && get_int(u, SOL_SOCKET, SO_TYPE, &t2) == 0 &&
         get_int(fds[0], SOL_SOCKET, SO_TYPE, &t3) == 0;
    check("so_type", ok && t1 == SOCK_STREAM && t2 == SOCK_DGRAM && t3 == SOCK_STREAM,
          "SO_TYPE: connected %d, UDP %d, listener %d (errno %d)", t1, t2, t3, errno);
    ok = ok && get_int(fds[0], SOL_SOCKET, SO_ACCEPTCONN, &a1) == 0 && get_int(fds[2], SOL_SOCKET, SO_ACCEPTCONN, &a2) == 0;
    check("so_acceptconn", ok && a1 == 1 && a2 == 0, "SO_ACCEPTCONN: listener %d, accepted %d (errno %d)", a1, a2, errno);
    int fails = !fails_with(setsockopt(u, SOL_SOCKET, SO_TYPE, &t1, sizeof t1), ENOPROTOOPT);
    check("so_type_read_only", !fails, "setsockopt(SO_TYPE): errno %d, not ENOPROTOOPT", errno);
    close_all(fds, 3);
    close(u);
}

/* A non-blocking connect to a port nobody listens on: POLLOUT, SO_ERROR ECONNREFUSED, then 0. */
static void check_so_error(void) {
    int h = socket(AF_INET, SOCK_STREAM, 0); /* bound, never listening: the port stays closed */
    struct sockaddr_in sa = loopback(0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), first = -1, second = -1;
    if (h >= 0 && bind(h, (struct sockaddr *)&sa, sizeof sa) == 0)
        sa = loopback(port_of(h));
    int rc = c >= 0 ? connect(c, (struct sockaddr *)&sa, sizeof sa) : 0;
    int e = errno;
    int ev = rc == -1 && e == EINPROGRESS ? wait_for(c, POLLOUT, WAIT_MS) : 0;
    if (rc == -1 && e == EINPROGRESS) {
        get_int(c, SOL_SOCKET, SO_ERROR, &first);
        get_int(c, SOL_SOCKET, SO_ERROR, &second);
    }
    check("so_error_refused_once", rc == -1 && (e == ECONNREFUSED || (ev > 0 && first == ECONNREFUSED && second == 0)),
          "connect %d (errno %d), revents %#x, SO_ERROR %d then %d", rc, e, ev, first, second);
    close(c);
    close(h);
}

/* A listener's port, still held by a connection it accepted: taken again only with SO_REUSEADDR. */
static void check_reuseaddr(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0), fds[3] = {-1, -1, -1}, v = -1;
    struct sockaddr_in sa = loopback(0);
    int ok = l >= 0 && set_int(l, SOL_SOCKET, SO_REUSEADDR, 1) == 0 && get_int(l, SOL_SOCKET, SO_REUSEADDR, &v) == 0 &&
             bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 4) == 0;
    sa = loopback(ok ? port_of(l) : 0);
    fds[1] = ok ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    ok = ok && fds[1] >= 0 && connect(fds[1], (struct sockaddr *)&sa, sizeof sa) == 0 &&
         (fds[2] = accept(l, NULL, NULL)) >= 0;
    if (l >= 0)
        close(l);
    int plain = socket(AF_INET, SOCK_STREAM, 0), reuse = socket(AF_INET, SOCK_STREAM, 0);
    int without = ok ? bind(plain, (struct sockaddr *)&sa, sizeof sa) : 0, e = errno;
    int with = ok && set_int(reuse, SOL_SOCKET, SO_REUSEADDR, 1) == 0 ? bind(reuse, (struct sockaddr *)&sa, sizeof sa) : -1;
    int e2 = errno, listening = with == 0 ? listen(reuse, 4) : -1;
    check("so_reuseaddr", ok && v == 1 && without == -1 && e == EADDRINUSE && with == 0 && listening == 0,
          "setup %d, SO_REUSEADDR read %d; bind without it %d (errno %d), with it %d (errno %d), listen %d", ok, v,
          without, e, with, e2, listening);
    close(plain);
    close(reuse);
    close_all(fds, 3);
}

static void check_keepalive_nodelay(void) {
    int fds[3], k0 = -1, k1 = -1, idle = -1, intvl = -1, cnt = -1, nd = -1, nd0 = -1;
    int ok = tcp_pair(fds);
    int l = listen_on(0), inherited = -1;
    if (l >= 0 && set_int(l, SOL_SOCKET, SO_KEEPALIVE, 1) == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0), a = -1;
        struct sockaddr_in sa = loopback(port_of(l));
        if (c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof sa) == 0 && (a = accept(l, NULL, NULL)) >= 0)
            get_int(a, SOL_SOCKET, SO_KEEPALIVE, &inherited);
        int pair[2] = {c, a};
        close_all(pair, 2);
    }
    if (l >= 0)
        close(l);
    ok = ok && get_int(fds[1], SOL_SOCKET, SO_KEEPALIVE, &k0) == 0 && set_int(fds[1], SOL_SOCKET, SO_KEEPALIVE, 1) == 0 &&
         get_int(fds[1], SOL_SOCKET, SO_KEEPALIVE, &k1) == 0;
    check("so_keepalive", ok && k0 == 0 && k1 == 1 && inherited == 1,
          "SO_KEEPALIVE %d, then %d after setting it; accepted from a keepalive listener: %d", k0, k1, inherited);
    ok = ok && set_int(fds[1], IPPROTO_TCP, TCP_KEEPIDLE, 7) == 0 && set_int(fds[1], IPPROTO_TCP, TCP_KEEPINTVL, 2) == 0 &&
         set_int(fds[1], IPPROTO_TCP, TCP_KEEPCNT, 3) == 0 && get_int(fds[1], IPPROTO_TCP, TCP_KEEPIDLE, &idle) == 0 &&
         get_int(fds[1], IPPROTO_TCP, TCP_KEEPINTVL, &intvl) == 0 && get_int(fds[1], IPPROTO_TCP, TCP_KEEPCNT, &cnt) == 0;
    int bad = ok && fails_with(set_int(fds[1], IPPROTO_TCP, TCP_KEEPIDLE, 0), EINVAL) &&
              fails_with(set_int(fds[1], IPPROTO_TCP, TCP_KEEPCNT, 128), EINVAL);
    check("tcp_keepalive_times", ok && idle == 7 && intvl == 2 && cnt == 3 && bad,
          "TCP_KEEPIDLE %d, TCP_KEEPINTVL %d, TCP_KEEPCNT %d; out of range refused: %d (errno %d)", idle, intvl, cnt,
          bad, errno);
    ok = ok && get_int(fds[2], IPPROTO_TCP, TCP_NODELAY, &nd0) == 0 && set_int(fds[2], IPPROTO_TCP, TCP_NODELAY, 1) == 0 &&
         get_int(fds[2], IPPROTO_TCP, TCP_NODELAY, &nd) == 0;
    check("tcp_nodelay", ok && nd0 == 0 && nd == 1, "TCP_NODELAY %d, then %d after setting it (errno %d)", nd0, nd, errno);
    close_all(fds, 3);
}

/* Small buffers: the value reads back smaller than the default, and a sender that nobody reads
 * from fills up sooner. */
static void check_buffers(void) {
    int big[3], small[3], snd0 = -1, rcv0 = -1, snd = -1, rcv = -1;
    long big_fill = -1, small_fill = -1;
    if (buffered_pair(big, 0, 0)) {
        get_int(big[2], SOL_SOCKET, SO_SNDBUF, &snd0);
        get_int(big[1], SOL_SOCKET, SO_RCVBUF, &rcv0);
        big_fill = fill(big[2]);
        close_all(big, 3);
    }
    if (buffered_pair(small, SMALL_BUF, SMALL_BUF)) {
        get_int(small[2], SOL_SOCKET, SO_SNDBUF, &snd);
        get_int(small[1], SOL_SOCKET, SO_RCVBUF, &rcv);
        small_fill = fill(small[2]);
        close_all(small, 3);
    }
    check("so_sndbuf_rcvbuf_values", snd >= SMALL_BUF && snd < snd0 && rcv >= SMALL_BUF && rcv < rcv0,
          "SO_SNDBUF %d (default %d), SO_RCVBUF %d (default %d) after asking for %d", snd, snd0, rcv, rcv0, SMALL_BUF);
    char text[128];
    snprintf(text, sizeof text, "a sender nobody reads took %ld bytes with small buffers, %ld with the defaults",
             small_fill, big_fill);
    note(text);
    check("so_sndbuf_rcvbuf_fill_sooner", small_fill > 0 && big_fill > 0 && small_fill < big_fill / 2, "%s", text);
}

/* The peer's next read after a close, waiting up to WAIT_MS: its result, poll's revents, errno. */
static ssize_t peer_read(int fd, int *revents, int *err) {
    char byte;
    *revents = wait_for(fd, POLLIN, WAIT_MS);
    ssize_t n = *revents > 0 ? recv(fd, &byte, 1, 0) : 0;
    *err = errno;
    return n;
}

static void check_linger(void) {
    int fds[3];
    struct linger set = {1, 5}, got = {-1, -1};
    socklen_t len = sizeof got;
    int ok = tcp_pair(fds) && setsockopt(fds[1], SOL_SOCKET, SO_LINGER, &set, sizeof set) == 0 &&
             getsockopt(fds[1], SOL_SOCKET, SO_LINGER, &got, &len) == 0;
    int short_len = ok && fails_with(setsockopt(fds[1], SOL_SOCKET, SO_LINGER, &set, sizeof(int)), EINVAL);
    check("so_linger_value", ok && len == sizeof got && got.l_onoff == 1 && got.l_linger == 5 && short_len,
          "SO_LINGER read {%d, %d} (length %u); a short value refused: %d", got.l_onoff, got.l_linger, (unsigned)len,
          short_len);
    /* no linger time: close resets, the peer's next read says ECONNRESET */
    struct linger reset = {1, 0};
    ok = ok && setsockopt(fds[1], SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0 && close(fds[1]) == 0;
    if (ok)
        fds[1] = -1;
    int ev = 0, e = 0;
    ssize_t n = ok ? peer_read(fds[2], &ev, &e) : 0;
    check("so_linger_zero_resets", ok && n == -1 && e == ECONNRESET, "revents %#x, the peer's recv %ld, errno %d", ev,
          (long)n, e);
    close_all(fds, 3);
}

/* Reads fd until the end of the stream (each read waiting at most `wait_ms`, 0: not at all);
 * the bytes read, or -1 if it ended otherwise (no data in time, an error). */
static long read_to_eof(int fd, int wait_ms) {
    static char sink[8192];
    long total = 0;
    for (;;) {
        if (wait_ms && wait_for(fd, POLLIN, wait_ms) <= 0)
            return -1;
        ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n == 0)
            return total;
        if (n < 0)
            return -1;
        total += n;
    }
}

/* SO_LINGER with a time (socket(7)): close returns only once everything queued was sent (and
 * acknowledged, with the FIN), or when the time runs out; then the peer still gets the rest. */
static void check_linger_time(void) {
    int fds[3];
    /* a peer with room for it all: once close returned, every byte and the end are at the peer,
     * readable without waiting */
    struct linger wait_long = {1, LINGER_S};
    int ok = buffered_pair(fds, 0, 0) && setsockopt(fds[2], SOL_SOCKET, SO_LINGER, &wait_long, sizeof wait_long) == 0;
    long sent = ok ? fill_upto(fds[2], LINGER_FITS) : -1;
    int64_t t0 = now_us();
    int rc = ok && sent == LINGER_FITS ? close(fds[2]) : -1;
    int64_t took = now_us() - t0;
    if (rc == 0)
        fds[2] = -1;
    long got = rc == 0 ? read_to_eof(fds[1], 0) : -1;
    char text[160];
    snprintf(text, sizeof text, "lingering close %d after %lld ms; the peer then held %ld of %ld bytes and the end",
             rc, (long long)(took / 1000), got, sent);
    note(text);
    check("so_linger_close_waits_for_acks", rc == 0 && got == sent && took < LINGER_S * 1000000L, "%s", text);
    close_all(fds, 3);
    /* bytes received and never read: close resets at once, lingering or not */
    ok = tcp_pair(fds) && setsockopt(fds[1], SOL_SOCKET, SO_LINGER, &wait_long, sizeof wait_long) == 0 &&
         send(fds[2], "x", 1, 0) == 1 && wait_for(fds[1], POLLIN, WAIT_MS) > 0;
    t0 = now_us();
    rc = ok ? close(fds[1]) : -1;
    took = now_us() - t0;
    if (rc == 0)
        fds[1] = -1;
    int ev = 0, e = 0;
    ssize_t n = rc == 0 ? peer_read(fds[2], &ev, &e) : 0;
    check("so_linger_unread_resets", rc == 0 && took < LINGER_S * 1000000L && n == -1 && e == ECONNRESET,
          "close %d after %lld ms with a byte unread; the peer's recv %ld, errno %d", rc, (long long)(took / 1000),
          (long)n, e);
    close_all(fds, 3);
    /* a peer that reads nothing: the linger time bounds close, the bytes arrive afterwards; as
     * on Linux, an O_NONBLOCK socket lingers too */
    struct linger wait_short = {1, LINGER_SHORT_S};
    ok = buffered_pair(fds, SMALL_BUF, 0) &&
         setsockopt(fds[2], SOL_SOCKET, SO_LINGER, &wait_short, sizeof wait_short) == 0 &&
         fcntl(fds[2], F_SETFL, fcntl(fds[2], F_GETFL) | O_NONBLOCK) == 0;
    sent = ok ? fill_upto(fds[2], LINGER_UNSENT) : -1;
    t0 = now_us();
    rc = ok && sent > 0 ? close(fds[2]) : -1;
    took = now_us() - t0;
    if (rc == 0)
        fds[2] = -1;
    got = rc == 0 ? read_to_eof(fds[1], WAIT_MS) : -1;
    snprintf(text, sizeof text,
             "O_NONBLOCK close %d after %lld ms (linger %d s), %ld bytes sent to a peer reading nothing; it then read %ld and the end",
             rc, (long long)(took / 1000), LINGER_SHORT_S, sent, got);
    note(text);
    check("so_linger_time_bounds_close",
          rc == 0 && took >= LINGER_SHORT_S * 1000000L - TIMEOUT_SLACK_US &&
              took < (LINGER_SHORT_S + LINGER_LATE_S) * 1000000L && got == sent,
          "%s", text);
    close_all(fds, 3);
}

/* close, and shutdown(SHUT_WR), of a socket with bytes still queued for a peer that has not
 * read yet, without SO_LINGER: neither waits, and the peer then reads every byte and the end of
 * the stream. Small buffers both ways: on Nexus the first send is posted and more than SO_SNDBUF
 * lets lwIP take, so its rest waits in the send area and must go before the FIN, also after
 * the close (docs/sockets.md, "Posted sends"). */
static void check_queued_bytes_outlive_close(void) {
    static const char *const names[] = {"close_after_fill_delivers_all", "shutdown_after_fill_delivers_all"};
    for (int shut = 0; shut < 2; shut++) {
        int fds[3];
        int ok = buffered_pair(fds, SMALL_BUF, SMALL_BUF) && fcntl(fds[2], F_SETFL, fcntl(fds[2], F_GETFL) | O_NONBLOCK) == 0;
        static char block[32 << 10]; /* more than both buffers hold: a posted send's rest stays */
        ssize_t first = ok ? send(fds[2], block, sizeof block, MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
        long sent = first > 0 ? first + fill_upto(fds[2], LINGER_UNSENT) : -1;
        int rc = sent > 0 ? (shut ? shutdown(fds[2], SHUT_WR) : close(fds[2])) : -1;
        if (rc == 0 && !shut)
            fds[2] = -1;
        long got = rc == 0 ? read_to_eof(fds[1], WAIT_MS) : -1;
        check(names[shut], rc == 0 && got == sent, "%s %d after %ld bytes sent to a peer reading nothing; it then read %ld and the end",
              shut ? "shutdown" : "close", rc, sent, got);
        close_all(fds, 3);
    }
}

static void check_timeouts(void) {
    int fds[3];
    struct timeval tv = {0, TIMEOUT_US}, got = {-1, -1}, bad = {0, 1000000};
    socklen_t len = sizeof got;
    int ok = buffered_pair(fds, 0, 0) && setsockopt(fds[2], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
             getsockopt(fds[2], SOL_SOCKET, SO_RCVTIMEO, &got, &len) == 0;
    check("so_rcvtimeo_value", ok && got.tv_sec == 0 && got.tv_usec == TIMEOUT_US,
          "SO_RCVTIMEO read {%ld, %ld} (errno %d)", (long)got.tv_sec, (long)got.tv_usec, errno);
    const char *what = NULL;
    if (!fails_with(setsockopt(fds[2], SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad), EDOM))
        what = "tv_usec 1000000 (EDOM)";
    else if (!fails_with(setsockopt(fds[2], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(int)), EINVAL))
        what = "a short value (EINVAL)";
    check("so_timeo_errors", what == NULL, "%s: errno %d", what ? what : "", errno);
    char byte;
    int64_t start = now_us();
    ssize_t n = ok ? recv(fds[2], &byte, 1, 0) : 0;
    int e = errno;
    int64_t waited = now_us() - start;
    check("so_rcvtimeo_expires", n == -1 && (e == EAGAIN || e == EWOULDBLOCK) && waited >= TIMEOUT_US - TIMEOUT_SLACK_US,
          "recv %ld (errno %d) after %lld us", (long)n, e, (long long)waited);
    /* a full connection: a blocking send gives up after SO_SNDTIMEO */
    static char chunk[8192];
    ok = ok && fill(fds[2]) > 0 && setsockopt(fds[2], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
    n = 1;
    for (int i = 0; ok && n > 0 && i < 100; i++) { /* what room was left is taken first */
        start = now_us();
        n = send(fds[2], chunk, sizeof chunk, MSG_NOSIGNAL);
        waited = now_us() - start;
    }
    e = errno;
    check("so_sndtimeo_expires", ok && n == -1 && (e == EAGAIN || e == EWOULDBLOCK) && waited >= TIMEOUT_US - TIMEOUT_SLACK_US,
          "send %ld (errno %d) after %lld us", (long)n, e, (long long)waited);
    close_all(fds, 3);
}

static void check_msg_flags(void) {
    int fds[3];
    char buf[8] = {0};
    int ok = tcp_pair(fds);
    ssize_t n = ok ? recv(fds[2], buf, sizeof buf, MSG_DONTWAIT) : 0;
    int e = errno;
    check("msg_dontwait", ok && n == -1 && (e == EAGAIN || e == EWOULDBLOCK), "recv(MSG_DONTWAIT) on a blocking socket: %ld, errno %d",
          (long)n, e);
    int pending = -1, after = -1;
    ssize_t peek = -1, got = -1;
    if (ok && send(fds[1], "hello", 5, MSG_NOSIGNAL) == 5 && wait_for(fds[2], POLLIN, WAIT_MS) > 0) {
        ioctl(fds[2], FIONREAD, &pending);
        peek = recv(fds[2], buf, sizeof buf, MSG_PEEK);
        got = recv(fds[2], buf + 5, 3, 0) + recv(fds[2], buf + 5, 2, 0);
        ioctl(fds[2], FIONREAD, &after);
    }
    check("msg_peek", peek == 5 && got == 5 && !memcmp(buf, "hello", 5) && !memcmp(buf + 5, "lo", 2),
          "peek %ld then recv %ld: '%.7s'", (long)peek, (long)got, buf);
    check("fionread_tcp", pending == 5 && after == 0, "FIONREAD %d with 5 bytes waiting, %d once read", pending, after);
    ssize_t s = ok && shutdown(fds[1], SHUT_WR) == 0 ? send(fds[1], "x", 1, MSG_NOSIGNAL) : 0;
    e = errno;
    check("msg_nosignal_epipe", s == -1 && e == EPIPE, "send after SHUT_WR: %ld, errno %d (the process lives)", (long)s, e);
    close_all(fds, 3);

    int u[2] = {socket(AF_INET, SOCK_DGRAM, 0), socket(AF_INET, SOCK_DGRAM, 0)}, empty = -1, dgram = -1;
    struct sockaddr_in sa = loopback(0);
    static char data[300];
    if (u[0] >= 0 && u[1] >= 0 && bind(u[1], (struct sockaddr *)&sa, sizeof sa) == 0) {
        sa = loopback(port_of(u[1]));
        ioctl(u[1], FIONREAD, &empty);
        if (sendto(u[0], data, sizeof data, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)sizeof data &&
            sendto(u[0], data, 10, 0, (struct sockaddr *)&sa, sizeof sa) == 10 && wait_for(u[1], POLLIN, WAIT_MS) > 0)
            ioctl(u[1], FIONREAD, &dgram);
    }
    check("fionread_udp", empty == 0 && dgram == (int)sizeof data, "FIONREAD %d with nothing, %d with datagrams of 300 and 10 waiting",
          empty, dgram);
    close_all(u, 2);
}

/* What nobody has: ENOPROTOOPT for options (never accepted unheeded), ENOTTY for requests. */
static void check_unknown(void) {
    int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0), v = 1;
    socklen_t len = sizeof v;
    const char *what = NULL;
    if (!fails_with(setsockopt(t, SOL_SOCKET, NO_SUCH_OPTION, &v, sizeof v), ENOPROTOOPT))
        what = "setsockopt(SOL_SOCKET, 0x7fff)";
    else if (!fails_with(getsockopt(t, SOL_SOCKET, NO_SUCH_OPTION, &v, &len), ENOPROTOOPT))
        what = "getsockopt(SOL_SOCKET, 0x7fff)";
    else if (!fails_with(setsockopt(t, IPPROTO_TCP, NO_SUCH_OPTION, &v, sizeof v), ENOPROTOOPT))
        what = "setsockopt(IPPROTO_TCP, 0x7fff)";
    else if (!fails_with(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT))
        what = "TCP_NODELAY on a UDP socket";
    else if (!fails_with(getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, &len), EOPNOTSUPP))
        what = "getsockopt(TCP_NODELAY) on a UDP socket (Linux: EOPNOTSUPP)";
    check("unknown_option_enoprotoopt", what == NULL, "%s: errno %d", what ? what : "", errno);
    int r = ioctl(t, NO_SUCH_IOCTL, &v), e = errno;
    check("unknown_ioctl_enotty", r == -1 && e == ENOTTY, "ioctl(0x54ff): %d, errno %d", r, e);
    close(t);
    close(u);
}

void check_sockopt(void) {
    check_type_acceptconn();
    check_so_error();
    check_reuseaddr();
    check_keepalive_nodelay();
    check_buffers();
    check_linger();
    check_linger_time();
    check_queued_bytes_outlive_close();
    check_timeouts();
    check_msg_flags();
    check_unknown();
}
