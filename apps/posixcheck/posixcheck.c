/*
 * posixcheck: network conformance checks written only against POSIX (MSG_NOSIGNAL included, so a
 * failed send cannot kill the process on Linux). It is built twice: for the host against glibc,
 * where tests/e2e/run_host_posixcheck.py runs it to show the checks themselves are right, and
 * for Nexus against libnexus, where the same checks must pass.
 *
 *   posixcheck <udp-echo-host> <udp-echo-port> <dns-name> <expected-dns-address> <nxdomain-name>
 *              [<read-only-dir>]
 *
 *   posixcheck --die-by-sigpipe   (ends by SIGPIPE's default action, or says FAIL)
 *
 * A "-" argument skips the group that needs it (UDP echo: the first two, DNS: the next three);
 * without a read-only directory (holding posixcheck.conf) the file checks (files.c) are skipped.
 * Prints one "PASS posix.<name>" or "FAIL posix.<name>: <detail>" line per check, then
 * "posixcheck: done N passed, M failed"; exits 0 only if every check passed. The socket checks
 * use static buffers; the runtime beneath them (heap, time, gethostbyname, ioctl, syslog) is
 * checked in runtime.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "posixcheck.h"

#define WAIT_MS 5000         /* generous: a slow emulator must not fail a check */
#define EXCHANGE_BYTES 65536 /* each way over the loopback connection */
#define FALLBACK_PORT 7070   /* listener port if getsockname is unsupported */
#define FALLBACK_CLOSED_PORT 7071

static int passed, failed;
static uint8_t chunk[4096];

int check(const char *name, int ok, const char *fmt, ...) {
    if (ok) {
        printf("PASS posix.%s\n", name);
        passed++;
    } else {
        va_list ap;
        printf("FAIL posix.%s: ", name);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        failed++;
    }
    fflush(stdout); /* the lines must survive a crash in a later check */
    return ok;
}

void note(const char *text) {
    printf("note: %s\n", text);
    fflush(stdout);
}

struct sockaddr_in ipv4(uint32_t host_order_addr, uint16_t port) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(host_order_addr);
    return sa;
}

static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* revents of fd after waiting up to timeout_ms for events; 0 on timeout, -1 on error. */
int wait_for(int fd, short events, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
    int n = poll(&p, 1, timeout_ms);
    return n < 0 ? -1 : n == 0 ? 0 : p.revents;
}

/* The local port bound to fd, or 0 if getsockname cannot tell. */
static uint16_t local_port(int fd, int *err) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    *err = 0;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        *err = errno;
        return 0;
    }
    if (len != sizeof sa || sa.sin_family != AF_INET ||
        sa.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
        return 0;
    return ntohs(sa.sin_port);
}

/* ---- inet: address text conversion ---- */

static void check_inet(void) {
    static const struct {
        int af;
        const char *text;
    } cases[] = {
        { AF_INET, "192.0.2.1" },         { AF_INET, "0.0.0.0" },    { AF_INET6, "2001:db8::1" },
        { AF_INET6, "::ffff:10.0.2.15" }, { AF_INET6, "fe80::1:2" }, { AF_INET6, "::" },
    };
    int ok = 1;
    const char *bad = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && ok; i++) {
        unsigned char bin[16];
        char text[INET6_ADDRSTRLEN];
        ok = inet_pton(cases[i].af, cases[i].text, bin) == 1 &&
             inet_ntop(cases[i].af, bin, text, sizeof text) == text &&
             strcmp(text, cases[i].text) == 0;
        bad = cases[i].text;
    }
    check("inet_roundtrip", ok, "%s does not survive inet_pton + inet_ntop", bad);

    unsigned char bin[16];
    check("inet_rejects_invalid",
          inet_pton(AF_INET, "1.2.3.256", bin) == 0 && inet_pton(AF_INET6, "1::2::3", bin) == 0,
          "inet_pton accepted 1.2.3.256 or 1::2::3");
    struct in_addr a;
    a.s_addr = htonl(0x7f000001);
    check("inet_ntoa", strcmp(inet_ntoa(a), "127.0.0.1") == 0, "inet_ntoa gave %s", inet_ntoa(a));
}

/* ---- udp_echo ---- */

static int resolve_ipv4(const char *host, struct in_addr *out) {
    if (inet_pton(AF_INET, host, out) == 1)
        return 1;
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return 0;
    *out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 1;
}

/* Sends len bytes of payload to `to` (and resends, 3 times at most, as UDP may lose one) until
 * something comes back; 1 if it did. */
