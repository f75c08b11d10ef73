/*
 * libnexus: poll(2) and select(2) across socket families. Readiness comes from the status words
 * each family's service keeps for its sockets (nexus/link.h): checking costs no request. To
 * sleep, poll asks every service behind the polled descriptors to signal its next change and
 * waits on all their channels at once, so a change in any family wakes it.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include "libnexus.h"
#include "nexus.h"


static short revents_of(const struct pollfd *p) {
    struct nxl_fd *f = nxl_fd_any(p->fd);
    if (!f)
        return POLLNVAL;
    if (f->is_file) /* a file in memory never blocks, as a regular file on Linux */
        return (short)(p->events & (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM));
    if (nxl_fd_live(f))
        return POLLERR | POLLHUP;
    uint32_t st = nxl_fd_status(f);
    short want = (short)(p->events | POLLERR | POLLHUP);
    short got = 0;
    if (st & NXS_EV_IN)
        got |= POLLIN | POLLRDNORM;
    if (st & NXS_EV_OUT)
        got |= POLLOUT | POLLWRNORM;
    if (st & NXS_EV_ERR)
        got |= POLLERR;
    if (st & NXS_EV_HUP)
        got |= POLLHUP;
    return got & want;
}

/* The services behind the polled descriptors, each with the status_seq seen before a scan. */
struct watch {
    unsigned n;
    struct link_client *backend[NXL_FDS];
    uint32_t seen[NXL_FDS];
};

static void watch_add(struct watch *w, struct link_client *b) {
    for (unsigned i = 0; i < w->n; i++)
        if (w->backend[i] == b)
            return;
    w->backend[w->n++] = b;
}

static void watch_fds(struct watch *w, const struct pollfd *fds, nfds_t n) {
    w->n = 0;
    for (nfds_t i = 0; i < n && w->n < NXL_FDS; i++) {
        struct nxl_fd *f = fds[i].fd >= NXL_FD_FIRST ? nxl_fd_any(fds[i].fd) : NULL;
        if (f && !f->is_file && link_client_ready(f->family->backend) == 0)
            watch_add(w, f->family->backend);
    }
}

static int scan(struct pollfd *fds, nfds_t n, struct watch *w) {
    for (unsigned i = 0; i < w->n; i++)
        w->seen[i] = link_client_status_seq(w->backend[i]);
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = fds[i].fd < 0 ? 0 : revents_of(&fds[i]);
        ready += fds[i].revents != 0;
    }
    return ready;
}

/* Sleeps until a watched service changes something, or `limit` ns pass. */
static void sleep_on(struct watch *w, uint64_t limit) {
    uint64_t mask = 0;
    for (unsigned i = 0; i < w->n; i++) {
        if (link_client_prepare_wait(w->backend[i], w->seen[i]))
            return; /* changed since the scan (or a service restarted): scan again */
        mask |= 1ull << link_client_channel(w->backend[i]);
    }
    if (!mask)
        nx_sleep_ns(limit); /* no service involved: poll is only a sleep (poll(NULL, 0, ms)) */
    else
        nx_wait_any(mask, limit < LINK_CLIENT_LIVENESS_NS ? limit : LINK_CLIENT_LIVENESS_NS);
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms) {
    if (n && !fds)
        return (int)nxl_result(-EFAULT);
    struct watch w;
    watch_fds(&w, fds, n);
    uint64_t start = nx_clock_ns();
    uint64_t limit = timeout_ms < 0 ? UINT64_MAX : NX_MS(timeout_ms);
    for (;;) {
        int ready = scan(fds, n, &w);
        uint64_t waited = nx_clock_ns() - start;
        if (ready || waited >= limit)
            return ready;
        uint64_t left = limit == UINT64_MAX ? NX_MS(1000) : limit - waited;
        sleep_on(&w, left);
    }
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv) {
    if (nfds < 0 || nfds > FD_SETSIZE)
        return (int)nxl_result(-EINVAL);
    struct pollfd p[FD_SETSIZE];
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) | (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
                           (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));
        if (ev)
            p[n++] = (struct pollfd){fd, ev, 0};
    }
    int timeout = tv ? (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000) : -1;
    int r = poll(p, n, timeout);
    if (r < 0)
        return r;
    for (nfds_t i = 0; i < n; i++)
        if (p[i].revents & POLLNVAL)
            return (int)nxl_result(-EBADF);
    if (rd)
        FD_ZERO(rd);
    if (wr)
        FD_ZERO(wr);
    if (ex)
        FD_ZERO(ex);
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        short re = p[i].revents;
        /* select reports errors and hang-ups as readable/writable, like Linux. */
        if (rd && (p[i].events & POLLIN) && (re & (POLLIN | POLLERR | POLLHUP)))
            FD_SET(p[i].fd, rd), count++;
        if (wr && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR)))
            FD_SET(p[i].fd, wr), count++;
    }
    return count;
}
