/*
 * libnexus: signal-driven I/O. fcntl(F_SETFL, O_ASYNC) with fcntl(F_SETOWN, getpid()) asks for
 * SIGIO when a socket becomes ready. Readiness is the socket's status word, which its service
 * keeps in memory the app shares (nexus/link.h), so looking costs no request: every safe point
 * (signal.c) compares each O_ASYNC socket's readiness with what it saw last and raises SIGIO on
 * a rise (readable, acceptable, writable, error or hang-up that was not there). One signal per
 * rise, not per datagram: a handler drains the socket, as portable SIGIO code does anyway. And
 * a blocking call watches these sockets' services too, so a change wakes it to deliver.
 */
#include <signal.h>
#include <unistd.h>

#include "libnexus.h"

#define READINESS (NXS_EV_IN | NXS_EV_OUT | NXS_EV_ERR | NXS_EV_HUP)

static int any_async; /* nothing to look at until some descriptor asked */

static uint32_t readiness(const struct nxl_fd *f) {
    return nxl_fd_live(f) ? NXS_EV_ERR | NXS_EV_HUP : nxl_fd_status(f) & READINESS;
}

static int watched(const struct nxl_fd *f) { return f && f->async && !f->is_file; }

void nxl_sigio_set(struct nxl_fd *f, int on) {
    if (on && !f->async && !f->is_file)
        f->async_seen = readiness(f); /* what is ready already is no news */
    f->async = (uint8_t)(on != 0);
    any_async |= on;
}

void nxl_sigio_poll(void) {
    if (!any_async)
        return;
    int rose = 0;
    for (int fd = NXL_FD_FIRST; fd < NXL_FD_FIRST + NXL_FDS; fd++) {
        struct nxl_fd *f = nxl_fd_at(fd);
        if (!watched(f))
            continue;
        uint32_t now = readiness(f);
        if ((now & ~f->async_seen) && f->owner != 0 && f->owner == getpid())
            rose = 1;
        f->async_seen = now;
    }
    if (rose)
        nxl_signal_raise(SIGIO);
}

void nxl_sigio_watch(struct nxl_watch *w) {
    if (!any_async)
        return;
    for (int fd = NXL_FD_FIRST; fd < NXL_FD_FIRST + NXL_FDS; fd++) {
        struct nxl_fd *f = nxl_fd_at(fd);
        if (watched(f))
            nxl_watch_add(w, f->family);
    }
}