static int udp_send_until_reply(int s, const struct sockaddr_in *to, const uint8_t *payload, size_t len, int *sends) {
    int ready = 0;
    *sends = 0;
    for (int attempt = 0; attempt < 4 && ready <= 0; attempt++) { /* the first send, 3 resends */
        if (sendto(s, payload, len, 0, (const struct sockaddr *)to, sizeof *to) == (ssize_t)len)
            (*sends)++;
        ready = wait_for(s, POLLIN, WAIT_MS);
    }
    return ready > 0 && (ready & POLLIN);
}

/* A datagram larger than the 1500-byte MTU: IPv4 fragments it both ways, so the reply checks
 * the guest's reassembly (the Membrane copies fragments out of the read-only RX pool). */
static void check_udp_echo_fragmented(int s, const struct sockaddr_in *to) {
    static uint8_t big[4000], reply[sizeof big + 1];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    int sends;
    int got = udp_send_until_reply(s, to, big, sizeof big, &sends);
    ssize_t n = got ? recv(s, reply, sizeof reply, 0) : -1;
    check("udp_echo_fragmented", n == (ssize_t)sizeof big && memcmp(reply, big, sizeof big) == 0,
          "%s after %d sends: %ld bytes instead of the %u sent", got ? "a reply" : "no reply", sends,
          (long)n, (unsigned)sizeof big);
}

static void check_udp_echo(const char *host, const char *port_text) {
    static uint8_t payload[200], reply[512];
    char *end;
    long port = strtol(port_text, &end, 10);
    struct in_addr addr;
    if (!check("udp_echo_args",
               *end == '\0' && port > 0 && port < 65536 && resolve_ipv4(host, &addr),
               "cannot use %s:%s as the echo server", host, port_text))
        return;
    struct sockaddr_in to = ipv4(0, (uint16_t)port);
    to.sin_addr = addr;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 13 + 7);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int e = errno;
    if (!check("udp_socket", s >= 0, "socket: errno %d (%s)", e, strerror(e)))
        return;
    int sends;
    if (check("udp_echo_reply", udp_send_until_reply(s, &to, payload, sizeof payload, &sends),
              "no reply after %d sends", sends)) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        memset(&from, 0, sizeof from);
        ssize_t n = recvfrom(s, reply, sizeof reply, 0, (struct sockaddr *)&from, &from_len);
        e = errno;
        check("udp_echo_payload",
              n == (ssize_t)sizeof payload && memcmp(reply, payload, sizeof payload) == 0,
              "recvfrom returned %ld (errno %d) instead of the %u bytes sent", (long)n, e,
              (unsigned)sizeof payload);
        check("udp_echo_source",
              from_len == sizeof from && from.sin_family == AF_INET &&
                  from.sin_addr.s_addr == to.sin_addr.s_addr && from.sin_port == to.sin_port,
              "reply came from family %d %s:%u (length %u)", from.sin_family,
              inet_ntoa(from.sin_addr), ntohs(from.sin_port), (unsigned)from_len);
        check_udp_echo_fragmented(s, &to);
    }
    close(s);
}

/* ---- dns ---- */

static void check_dns(const char *name, const char *expected_text) {
    struct in_addr expected;
    if (!check("dns_args", inet_pton(AF_INET, expected_text, &expected) == 1,
               "%s is not an IPv4 address", expected_text))
        return;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    int found = 0, entries = 0;
    for (struct addrinfo *ai = rc == 0 ? res : NULL; ai; ai = ai->ai_next, entries++) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)ai->ai_addr;
        if (ai->ai_family == AF_INET && ai->ai_addrlen == sizeof *sa && sa->sin_family == AF_INET &&
            sa->sin_addr.s_addr == expected.s_addr)
            found = 1;
    }
    if (rc == 0) {
        freeaddrinfo(res);
        check("dns_lookup", found, "getaddrinfo(%s) gave %d entries, none of them %s", name,
              entries, expected_text);
    } else {
        check("dns_lookup", 0, "getaddrinfo(%s) failed: %d (%s)", name, rc, gai_strerror(rc));
    }

    res = NULL;
    rc = getaddrinfo("nonexistent.invalid", NULL, &hints, &res);
    if (rc == 0)
        freeaddrinfo(res);
    check("dns_nonexistent", rc == EAI_NONAME || rc == EAI_FAIL,
          "getaddrinfo(nonexistent.invalid) returned %d (%s)", rc, gai_strerror(rc));
}

