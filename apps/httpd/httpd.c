/*
 * nexus-httpd: a small HTTP/1.1 server over POSIX sockets only, so the same sources run on host
 * Linux and on Nexus (where the socket calls go through libnexus to the Membrane's lwIP).
 *
 *   httpd [port [bind-address]]      defaults: 80, 0.0.0.0
 *
 * What it serves is routes.h. This file holds the listener and the loop: one thread, one poll()
 * over the listener and every connection (conn.h), non-blocking sockets, and only static storage
 * (Nexus has no heap).
 *
 * The network service may start after httpd or restart under it, so httpd never gives up:
 * listener setup is retried every 50 ms, and when poll() or accept() fail in a way that means
 * the service is gone, every socket is dropped and the listener rebuilt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "http_parse.h"
#include "sysinfo.h"

/* A slot costs 12.4 KiB (struct conn). 64 slots with a backlog of 128 fit the smallest guest
 * but failed qemu_e2e's slowloris check 3 runs of 3 (docs/sockets.md, "Limits"): 48 and 64 stay
 * until that is understood. */
enum {
    MAX_CONNS = 48,
    LISTEN_BACKLOG = 64,
};

#define RETRY_MS 50                /* listener setup retry period: a restarted Membrane is quick */
#define REBUILD_PAUSE_MS 10        /* after losing the network, before listening again */
#define ACCEPT_BACKOFF_MS 100ull   /* out of descriptors or buffers: let some close first */

static struct conn conns[MAX_CONNS];
static unsigned long long accept_paused_until_ms;

struct options {
    unsigned port;
    uint32_t bind_addr; /* host byte order */
};

static bool set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* One attempt; on failure returns -1 with errno set and *step naming the call that failed. */
static int open_listener(const struct options *o, const char **step) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        *step = "socket";
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* best effort */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o->port);
    addr.sin_addr.s_addr = htonl(o->bind_addr);
    if (bind(fd, (const struct sockaddr *)&addr, sizeof addr) < 0)
        *step = "bind";
    else if (listen(fd, LISTEN_BACKLOG) < 0)
        *step = "listen";
    else if (!set_nonblocking(fd))
        *step = "fcntl";
    else
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* Retries every RETRY_MS until the network service lets us listen; says so once per distinct
 * failure rather than twice a second. */
static int listen_until_up(const struct options *o) {
    const char *last_step = NULL;
    int last_errno = 0;
    for (;;) {
        const char *step = NULL;
        int fd = open_listener(o, &step);
        if (fd >= 0)
            return fd;
        if (step != last_step || errno != last_errno) {
            printf("httpd: %s failed: errno %d; retrying every %d ms\n", step, errno, RETRY_MS);
            fflush(stdout);
            last_step = step;
            last_errno = errno;
        }
        poll(NULL, 0, RETRY_MS);
    }
}

static struct conn *free_slot(void) {
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd < 0)
            return &conns[i];
    return NULL;
}

/* The connection that has waited longest for a request head, or NULL: with every slot taken,
 * a new client gets its slot, so idle or slow clients can never lock out others. One busy
 * with a response keeps its slot. */
static struct conn *oldest_awaiting_head(void) {
    struct conn *oldest = NULL;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->fd >= 0 && conn_awaiting_head(c) && (!oldest || c->head_wait_since_ms < oldest->head_wait_since_ms))
            oldest = c;
    }
    return oldest;
}

static struct conn *slot_for_new_client(void) {
    struct conn *c = free_slot();
    if (c)
        return c;
    c = oldest_awaiting_head();
    if (c)
        conn_close(c);
    return c;
}

/* Failures that concern one pending connection or a passing shortage, not the listener. */
static bool accept_error_is_transient(int e) {
#ifdef ECONNABORTED
    if (e == ECONNABORTED)
        return true;
#endif
#ifdef EMFILE
    if (e == EMFILE)
        return true;
#endif
#ifdef ENFILE
    if (e == ENFILE)
        return true;
#endif
#ifdef ENOBUFS
    if (e == ENOBUFS)
        return true;
#endif
#ifdef ENOMEM
    if (e == ENOMEM)
        return true;
#endif
    return false;
}

