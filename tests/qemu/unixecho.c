/*
 * unixecho: two apps talking over a named AF_UNIX stream socket with nothing but POSIX calls,
 * for the self-test (kernel/selftest.c, step unix.posix_two_apps). Unlike the probe pair, which
 * drives the syscalls and lanes by hand, this goes through libnexus: blocking accept, poll and
 * blocking writes that sleep on the app's doorbell until the other app rings it.
 *
 *   unixecho serve     binds ECHO_PATH, accepts one connection, echoes until end of file; then
 *                      counts DATAGRAMS on DGRAM_PATH and answers their sender with the tally
 *   unixecho connect   connects (retrying while the server starts), makes PINGS one-byte round
 *                      trips with blocking calls (each wakes the other app), then streams
 *                      ECHO_BYTES through the echo with poll, checks every byte, half-closes,
 *                      reads end of file; then sends DATAGRAMS of every size from 1 to 3000
 *                      bytes to DGRAM_PATH with blocking sendto (the receiver's lane fills: each
 *                      waits for it to drain) and reads the tally
 *
 * Prints "TEST <name>: ok|FAIL ..." lines (the self-test relays them) and exits with the number
 * of failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ECHO_PATH "/run/unixecho.sock"
#define ECHO_BYTES (1024 * 1024)
#define PINGS 1000
#define DGRAM_PATH "/run/unixecho.dgram"
#define CLIENT_PATH "/run/unixecho-client.dgram"
#define DATAGRAMS 200
#define CONNECT_TRIES 500 /* 10 ms apart: the server has 5 s to bind */
#define WAIT_MS 10000

static int failures;

static void check(const char *name, int ok, const char *detail, long value) {
    if (ok)
        printf("TEST %s: ok\n", name);
    else
        printf("TEST %s: FAIL %s %ld (errno %d)\n", name, detail, value, errno);
    failures += !ok;
}

static socklen_t echo_address(struct sockaddr_un *sa) {
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    strcpy(sa->sun_path, ECHO_PATH);
    return (socklen_t)sizeof *sa;
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 31 + (i >> 10)); }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Datagram k's size: spread over 1..3000 bytes. */
static size_t dgram_size(int k) { return 1 + (size_t)k * 2999 / (DATAGRAMS - 1); }

static socklen_t path_address(struct sockaddr_un *sa, const char *path) {
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    strcpy(sa->sun_path, path);
    return (socklen_t)sizeof *sa;
}

/* Receives DATAGRAMS, each whole, from CLIENT_PATH, and answers with how many were right. */
static void count_datagrams(int d) {
    static uint8_t buf[4096];
    int right = 0, named = 0;
    for (int k = 0; k < DATAGRAMS; k++) {
        struct sockaddr_un from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(d, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
        right += n == (ssize_t)dgram_size(k) && buf[0] == (uint8_t)k && buf[n - 1] == (uint8_t)k;
        named += n > 0 && !strcmp(from.sun_path, CLIENT_PATH);
    }
    check("unixecho.datagrams_whole", right == DATAGRAMS, "datagrams right", right);
    check("unixecho.datagrams_named", named == DATAGRAMS, "from the client's name", named);
    struct sockaddr_un to;
    socklen_t to_len = path_address(&to, CLIENT_PATH);
    sendto(d, &right, sizeof right, 0, (struct sockaddr *)&to, to_len);
}

/* Writes all of buf, blocking: a full lane sleeps until the reader rings. */
static int write_all(int fd, const uint8_t *buf, size_t len) {
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n <= 0)
            return 0;
        done += (size_t)n;
    }
    return 1;
}

static void serve(void) {
    struct sockaddr_un sa;
    socklen_t len = echo_address(&sa);
    struct sockaddr_un dsa;
    socklen_t dlen = path_address(&dsa, DGRAM_PATH);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    check("unixecho.dgram_bind", d >= 0 && bind(d, (struct sockaddr *)&dsa, dlen) == 0, "socket/bind", d);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = l >= 0 && bind(l, (struct sockaddr *)&sa, len) == 0 && listen(l, 1) == 0;
    check("unixecho.listen", r, "socket/bind/listen", l);
    int c = r ? accept(l, NULL, NULL) : -1; /* blocks: the client's connect rings the doorbell */
    check("unixecho.accept", c >= 0, "accept", c);
    static uint8_t buf[8192];
    long echoed = 0;
    ssize_t n;
    while (c >= 0 && (n = read(c, buf, sizeof buf)) > 0 && write_all(c, buf, (size_t)n))
        echoed += n;
    check("unixecho.echoed_all", echoed == PINGS + ECHO_BYTES, "echoed", echoed);
    if (c >= 0)
        close(c);
    if (l >= 0)
        close(l);
    if (d >= 0) {
        count_datagrams(d);
        close(d);
    }
}

