/*
 * libnexus: poll(2) and select(2) over the status words the Membrane keeps for each socket
 * (membrane/sockproto.h). Checking readiness costs no request; only sleeping involves the
 * kernel, and the Membrane wakes us when any status word changes.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include "libnexus.h"
#include "nexus.h"

static short revents_of(const struct pollfd *p) {
    struct nxl_fd *f = nxl_fd_get(p->fd);
    if (!f)
        return POLLNVAL;
    if (nxl_fd_live(f))
        return POLLERR | POLLHUP;
    uint32_t st = nxl_status(f->sock);
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

static int scan(struct pollfd *fds, nfds_t n) {
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = fds[i].fd < 0 ? 0 : revents_of(&fds[i]);
        ready += fds[i].revents != 0;
    }
    return ready;
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms) {
    if (n && !fds)
        return (int)nxl_result(-EFAULT);
    int net = nxl_ready() == 0;
    uint64_t start = nx_clock_ns();
    uint64_t limit = timeout_ms < 0 ? UINT64_MAX : NX_MS(timeout_ms);
    for (;;) {
        uint32_t seen = net ? nxl_status_seq() : 0;
        int ready = scan(fds, n);
        uint64_t waited = nx_clock_ns() - start;
        if (ready || waited >= limit)
            return ready;
        uint64_t left = limit == UINT64_MAX ? UINT64_MAX : limit - waited;
        if (!net) {
            /* No network: poll is only a sleep (e.g. poll(NULL, 0, ms)). */
            nx_sleep_ns(left == UINT64_MAX ? NX_MS(1000) : left);
            continue;
        }
        nxl_wait_change(seen, left); /* a dead Membrane shows as POLLERR on the next scan */
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
