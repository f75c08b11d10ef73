/*
 * nexus-httpd: a small HTTP/1.1 server over POSIX sockets only, so the same sources run on host
 * Linux and on Nexus (where the socket calls go through libnexus to the Membrane's lwIP, and to
 * the UTCP service for AF_UTCP).
 *
 *   httpd [port [bind-address]]      defaults: 80, 0.0.0.0
 *
 * What it serves is routes.h. This file holds the listeners and the loop: one thread, one poll()
 * over the listeners and every connection (conn.h), non-blocking sockets, and only static storage
 * (Nexus has no heap).
 *
 * It listens on TCP `port` and, where the C library has AF_UTCP (Nexus), on UTCP stream `port`
 * too, so a node fetches another's status page by CellID (docs/utcp.md, section 12). Each
 * listener belongs to its own network service, which may start after httpd or restart under it,
 * so httpd never gives up on one: a listener that cannot be set up is retried (every 50 ms,
 * slowing to once a second while it keeps failing), and one that fails is closed and set up
 * again, alone. Connections remember nothing of their family: those of a restarted service fail
 * on their own (libnexus answers ECONNRESET), the others carry on.
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
#if __has_include(<net/utcp.h>)
#include <net/utcp.h> /* libnexus: AF_UTCP's address */
#endif

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

