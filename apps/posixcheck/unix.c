/*
 * posixcheck: AF_UNIX socket pairs, as one process sees them (socketpair(2), unix(7)). A stream
 * pair carries bytes both ways, in order, with end of file when the peer closes or shuts down
 * writing, EPIPE (and SIGPIPE, unless MSG_NOSIGNAL) on a send to a closed peer, EAGAIN when full
 * or empty and non-blocking, MSG_PEEK, FIONREAD, SO_RCVTIMEO. A datagram pair keeps every
 * datagram's boundaries (a short buffer cuts one: MSG_TRUNC) and refuses a send to a closed peer
 * with ECONNREFUSED. poll and select see the readiness; bad arguments get Linux's errors.
 */
/* libnexus's headers first (see signals.c). */
#include <time.h>
#include <signal.h>
#include <fcntl.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "posixcheck.h"

#define FILL_LIMIT 100000 /* sends before a full pair must have said EAGAIN */
#define TIMEOUT_MS 200    /* SO_RCVTIMEO in the timeout check */

/* ESOCKTNOSUPPORT is not POSIX; C libraries that hide it cannot return it either. */
#ifndef ESOCKTNOSUPPORT
#define ESOCKTNOSUPPORT EPROTONOSUPPORT
#endif

static uint8_t block[4096];
static uint8_t got[4096];

static volatile sig_atomic_t sigpipes;
static void count_sigpipe(int sig) {
    (void)sig;
    sigpipes++;
}

static int pair(int type, int sv[2]) {
    sv[0] = sv[1] = -1;
    return socketpair(AF_UNIX, type, 0, sv) == 0;
}

/* The byte at position i of the long stream the bulk check sends. */
static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + (i >> 12)); }

static void check_stream_both_ways(void) {
    int sv[2];
    int made = pair(SOCK_STREAM, sv);
    check("unix_socketpair_stream", made && sv[0] >= 0 && sv[1] >= 0 && sv[0] != sv[1],
          "socketpair(AF_UNIX, SOCK_STREAM): errno %d (%s), fds %d %d", errno, strerror(errno), sv[0], sv[1]);
    if (!made)
        return;
    char buf[16] = {0};
    int ok = write(sv[0], "hello", 5) == 5 && read(sv[1], buf, sizeof buf) == 5 && !memcmp(buf, "hello", 5) &&
             send(sv[1], "back", 4, 0) == 4 && recv(sv[0], buf, sizeof buf, 0) == 4 && !memcmp(buf, "back", 4);
    check("unix_stream_both_ways", ok, "write/read and send/recv across the pair: errno %d", errno);
    int type = 0;
    socklen_t len = sizeof type;
    struct sockaddr_storage name;
    socklen_t name_len = sizeof name;
    memset(&name, 0xff, sizeof name);
    ok = getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM &&
         getsockname(sv[0], (struct sockaddr *)&name, &name_len) == 0 && name.ss_family == AF_UNIX &&
         name_len == sizeof name.ss_family;
    check("unix_stream_names", ok, "SO_TYPE %d, getsockname family %d, length %u", type, name.ss_family,
          (unsigned)name_len);
    ok = send(sv[1], "peek", 4, 0) == 4 && recv(sv[0], buf, sizeof buf, MSG_PEEK) == 4 &&
         recv(sv[0], buf, 2, 0) == 2 && !memcmp(buf, "pe", 2) && recv(sv[0], buf, sizeof buf, 0) == 2 &&
         !memcmp(buf, "ek", 2);
    check("unix_stream_peek_and_partial_reads", ok, "MSG_PEEK then two reads of \"peek\": errno %d", errno);
    close_all(sv, 2);
}