/* Accepts while slots are free or can be freed; false when the listener itself has failed. */
static bool accept_connections(int listener) {
    while (free_slot() || oldest_awaiting_head()) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        int fd = accept(listener, (struct sockaddr *)&peer, &peer_len);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (would_block(errno))
                return true;
            if (accept_error_is_transient(errno)) {
                accept_paused_until_ms = now_ms + ACCEPT_BACKOFF_MS;
                return true;
            }
            printf("httpd: accept failed: errno %d\n", errno);
            return false;
        }
        if (!set_nonblocking(fd)) {
            close(fd);
            continue;
        }
        /* A response leaves in a few sends (head, pieces of a page); Nagle would hold each
         * later piece until the client's delayed ACK of the first. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_open(slot_for_new_client(), fd);
    }
    return true;
}

static void expire_connections(void) {
    for (size_t i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->fd < 0)
            continue;
        if (now_ms >= conn_deadline_ms(c))
            conn_close(c);
    }
}

static int poll_timeout_ms(bool accept_paused) {
    unsigned long long soonest = accept_paused ? accept_paused_until_ms : ~0ull;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        const struct conn *c = &conns[i];
        if (c->fd < 0)
            continue;
        if (c->run_again)
            return 0;
        soonest = min_u64(soonest, conn_deadline_ms(c));
    }
    if (soonest == ~0ull)
        return -1;
    return soonest <= now_ms ? 0 : (int)min_u64(soonest - now_ms, IDLE_TIMEOUT_MS);
}

/* Serves until the listener fails; then the caller rebuilds everything. */
static void serve(int listener) {
    static struct pollfd fds[1 + MAX_CONNS];
    static struct conn *polled[1 + MAX_CONNS];
    for (;;) {
        now_ms = sysinfo_uptime_ms();
        bool room = free_slot() != NULL || oldest_awaiting_head() != NULL;
        bool paused = now_ms < accept_paused_until_ms;
        nfds_t n = 0;
        /* Full or paused: keep the listener in the set without POLLIN, to still see it fail. */
        fds[n++] = (struct pollfd){.fd = listener, .events = room && !paused ? POLLIN : 0};
        for (size_t i = 0; i < MAX_CONNS; i++) {
            if (conns[i].fd < 0)
                continue;
            polled[n] = &conns[i];
            fds[n++] = (struct pollfd){.fd = conns[i].fd, .events = conn_interest(&conns[i])};
        }
        if (poll(fds, n, poll_timeout_ms(room && paused)) < 0) {
            if (errno == EINTR)
                continue;
            printf("httpd: poll failed: errno %d\n", errno);
            return;
        }
        now_ms = sysinfo_uptime_ms();
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            printf("httpd: listener failed (poll events 0x%x)\n", (unsigned)fds[0].revents);
            return;
        }
        for (nfds_t i = 1; i < n; i++)
            polled[i]->revents = fds[i].revents;
        if ((fds[0].revents & POLLIN) && !accept_connections(listener))
            return;
        for (size_t i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd >= 0 && (conns[i].revents || conns[i].run_again))
                conn_step(&conns[i]);
        expire_connections();
    }
}

static void drop_everything(int listener) {
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd >= 0)
            conn_close(&conns[i]);
    close(listener);
}

/* Dotted quad, each part 0..255. */
static bool parse_ipv4(const char *s, uint32_t *out) {
    uint32_t addr = 0;
    for (int part = 0; part < 4; part++) {
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        unsigned long long v;
        if (n > 3 || !http_parse_decimal(s, n, 255, &v) || s[n] != (part < 3 ? '.' : '\0'))
            return false;
        addr = addr << 8 | (uint32_t)v;
        s += n + 1;
    }
    *out = addr;
    return true;
}

static bool parse_options(int argc, char **argv, struct options *o) {
    unsigned long long port = 80;
    o->bind_addr = INADDR_ANY;
    if (argc > 3)
        return false;
    if (argc > 1 && !http_parse_decimal(argv[1], strlen(argv[1]), 65535, &port))
        return false;
    if (argc > 2 && !parse_ipv4(argv[2], &o->bind_addr))
        return false;
    o->port = (unsigned)port;
    return true;
}

int main(int argc, char **argv) {
    struct options opt;
    if (!parse_options(argc, argv, &opt)) {
        fprintf(stderr, "usage: httpd [port [bind-address]]\n");
        return 2;
    }
    conn_setup();
    for (size_t i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    for (;;) {
        int listener = listen_until_up(&opt);
        printf("httpd: listening on port %u\n", opt.port);
        fflush(stdout);
        serve(listener);
        drop_everything(listener);
        printf("httpd: network gone; rebuilding the listener\n");
        fflush(stdout);
        poll(NULL, 0, REBUILD_PAUSE_MS);
    }
}