#define RETRY_MS 50ull             /* first listener setup retry: a restarted service is quick */
#define RETRY_MAX_MS 1000ull       /* ... doubling to this while it keeps failing (no service at all) */
#define STARTING_MS 400ull         /* a service not up yet while the period is below this is starting
                                    * after httpd (the manifest's after_boot: UTCP), not failing */
#define ACCEPT_BACKOFF_MS 100ull   /* out of descriptors or buffers: let some close first */

static struct conn conns[MAX_CONNS];
static unsigned long long accept_paused_until_ms;

struct options {
    unsigned port;      /* TCP port and UTCP stream */
    uint32_t bind_addr; /* host byte order */
};

union listen_address {
    struct sockaddr any;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
#ifdef AF_UTCP
    struct sockaddr_utcp utcp;
#endif
};

/* No bind address: IPv6's any address, which takes IPv4 too (IPV6_V6ONLY off, open_listener),
 * so the page is reachable on every address the node has, link-local included. */
static socklen_t tcp_address(const struct options *o, union listen_address *a) {
    if (o->bind_addr == INADDR_ANY) {
        a->in6.sin6_family = AF_INET6;
        a->in6.sin6_port = htons((uint16_t)o->port);
        a->in6.sin6_addr = in6addr_any;
        return sizeof a->in6;
    }
    a->in.sin_family = AF_INET;
    a->in.sin_port = htons((uint16_t)o->port);
    a->in.sin_addr.s_addr = htonl(o->bind_addr);
    return sizeof a->in;
}

#ifdef AF_UTCP
/* The stream number is UTCP's port; a zero CellID means this node's own, as for utcpsink. */
static socklen_t utcp_address(const struct options *o, union listen_address *a) {
    a->utcp.sutcp_family = AF_UTCP;
    a->utcp.sutcp_stream = (uint16_t)o->port;
    return sizeof a->utcp;
}
#endif

/* A socket family httpd listens on. */
struct listener_kind {
    const char *name; /* on the console */
    socklen_t (*address)(const struct options *o, union listen_address *a);
    /* A response leaves in a few sends (head, pieces of a page); Nagle would hold each later
     * piece until the client's delayed ACK of the first. UTCP has no Nagle. Set on the
     * listener, which hands it to every connection it accepts (Linux, the BSDs and the
     * Membrane do): a call per connection spared. */
    bool nodelay;
    const char *up; /* said when up, before the port: tests wait for the TCP line */
};

static const struct listener_kind kinds[] = {
    {"TCP", tcp_address, true, "listening on port"},
#ifdef AF_UTCP
    {"UTCP", utcp_address, false, "serving UTCP stream"},
#endif
};

enum { LISTENERS = sizeof kinds / sizeof kinds[0] };

struct listener {
    const struct listener_kind *kind;
    int fd;                                  /* -1: down */
    unsigned long long retry_at_ms, retry_ms; /* down: when to try again, and the period now */
    const char *last_step;                   /* the last failure said, to say each kind once */
    int last_errno;
};

static struct listener listeners[LISTENERS];

static bool set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* One attempt; on failure returns -1 with errno set and *step naming the call that failed. */
static int open_listener(const struct listener_kind *k, const struct options *o, const char **step) {
    union listen_address addr;
    memset(&addr, 0, sizeof addr);
    socklen_t len = k->address(o, &addr);
    int fd = socket(addr.any.sa_family, SOCK_STREAM, 0);
    if (fd < 0) {
        *step = "socket";
        return -1;
    }
    int one = 1, zero = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* best effort */
    if (k->nodelay)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* best effort, as before */
    if (addr.any.sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
        *step = "setsockopt IPV6_V6ONLY";
    else if (bind(fd, &addr.any, len) < 0)
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

/* One setup attempt for a listener that is down; says so once per distinct failure rather than
 * at every retry (a node without the UTCP service says it once). */
static void try_listen(struct listener *l, const struct options *o) {
    const char *step = NULL;
    l->fd = open_listener(l->kind, o, &step);
    if (l->fd >= 0) {
        printf("httpd: %s %u\n", l->kind->up, o->port);
        l->last_step = NULL;
        l->last_errno = 0;
        l->retry_ms = RETRY_MS;
    } else {
        /* Not said while its service may still be starting: the boot's first lines would read
         * as a fault every time. Still down past that, it is said as any failure. */
        bool starting = errno == ENETDOWN && l->retry_ms < STARTING_MS;
        if (!starting && (step != l->last_step || errno != l->last_errno)) {
            printf("httpd: %s unavailable: %s failed: errno %d; retrying\n", l->kind->name, step, errno);
            l->last_step = step;
            l->last_errno = errno;
        }
        l->retry_at_ms = sysinfo_uptime_ms() + l->retry_ms;
        l->retry_ms = min_u64(l->retry_ms * 2, RETRY_MAX_MS);
    }
    fflush(stdout);
}

/* Its service is gone (or restarted): closed here, set up again at once by the loop. Only this
 * listener: the connections of the other family never notice. */
static void listener_down(struct listener *l) {
    fflush(stdout);
    close(l->fd);
    l->fd = -1;
    l->retry_at_ms = 0;
    l->retry_ms = RETRY_MS;
}

static struct conn *free_slot(void) {
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd < 0)
            return &conns[i];
    return NULL;
}

/* The connection that has waited longest for a request head, or NULL: with every slot taken,
 * a new client gets its slot, so idle or slow clients can never lock out others. One busy
 * with a response keeps its slot, and so does one accepted in this pass and not yet read: a
 * burst of accepts (a backlog of 64 behind 48 slots) closed a client whose whole request was
 * already waiting, unanswered (qemu_e2e's slowloris check saw it). */
static struct conn *oldest_awaiting_head(void) {
    struct conn *oldest = NULL;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->fd >= 0 && !c->unread && conn_awaiting_head(c) &&
            (!oldest || c->head_wait_since_ms < oldest->head_wait_since_ms))
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
static bool accept_connections(const struct listener *l) {
    while (free_slot() || oldest_awaiting_head()) {
        int fd = accept(l->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (would_block(errno))
                return true;
            if (accept_error_is_transient(errno)) {
                accept_paused_until_ms = now_ms + ACCEPT_BACKOFF_MS;
                return true;
            }
            return false;
        }
        if (!set_nonblocking(fd)) {
            close(fd);
            continue;
        }
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
    for (size_t i = 0; i < LISTENERS; i++)
        if (listeners[i].fd < 0)
            soonest = min_u64(soonest, listeners[i].retry_at_ms);
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

static void listen_where_due(const struct options *o) {
    for (size_t i = 0; i < LISTENERS; i++)
        if (listeners[i].fd < 0 && sysinfo_uptime_ms() >= listeners[i].retry_at_ms)
            try_listen(&listeners[i], o);
}

/* Serves for ever: each pass sets up the listeners that are due, polls, accepts, and steps the
 * connections that are ready. */
_Noreturn static void serve(const struct options *o) {
    static struct pollfd fds[LISTENERS + MAX_CONNS];
    static struct conn *polled[LISTENERS + MAX_CONNS];
    static struct listener *polled_listener[LISTENERS];
    for (;;) {
        listen_where_due(o);
        now_ms = sysinfo_uptime_ms();
        bool room = free_slot() != NULL || oldest_awaiting_head() != NULL;
        bool paused = now_ms < accept_paused_until_ms;
        nfds_t n = 0;
        /* Full or paused: keep the listeners in the set without POLLIN, to still see one fail. */
        for (size_t i = 0; i < LISTENERS; i++) {
            if (listeners[i].fd < 0)
                continue;
            polled_listener[n] = &listeners[i];
            fds[n++] = (struct pollfd){.fd = listeners[i].fd, .events = room && !paused ? POLLIN : 0};
        }
        nfds_t first_conn = n;
        for (size_t i = 0; i < MAX_CONNS; i++) {
            if (conns[i].fd < 0)
                continue;
            polled[n] = &conns[i];
            fds[n++] = (struct pollfd){.fd = conns[i].fd, .events = conn_interest(&conns[i])};
        }
        if (poll(fds, n, poll_timeout_ms(room && paused)) < 0) {
            if (errno != EINTR) {
                printf("httpd: poll failed: errno %d\n", errno);
                poll(NULL, 0, RETRY_MS);
            }
            continue;
        }
        now_ms = sysinfo_uptime_ms();
        for (nfds_t i = first_conn; i < n; i++)
            polled[i]->revents = fds[i].revents;
        for (nfds_t i = 0; i < first_conn; i++) {
            struct listener *l = polled_listener[i];
            if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                printf("httpd: %s listener failed (poll events 0x%x); listening again\n", l->kind->name,
                       (unsigned)fds[i].revents);
                listener_down(l);
            } else if ((fds[i].revents & POLLIN) && !accept_connections(l)) {
                printf("httpd: %s accept failed: errno %d; listening again\n", l->kind->name, errno);
                listener_down(l);
            }
        }
        for (size_t i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd >= 0 && (conns[i].revents || conns[i].run_again))
                conn_step(&conns[i]);
        expire_connections();
    }
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
    for (size_t i = 0; i < LISTENERS; i++)
        listeners[i] = (struct listener){.kind = &kinds[i], .fd = -1, .retry_ms = RETRY_MS};
    serve(&opt);
}