/* ---- tcp_loopback ---- */

/* Byte `offset` of the stream in direction dir; varies across chunk boundaries so reordered
 * or repeated data is caught, not only lost bytes. */
static uint8_t pattern(size_t offset, int dir) {
    return (uint8_t)(offset * 131 + (offset >> 8) * 7 + (size_t)dir * 89);
}

struct flow {
    int from, to, dir;
    size_t sent, received;
    const char *error;
    size_t error_at;
};

static void flow_send(struct flow *f) {
    size_t n = EXCHANGE_BYTES - f->sent;
    if (n > sizeof chunk)
        n = sizeof chunk;
    for (size_t i = 0; i < n; i++)
        chunk[i] = pattern(f->sent + i, f->dir);
    ssize_t got = send(f->from, chunk, n, MSG_NOSIGNAL);
    if (got > 0)
        f->sent += (size_t)got;
    else if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        f->error = "send failed";
}

static void flow_receive(struct flow *f) {
    ssize_t got = recv(f->to, chunk, sizeof chunk, 0);
    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            f->error = "recv failed";
        return;
    }
    if (got == 0 || f->received + (size_t)got > EXCHANGE_BYTES) {
        f->error = got == 0 ? "early end of stream" : "more bytes than were sent";
        return;
    }
    for (ssize_t i = 0; i < got; i++) {
        if (chunk[i] != pattern(f->received + (size_t)i, f->dir)) {
            f->error = "wrong byte";
            f->error_at = f->received + (size_t)i;
            return;
        }
    }
    f->received += (size_t)got;
}

static short flow_events(const struct flow *f, int fd) {
    short ev = 0;
    if (f->from == fd && f->sent < EXCHANGE_BYTES)
        ev |= POLLOUT;
    if (f->to == fd && f->received < EXCHANGE_BYTES)
        ev |= POLLIN;
    return ev;
}

/* Both directions at once over non-blocking sockets: sending 64 KiB one way before reading
 * would deadlock as soon as the socket buffers hold less than that. */
static void check_exchange(int a, int b) {
    struct flow f[2] = { { .from = a, .to = b, .dir = 0 }, { .from = b, .to = a, .dir = 1 } };
    const char *stall = NULL;
    while (!stall && !f[0].error && !f[1].error &&
           (f[0].received < EXCHANGE_BYTES || f[1].received < EXCHANGE_BYTES)) {
        struct pollfd p[2] = {
            { .fd = a, .events = (short)(flow_events(&f[0], a) | flow_events(&f[1], a)) },
            { .fd = b, .events = (short)(flow_events(&f[0], b) | flow_events(&f[1], b)) },
        };
        int n = poll(p, 2, WAIT_MS);
        if (n <= 0) {
            stall = n == 0 ? "no progress within the timeout" : "poll failed";
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].revents & (POLLERR | POLLNVAL))
                stall = "POLLERR or POLLNVAL on a connected socket";
            for (int k = 0; k < 2; k++) {
                if ((p[i].revents & POLLOUT) && f[k].from == p[i].fd && f[k].sent < EXCHANGE_BYTES)
                    flow_send(&f[k]);
                if ((p[i].revents & (POLLIN | POLLHUP)) && f[k].to == p[i].fd &&
                    f[k].received < EXCHANGE_BYTES)
                    flow_receive(&f[k]);
            }
        }
    }
    /* Report the direction that went wrong: the one with an error, else one left short. */
    int k = f[0].error ? 0 : f[1].error ? 1 : f[0].received < EXCHANGE_BYTES ? 0 : 1;
    check("tcp_exchange_64k", !stall && !f[0].error && !f[1].error,
          "%s; direction %d: sent %lu, received %lu of %d bytes (error at offset %lu)",
          stall        ? stall
          : f[k].error ? f[k].error
                       : "?",
          k, (unsigned long)f[k].sent, (unsigned long)f[k].received, EXCHANGE_BYTES,
          (unsigned long)f[k].error_at);
}

/* A listening TCP socket on 127.0.0.1:port, or -1 with errno set. */
int listen_on(uint16_t port) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0)
        return -1;
    struct sockaddr_in sa = ipv4(INADDR_LOOPBACK, port);
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 4) == 0)
        return l;
    int e = errno;
    close(l);
    errno = e;
    return -1;
}