/* Sends the datagrams with blocking sendto and reads the receiver's tally. */
static void send_datagrams(void) {
    struct sockaddr_un me, to;
    socklen_t me_len = path_address(&me, CLIENT_PATH), to_len = path_address(&to, DGRAM_PATH);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    int ok = d >= 0 && bind(d, (struct sockaddr *)&me, me_len) == 0;
    static uint8_t buf[4096];
    int sent = 0;
    uint64_t t0 = now_ns();
    for (int k = 0; ok && k < DATAGRAMS; k++, sent++) {
        memset(buf, k, dgram_size(k));
        if (sendto(d, buf, dgram_size(k), 0, (struct sockaddr *)&to, to_len) != (ssize_t)dgram_size(k))
            break;
    }
    int tally = -1;
    ssize_t n = sent == DATAGRAMS ? recv(d, &tally, sizeof tally, 0) : -1;
    check("unixecho.datagrams_sent", sent == DATAGRAMS, "datagrams sent", sent);
    check("unixecho.datagrams_tally", n == sizeof tally && tally == DATAGRAMS, "the receiver counted", tally);
    printf("unixecho: %d datagrams of 1..3000 bytes in %lu ms\n", DATAGRAMS, (unsigned long)((now_ns() - t0) / 1000000));
    if (d >= 0)
        close(d);
}

static void client(void) {
    struct sockaddr_un sa;
    socklen_t len = echo_address(&sa);
    int fd = -1, tries = 0;
    while (fd < 0 && tries++ < CONNECT_TRIES) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, len) != 0) {
            close(fd);
            fd = -1;
            usleep(10000); /* ENOENT or ECONNREFUSED until the server listens */
        }
    }
    check("unixecho.connect", fd >= 0, "connect after tries", tries);
    if (fd < 0)
        return;
    /* Round trips: the server sleeps in read until this app rings, and the other way round. */
    int flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    uint64_t t0 = now_ns();
    int pings = 0;
    for (uint8_t c = 0, back = 0; pings < PINGS; pings++, c++)
        if (write(fd, &c, 1) != 1 || read(fd, &back, 1) != 1 || back != c)
            break;
    uint64_t ping_ns = now_ns() - t0;
    fcntl(fd, F_SETFL, flags);
    check("unixecho.round_trips", pings == PINGS, "round trips", pings);
    printf("unixecho: %d one-byte round trips, %lu us each\n", PINGS, (unsigned long)(ping_ns / PINGS / 1000));
    static uint8_t out[8192], in[8192];
    size_t sent = 0, got = 0, wrong = 0;
    t0 = now_ns();
    int half_closed = 0, ended = 0;
    while (!ended) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < ECHO_BYTES ? POLLOUT : 0)), 0};
        if (poll(&p, 1, WAIT_MS) <= 0)
            break; /* nothing for WAIT_MS: the check below says how far it came */
        if ((p.revents & POLLOUT) && sent < ECHO_BYTES) {
            size_t n = ECHO_BYTES - sent < sizeof out ? ECHO_BYTES - sent : sizeof out;
            for (size_t i = 0; i < n; i++)
                out[i] = pattern(sent + i);
            ssize_t w = write(fd, out, n);
            sent += w > 0 ? (size_t)w : 0;
        }
        if (sent == ECHO_BYTES && !half_closed)
            half_closed = shutdown(fd, SHUT_WR) == 0;
        if (p.revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(fd, in, sizeof in);
            for (ssize_t i = 0; i < r; i++)
                wrong += in[i] != pattern(got + (size_t)i);
            got += r > 0 ? (size_t)r : 0;
            ended = r == 0;
        }
    }
    uint64_t ns = now_ns() - t0;
    check("unixecho.all_back_in_order", got == ECHO_BYTES && wrong == 0, "bytes back", (long)got);
    check("unixecho.end_of_file", ended && half_closed, "ended", ended);
    printf("unixecho: %d KiB each way in %lu ms: %lu KiB/s\n", ECHO_BYTES / 1024, (unsigned long)(ns / 1000000),
           (unsigned long)(ns ? (uint64_t)ECHO_BYTES * 1000000000ull / 1024 / ns : 0));
    close(fd);
    send_datagrams();
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "serve"))
        serve();
    else if (argc == 2 && !strcmp(argv[1], "connect"))
        client();
    else {
        printf("usage: unixecho serve|connect\n");
        return 100;
    }
    return failures;
}