/* Fills a non-blocking pair until EAGAIN, checks readiness both ways, reads it all back. */
static void check_stream_nonblocking(void) {
    int sv[2] = {-1, -1};
    int made = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0;
    size_t sent = 0;
    ssize_t n = 0;
    for (int i = 0; made && i < FILL_LIMIT; i++) {
        for (size_t k = 0; k < sizeof block; k++)
            block[k] = pattern(sent + k);
        n = send(sv[0], block, sizeof block, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    int e = errno;
    check("unix_stream_full_eagain", made && n == -1 && (e == EAGAIN || e == EWOULDBLOCK) && sent > 0,
          "after %zu bytes: %ld, errno %d (%s)", sent, (long)n, e, strerror(e));
    int unreadable = wait_for(sv[0], POLLIN, 0), full = wait_for(sv[0], POLLOUT, 0);
    int readable = wait_for(sv[1], POLLIN, 0);
    int avail = -1;
    ioctl(sv[1], FIONREAD, &avail);
    check("unix_stream_poll_full", made && unreadable == 0 && full == 0 && (readable & POLLIN),
          "writer POLLIN %#x POLLOUT %#x, reader POLLIN %#x", unreadable, full, readable);
    check("unix_stream_fionread", made && avail > 0 && (size_t)avail <= sent, "FIONREAD %d of %zu sent", avail, sent);
    size_t received = 0, wrong = 0;
    while (made && (n = recv(sv[1], got, sizeof got, 0)) > 0) {
        for (ssize_t k = 0; k < n; k++)
            wrong += got[k] != pattern(received + (size_t)k);
        received += (size_t)n;
    }
    e = errno;
    check("unix_stream_drained_in_order", made && received == sent && wrong == 0 && n == -1 &&
                                              (e == EAGAIN || e == EWOULDBLOCK),
          "%zu of %zu bytes back, %zu wrong, then %ld errno %d", received, sent, wrong, (long)n, e);
    check("unix_stream_writable_again", made && (wait_for(sv[0], POLLOUT, 0) & POLLOUT), "no POLLOUT after draining");
    close_all(sv, 2);
}

static void check_stream_end(void) {
    int sv[2];
    int made = pair(SOCK_STREAM, sv);
    char buf[8];
    /* Half close: the peer reads the end, and can still send back. */
    int ok = made && write(sv[0], "a", 1) == 1 && shutdown(sv[0], SHUT_WR) == 0 && read(sv[1], buf, sizeof buf) == 1 &&
             read(sv[1], buf, sizeof buf) == 0 && write(sv[1], "b", 1) == 1 && read(sv[0], buf, sizeof buf) == 1 &&
             buf[0] == 'b';
    check("unix_stream_shutdown_wr_half_close", ok, "errno %d", errno);
    ssize_t s = made ? send(sv[0], "x", 1, MSG_NOSIGNAL) : 0;
    int e = errno;
    check("unix_stream_send_after_shutdown_epipe", s == -1 && e == EPIPE, "%ld, errno %d", (long)s, e);
    close_all(sv, 2);

    made = pair(SOCK_STREAM, sv);
    ok = made && write(sv[0], "bye", 3) == 3 && close(sv[0]) == 0;
    int re = ok ? wait_for(sv[1], POLLIN, 0) : -1;
    ok = ok && read(sv[1], buf, sizeof buf) == 3 && !memcmp(buf, "bye", 3) && read(sv[1], buf, sizeof buf) == 0;
    check("unix_stream_eof_after_peer_close", ok && (re & POLLIN) && (re & POLLHUP),
          "bytes, then 0 after the peer closed: errno %d, revents %#x", errno, re);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_sigpipe;
    sigemptyset(&sa.sa_mask);
    sigpipes = 0;
    sigaction(SIGPIPE, &sa, &old);
    ssize_t w = made ? write(sv[1], "x", 1) : 0;
    int we = errno;
    s = made ? send(sv[1], "x", 1, MSG_NOSIGNAL) : 0;
    e = errno;
    sigaction(SIGPIPE, &old, NULL);
    check("unix_stream_epipe_sigpipe", w == -1 && we == EPIPE && s == -1 && e == EPIPE && sigpipes == 1,
          "write to a closed peer %ld errno %d, send(MSG_NOSIGNAL) %ld errno %d, SIGPIPE %d times", (long)w, we,
          (long)s, e, (int)sigpipes);
    if (made)
        close(sv[1]);
}

static void check_dgram(void) {
    int sv[2];
    int made = pair(SOCK_DGRAM, sv);
    check("unix_socketpair_dgram", made, "socketpair(AF_UNIX, SOCK_DGRAM): errno %d (%s)", errno, strerror(errno));
    if (!made)
        return;
    static const size_t sizes[] = {1, 100, 3000, 0, 4096};
    int ok = 1;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(block, 'a' + (int)i, sizes[i]);
        ok &= send(sv[0], block, sizes[i], 0) == (ssize_t)sizes[i];
    }
    int avail = -1;
    ioctl(sv[1], FIONREAD, &avail);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && ok; i++) {
        ssize_t n = recv(sv[1], got, sizeof got, 0);
        ok = n == (ssize_t)sizes[i] && (n == 0 || (got[0] == 'a' + (int)i && got[n - 1] == 'a' + (int)i));
    }
    check("unix_dgram_boundaries", ok, "datagrams of 1, 100, 3000, 0 and 4096 bytes did not come back one by one");
    check("unix_dgram_fionread_next", avail == 1, "FIONREAD with a 1-byte datagram first: %d", avail);

    char small[10];
    struct iovec iov = {small, sizeof small};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = -2, next = -2;
    if (send(sv[0], block, 100, 0) == 100 && send(sv[0], "z", 1, 0) == 1) {
        n = recvmsg(sv[1], &msg, 0);
        next = recv(sv[1], got, sizeof got, 0);
    }
    check("unix_dgram_cut_msg_trunc", n == (ssize_t)sizeof small && (msg.msg_flags & MSG_TRUNC) && next == 1 &&
                                          got[0] == 'z',
          "recvmsg into 10 bytes of 100: %ld, flags %#x; then %ld", (long)n, msg.msg_flags, (long)next);

    size_t count = 0;
    for (; count < FILL_LIMIT; count++) {
        memset(block, (int)(count & 0xff), 64);
        if (send(sv[0], block, 64, MSG_DONTWAIT) != 64)
            break;
    }
    int e = errno;
    check("unix_dgram_full_eagain", count > 0 && count < FILL_LIMIT && (e == EAGAIN || e == EWOULDBLOCK),
          "after %zu datagrams: errno %d (%s)", count, e, strerror(e));
    size_t back = 0;
    while (back < count && recv(sv[1], got, sizeof got, MSG_DONTWAIT) == 64 && got[0] == (uint8_t)(back & 0xff))
        back++;
    n = recv(sv[1], got, sizeof got, MSG_DONTWAIT);
    e = errno;
    check("unix_dgram_drained_in_order", back == count && n == -1 && (e == EAGAIN || e == EWOULDBLOCK),
          "%zu of %zu datagrams back in order, then %ld errno %d", back, count, (long)n, e);

    close(sv[1]);
    n = send(sv[0], "x", 1, MSG_NOSIGNAL);
    e = errno;
    check("unix_dgram_peer_closed_econnrefused", n == -1 && e == ECONNREFUSED, "send to a closed peer: %ld, errno %d (%s)",
          (long)n, e, strerror(e));
    close(sv[0]);
}