/* A listener on an ephemeral port learnt through getsockname, or else on FALLBACK_PORT. */
static int open_listener(uint16_t *port) {
    int l = listen_on(0);
    int e = errno;
    if (!check("tcp_listen", l >= 0, "socket, bind or listen on 127.0.0.1: errno %d (%s)", e,
               strerror(e)))
        return -1;
    *port = local_port(l, &e);
    if (*port != 0) {
        check("tcp_getsockname", 1, "ok");
        return l;
    }
    if (e == ENOSYS || e == EOPNOTSUPP)
        note("getsockname is unsupported; listening on the fixed port 7070 instead");
    else
        check("tcp_getsockname", 0, "no usable 127.0.0.1 port (errno %d)", e);
    close(l);
    l = listen_on(FALLBACK_PORT);
    e = errno;
    *port = FALLBACK_PORT;
    check("tcp_listen_fixed_port", l >= 0, "port %d: errno %d (%s)", FALLBACK_PORT, e, strerror(e));
    return l;
}

/* Non-blocking connect to 127.0.0.1:port; the connected socket, or -1. */
static int connect_nonblocking(uint16_t port) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || set_nonblocking(c) != 0) {
        check("tcp_connect_nonblocking", 0, "socket or fcntl(O_NONBLOCK): errno %d", errno);
        if (c >= 0)
            close(c);
        return -1;
    }
    struct sockaddr_in sa = ipv4(INADDR_LOOPBACK, port);
    int rc = connect(c, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    int ok = check("tcp_connect_nonblocking", rc == 0 || e == EINPROGRESS,
                   "connect returned %d, errno %d (%s)", rc, e, strerror(e));
    int ev = ok ? wait_for(c, POLLOUT, WAIT_MS) : 0;
    int so_error = -1;
    socklen_t len = sizeof so_error;
    if (ev > 0 && getsockopt(c, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
        so_error = -1;
    if (ok && !check("tcp_connect_completes",
                     ev > 0 && (ev & POLLOUT) && so_error == 0 && len == sizeof(int),
                     "poll revents %#x, SO_ERROR %d", ev, so_error))
        ok = 0;
    if (!ok) {
        close(c);
        return -1;
    }
    return c;
}

static int accept_one(int l) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    int ev = wait_for(l, POLLIN, WAIT_MS);
    int s = ev > 0 ? accept(l, (struct sockaddr *)&peer, &len) : -1;
    int e = errno;
    if (!check("tcp_accept",
               s >= 0 && len == sizeof peer && peer.sin_family == AF_INET &&
                   peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
               "listener revents %#x, accept %d (errno %d), peer family %d %s", ev, s, e,
               peer.sin_family, inet_ntoa(peer.sin_addr))) {
        if (s >= 0)
            close(s);
        return -1;
    }
    return s;
}

/* The accepted end s is made non-blocking; checks that need a quiet connected socket. */
static void check_quiet_socket(int s) {
    static char byte;
    set_nonblocking(s);
    ssize_t n = recv(s, &byte, 1, 0);
    int e = errno;
    check("err_recv_eagain", n == -1 && (e == EAGAIN || e == EWOULDBLOCK),
          "recv with no data returned %ld, errno %d (%s)", (long)n, e, strerror(e));

    struct pollfd p = { .fd = s, .events = POLLIN, .revents = 0 };
    int rc = poll(&p, 1, 50);
    check("poll_timeout", rc == 0 && p.revents == 0, "poll returned %d, revents %#x", rc,
          p.revents);
}

static int select_readable(int fd, long timeout_us) {
    fd_set r;
    struct timeval tv = { .tv_sec = timeout_us / 1000000, .tv_usec = timeout_us % 1000000 };
    FD_ZERO(&r);
    FD_SET(fd, &r);
    int n = select(fd + 1, &r, NULL, NULL, &tv);
    return n == 1 && FD_ISSET(fd, &r) ? 1 : n;
}

static void check_select(int c, int s) {
    static char byte;
    int before = select_readable(s, 0);
    check("select_not_ready", before == 0, "select on an idle socket returned %d", before);
    ssize_t sent = send(c, "x", 1, MSG_NOSIGNAL);
    int after = select_readable(s, WAIT_MS * 1000L);
    ssize_t got = after == 1 ? recv(s, &byte, 1, 0) : -1;
    check("select_readable", sent == 1 && after == 1 && got == 1 && byte == 'x',
          "send %ld, select %d, recv %ld", (long)sent, after, (long)got);
}

/* c shuts down its sending side: s reads end of stream, and s -> c still works. */
static void check_half_close(int c, int s) {
    static char byte;
    int rc = shutdown(c, SHUT_WR);
    int e = errno;
    int ev = rc == 0 ? wait_for(s, POLLIN, WAIT_MS) : 0;
    ssize_t n = ev > 0 ? recv(s, &byte, 1, 0) : -1;
    check("tcp_shutdown_eof", rc == 0 && n == 0, "shutdown %d (errno %d), revents %#x, recv %ld",
          rc, e, ev, (long)n);

    ssize_t sent = send(s, "y", 1, MSG_NOSIGNAL);
    ev = wait_for(c, POLLIN, WAIT_MS);
    n = ev > 0 ? recv(c, &byte, 1, 0) : -1;
    check("tcp_half_close_other_way", sent == 1 && n == 1 && byte == 'y',
          "send %ld, revents %#x, recv %ld", (long)sent, ev, (long)n);
}

static void check_addrinuse(uint16_t port) {
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = ipv4(INADDR_LOOPBACK, port);
    int rc = b >= 0 ? bind(b, (struct sockaddr *)&sa, sizeof sa) : 0;
    int e = errno;
    check("err_bind_addrinuse", b >= 0 && rc == -1 && e == EADDRINUSE,
          "second bind to port %u returned %d, errno %d (%s)", port, rc, e, strerror(e));
    if (b >= 0)
        close(b);
}

static void check_tcp_loopback(void) {
    uint16_t port;
    int l = open_listener(&port);
    if (l < 0)
        return;
    int c = connect_nonblocking(port);
    int s = c >= 0 ? accept_one(l) : -1;
    if (s >= 0) {
        check_quiet_socket(s);
        check_select(c, s);
        check_exchange(c, s);
        check_half_close(c, s);
    }
    check_addrinuse(port);
    int rc = 0;
    if (s >= 0)
        rc |= close(s);
    if (c >= 0)
        rc |= close(c);
    rc |= close(l);
    check("tcp_close", rc == 0, "close returned -1, errno %d", errno);
}

/* ---- errors that need no connection ---- */

static void check_refused(void) {
    /* A bound socket that never listens holds a port nobody else will take meanwhile. */
    int h = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = ipv4(INADDR_LOOPBACK, 0);
    int e;
    uint16_t port = 0;
    if (h >= 0 && bind(h, (struct sockaddr *)&sa, sizeof sa) == 0)
        port = local_port(h, &e);
    if (port == 0)
        port = FALLBACK_CLOSED_PORT;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    sa = ipv4(INADDR_LOOPBACK, port);
    int rc = c >= 0 ? connect(c, (struct sockaddr *)&sa, sizeof sa) : 0;
    e = errno;
    check("err_connect_refused", c >= 0 && rc == -1 && e == ECONNREFUSED,
          "blocking connect to closed port %u returned %d, errno %d (%s)", port, rc, e,
          strerror(e));
    if (c >= 0)
        close(c);
    if (h >= 0)
        close(h);
}

static void check_bad_fd(void) {
    static char byte;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (!check("err_ebadf_setup", fd >= 0 && close(fd) == 0, "socket or close failed: errno %d",
               errno))
        return;
    /* fd is closed now and nothing in between opens another. */
    int opt = 0;
    socklen_t len = sizeof opt;
    struct sockaddr_in sa = ipv4(INADDR_LOOPBACK, FALLBACK_CLOSED_PORT);
    const char *what = NULL;
    if (send(fd, "x", 1, MSG_NOSIGNAL) != -1 || errno != EBADF)
        what = "send";
    else if (recv(fd, &byte, 1, 0) != -1 || errno != EBADF)
        what = "recv";
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &opt, &len) != -1 || errno != EBADF)
        what = "getsockopt";
    else if (close(fd) != -1 || errno != EBADF)
        what = "close";
    else if (connect(-1, (struct sockaddr *)&sa, sizeof sa) != -1 || errno != EBADF)
        what = "connect(-1)";
    check("err_ebadf", what == NULL, "%s on a closed descriptor: errno %d, not EBADF",
          what ? what : "", errno);

    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    int n = poll(&p, 1, 0);
    check("poll_invalid_fd", n == 1 && (p.revents & POLLNVAL), "poll returned %d, revents %#x", n,
          p.revents);
}

