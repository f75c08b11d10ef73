/*
 * libnexus: poll(2) and select(2) across socket families. Readiness comes from the status words
 * each family's service keeps for its sockets (nexus/link.h): checking costs no request. To
 * sleep, poll asks every service behind the polled descriptors to signal its next change and
 * waits on all their channels at once (wait.c), so a change in any family wakes it; so do a
 * due interval timer and a change on an O_ASYNC socket, whose signal interrupts it (EINTR).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include "libnexus.h"
#include "nexus.h"


static short revents_of(const struct pollfd *p) {
    if (p->fd == 0)
        return nxl_console_readable() ? (short)(p->events & (POLLIN | POLLRDNORM)) : 0;
    if (p->fd == 1 || p->fd == 2) /* console output never waits */
        return (short)(p->events & (POLLOUT | POLLWRNORM));
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

static void watch_fds(struct nxl_watch *w, const struct pollfd *fds, nfds_t n) {
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].fd == 0)
            w->console = 1;
        struct nxl_fd *f = fds[i].fd >= NXL_FD_FIRST ? nxl_fd_at(fds[i].fd) : NULL;
        if (f && !f->is_file && (!f->family->backend || link_client_ready(f->family->backend) == 0))
            nxl_watch_add(w, f->family);
    }
    nxl_sigio_watch(w);
}

static int scan(struct pollfd *fds, nfds_t n) {
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = fds[i].fd < 0 ? 0 : revents_of(&fds[i]);
        ready += fds[i].revents != 0;
    }
    return ready;
}

/* Ready descriptors, 0 when `limit` ns passed, or -EINTR when a handler ran first (poll is
 * never restarted, whatever SA_RESTART says: Linux's rule). */
static int wait_ready(struct pollfd *fds, nfds_t n, uint64_t limit) {
    struct nxl_watch w = {0};
    watch_fds(&w, fds, n);
    uint64_t start = nx_clock_ns();
    nxl_woke_from_sleep = 0;
    for (;;) {
        nxl_watch_mark(&w);
        int ready = scan(fds, n);
        uint64_t waited = nx_clock_ns() - start;
        if (ready || waited >= limit)
            return ready;
        if (nxl_signal_safe_point())
            return -EINTR;
        nxl_watch_sleep(&w, limit - waited);
    }
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms) {
    if (n && !fds)
        return (int)nxl_result(-EFAULT);
    return (int)nxl_return(wait_ready(fds, n, timeout_ms < 0 ? UINT64_MAX : NX_MS(timeout_ms)));
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