static void check_readiness(void) {
    int sv[2];
    int made = pair(SOCK_STREAM, sv);
    struct pollfd p[2] = {{sv[0], POLLIN | POLLOUT, 0}, {sv[1], POLLIN, 0}};
    int n = made ? poll(p, 2, 0) : -1;
    check("unix_poll_fresh_pair", n == 1 && p[0].revents == POLLOUT && p[1].revents == 0,
          "poll: %d, revents %#x %#x", n, p[0].revents, p[1].revents);
    fd_set rd;
    FD_ZERO(&rd);
    int top = sv[0] > sv[1] ? sv[0] : sv[1];
    if (made) {
        FD_SET(sv[1], &rd);
        FD_SET(sv[0], &rd);
    }
    struct timeval tv = {0, 0};
    int s = made && write(sv[0], "r", 1) == 1 ? select(top + 1, &rd, NULL, NULL, &tv) : -1;
    check("unix_select_readable", s == 1 && FD_ISSET(sv[1], &rd) && !FD_ISSET(sv[0], &rd),
          "select after a write: %d", s);
    char c;
    int nonblock_ok = made && recv(sv[1], &c, 1, 0) == 1 && recv(sv[1], &c, 1, MSG_DONTWAIT) == -1 &&
                      (errno == EAGAIN || errno == EWOULDBLOCK);
    check("unix_msg_dontwait_eagain", nonblock_ok, "recv(MSG_DONTWAIT) on an empty pair: errno %d", errno);
    if (made)
        fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL, 0) | O_NONBLOCK);
    ssize_t r = made ? read(sv[1], &c, 1) : 0;
    int e = errno;
    check("unix_o_nonblock_eagain", r == -1 && (e == EAGAIN || e == EWOULDBLOCK), "read: %ld, errno %d", (long)r, e);
    if (made)
        fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL, 0) & ~O_NONBLOCK);
    struct timeval limit = {0, TIMEOUT_MS * 1000};
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    r = made && setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == 0 ? recv(sv[1], &c, 1, 0) : 0;
    e = errno;
    gettimeofday(&t1, NULL);
    long waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
    check("unix_rcvtimeo", r == -1 && (e == EAGAIN || e == EWOULDBLOCK) && waited_ms >= TIMEOUT_MS / 2,
          "a blocking recv with SO_RCVTIMEO %d ms: %ld, errno %d after %ld ms", TIMEOUT_MS, (long)r, e, waited_ms);
    close_all(sv, 2);
}