static void check_sendto_unconnected(void) {
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = ipv4(INADDR_LOOPBACK, FALLBACK_CLOSED_PORT);
    ssize_t n = t >= 0 ? sendto(t, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof sa) : 0;
    int e = errno;
    check("err_sendto_notconn", t >= 0 && n == -1 && (e == ENOTCONN || e == EPIPE),
          "sendto on an unconnected TCP socket returned %ld, errno %d (%s)", (long)n, e,
          strerror(e));
    if (t >= 0)
        close(t);
}

/* ESOCKTNOSUPPORT is not POSIX; C libraries that hide it cannot return it either. */
#ifndef ESOCKTNOSUPPORT
#define ESOCKTNOSUPPORT EPROTONOSUPPORT
#endif

static void check_bad_socktype(void) {
    int fd = socket(AF_INET, 99, 0);
    int e = errno;
    check("err_bad_socktype",
          fd == -1 && (e == EINVAL || e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT),
          "socket(AF_INET, 99, 0) returned %d, errno %d (%s)", fd, e, strerror(e));
    if (fd >= 0)
        close(fd);
}

/* More sockets at once than an app had before (64), and a connection among the high numbers
 * still works: its status lives past the first 64-bit word of the link's dirty set. */
#define MANY_SOCKETS 100