static void check_errors(void) {
    int sv[2] = {-1, -1};
    int r = socketpair(AF_INET, SOCK_STREAM, 0, sv), e = errno;
    check("unix_err_socketpair_inet", r == -1 && e == EOPNOTSUPP, "socketpair(AF_INET): %d, errno %d (%s)", r, e,
          strerror(e));
    r = socketpair(AF_UNIX, SOCK_STREAM, 7, sv), e = errno;
    check("unix_err_protocol", r == -1 && e == EPROTONOSUPPORT, "protocol 7: %d, errno %d (%s)", r, e, strerror(e));
    r = socketpair(AF_UNIX, 99, 0, sv), e = errno;
    check("unix_err_type", r == -1 && (e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT || e == EINVAL),
          "type 99: %d, errno %d (%s)", r, e, strerror(e));
    r = socketpair(4242, SOCK_STREAM, 0, sv), e = errno;
    check("unix_err_family", r == -1 && e == EAFNOSUPPORT, "family 4242: %d, errno %d (%s)", r, e, strerror(e));
    /* PF_UNIX as the protocol is AF_UNIX's own: Linux takes it. */
    r = socketpair(AF_UNIX, SOCK_DGRAM, PF_UNIX, sv);
    check("unix_protocol_pf_unix", r == 0, "protocol PF_UNIX: errno %d (%s)", errno, strerror(errno));
    if (r == 0)
        close_all(sv, 2);
    int fds[2];
    if (pair(SOCK_STREAM, fds)) {
        r = listen(fds[0], 1), e = errno;
        int opt = 1;
        int o = setsockopt(fds[0], SOL_SOCKET, SO_KEEPALIVE + 1000, &opt, sizeof opt), oe = errno;
        check("unix_err_listen_connected", r == -1 && e == EINVAL, "listen on a pair's end: %d, errno %d", r, e);
        check("unix_err_unknown_option", o == -1 && oe == ENOPROTOOPT, "an unknown option: %d, errno %d", o, oe);
        close_all(fds, 2);
    }
}

void check_unix(void) {
    check_stream_both_ways();
    check_stream_nonblocking();
    check_stream_end();
    check_dgram();
    check_readiness();
    check_errors();
}