int tcp_pair(int fds[3]) {
    fds[0] = listen_on(0);
    fds[1] = fds[2] = -1;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (fds[0] >= 0 && getsockname(fds[0], (struct sockaddr *)&sa, &len) == 0 &&
        (fds[1] = socket(AF_INET, SOCK_STREAM, 0)) >= 0 && connect(fds[1], (struct sockaddr *)&sa, sizeof sa) == 0 &&
        (fds[2] = accept(fds[0], NULL, NULL)) >= 0)
        return 1;
    close_all(fds, 3);
    return 0;
}

void close_all(int *fds, int n) {
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static int connected_pair_works(void) {
    int fds[3]; /* listener, client, accepted */
    int ok = 0;
    if (tcp_pair(fds) && send(fds[1], "x", 1, MSG_NOSIGNAL) == 1 && wait_for(fds[2], POLLIN, 5000) > 0) {
        char byte = 0;
        ok = recv(fds[2], &byte, 1, 0) == 1 && byte == 'x';
    }
    close_all(fds, 3);
    return ok;
}

static void check_many_sockets(void) {
    int fds[MANY_SOCKETS], opened = 0, e = 0;
    while (opened < MANY_SOCKETS && (fds[opened] = socket(AF_INET, SOCK_STREAM, 0)) >= 0)
        opened++;
    e = errno;
    check("many_sockets_open", opened == MANY_SOCKETS, "%d of %d sockets opened, then errno %d (%s)", opened,
          MANY_SOCKETS, e, strerror(e));
    check("many_sockets_high_numbers_work", opened == MANY_SOCKETS && connected_pair_works(),
          "no loopback exchange with %d sockets held: errno %d (%s)", opened, errno, strerror(errno));
    while (opened)
        close(fds[--opened]);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--die-by-sigpipe") == 0)
        return die_by_sigpipe();
    if (argc != 6 && argc != 7) {
        fprintf(stderr,
                "usage: %s <udp-echo-host> <udp-echo-port> <dns-name> <expected-address> <nxdomain-name> "
                "[<read-only-dir>]\n"
                "       (\"-\" skips the group that needs the argument)\n",
                argc > 0 ? argv[0] : "posixcheck");
        return 2;
    }
    check_inet();
    if (strcmp(argv[1], "-") != 0 && strcmp(argv[2], "-") != 0)
        check_udp_echo(argv[1], argv[2]);
    else
        note("udp_echo skipped");
    if (strcmp(argv[3], "-") != 0 && strcmp(argv[4], "-") != 0 && strcmp(argv[5], "-") != 0) {
        check_dns(argv[3], argv[4]);
        check_gethostbyname(argv[3], argv[4], argv[5]);
    } else {
        note("dns skipped");
    }
    check_tcp_loopback();
    check_refused();
    check_bad_fd();
    check_sendto_unconnected();
    check_bad_socktype();
    check_ioctl_fionbio();
    check_heap();
    check_time();
    check_syslog();
    check_many_sockets();
    check_sockopt();
    check_msg(argc == 7 ? argv[6] : NULL);
    check_unix();
    check_unix_named();
    check_unix_named_dgram();
    check_pipes();
    if (argc == 7)
        check_files(argv[6]);
    else
        note("files skipped");
    check_process();
    check_system(argc == 7 ? argv[6] : NULL);
    check_signals();
    printf("posixcheck: done %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
