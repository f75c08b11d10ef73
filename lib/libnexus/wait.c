/*
 * libnexus: how a blocking call sleeps, and the calls that only sleep (nanosleep, sleep,
 * usleep, pause, sigsuspend). A sleeper watches the services whose sockets it waits for, and
 * those of O_ASYNC sockets (sigio.c), on all their channels at once; the interval timer's due
 * time bounds the sleep (itimer.c). Every wake is followed by a safe point (signal.c), so a
 * signal's handler runs while the app waits and, as POSIX says, interrupts the wait (EINTR).
 */
#include <signal.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "libnexus.h"
#include "nexus.h"

#define NS_PER_S 1000000000ull
#define FOREVER_SLICE_NS NX_MS(1000) /* a sleep with nothing to watch still looks up this often */

int nxl_woke_from_sleep;

void nxl_watch_add(struct nxl_watch *w, const struct nxl_family *family) {
    struct link_client *backend = family->backend;
    if (family->local) {
        w->local = family->local;
        return;
    }
    for (unsigned i = 0; i < w->n; i++)
        if (w->backend[i] == backend)
            return;
    if (w->n < NXL_FDS)
        w->backend[w->n++] = backend;
}

void nxl_watch_mark(struct nxl_watch *w) {
    for (unsigned i = 0; i < w->n; i++)
        w->seen[i] = link_client_status_seq(w->backend[i]);
}

/* limit, cut short to when the interval timer is due. */
static uint64_t timer_bound(uint64_t limit) {
    uint64_t due = nxl_itimer_due();
    if (due == UINT64_MAX)
        return limit;
    uint64_t now = nx_clock_ns();
    uint64_t left = due > now ? due - now : 0;
    return left < limit ? left : limit;
}

long nxl_watch_sleep(struct nxl_watch *w, uint64_t limit) {
    limit = timer_bound(limit);
    if (!limit)
        return -ETIMEDOUT;
    uint64_t mask = 0;
    for (unsigned i = 0; i < w->n; i++) {
        if (link_client_prepare_wait(w->backend[i], w->seen[i]))
            return 0; /* changed since the mark (or a service restarted): look again */
        mask |= 1ull << link_client_channel(w->backend[i]);
    }
    if (w->console) {
        if (nxl_console_readable())
            return 0;
        mask |= 1ull << NEXUS_CONSOLE_CHANNEL;
    }
    int bell = w->local ? w->local->doorbell() : -1; /* -1: only the app itself changes them */
    if (bell >= 0) {
        if (!w->local->sleep_prepare())
            return 0;
        mask |= 1ull << bell;
    }
    nxl_woke_from_sleep = 1;
    if (!mask) {
        nx_sleep_ns(limit < FOREVER_SLICE_NS ? limit : FOREVER_SLICE_NS);
        return -ETIMEDOUT;
    }
    long r = nx_wait_any(mask, limit < LINK_CLIENT_LIVENESS_NS ? limit : LINK_CLIENT_LIVENESS_NS);
    return r < 0 ? -ETIMEDOUT : 0;
}

/* Sleeps ns (UINT64_MAX: until a handler runs). 0, or -EINTR when a handler ran first, with
 * *left the time not slept. Never restarted, whatever SA_RESTART says (as Linux). */
static long sleep_ns(uint64_t ns, uint64_t *left) {
    uint64_t start = nx_clock_ns();
    struct nxl_watch w = {0};
    nxl_sigio_watch(&w);
    for (;;) {
        nxl_watch_mark(&w);
        int ran = nxl_signal_safe_point();
        uint64_t waited = nx_clock_ns() - start;
        if (ran) {
            *left = ns > waited ? ns - waited : 0;
            return -EINTR;
        }
        if (waited >= ns)
            return 0;
        nxl_watch_sleep(&w, ns - waited);
    }
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
    if (!req)
        return (int)nxl_result(-EFAULT);
    if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= (long)NS_PER_S)
        return (int)nxl_result(-EINVAL);
    uint64_t left = 0;
    long r = sleep_ns((uint64_t)req->tv_sec * NS_PER_S + (uint64_t)req->tv_nsec, &left);
    if (r && rem)
        *rem = (struct timespec){(time_t)(left / NS_PER_S), (long)(left % NS_PER_S)};
    return (int)nxl_result(r);
}

/* The seconds not slept, rounded up. */
unsigned sleep(unsigned seconds) {
    uint64_t left = 0;
    sleep_ns((uint64_t)seconds * NS_PER_S, &left);
    return (unsigned)((left + NS_PER_S - 1) / NS_PER_S);
}

int usleep(useconds_t us) {
    uint64_t left;
    return (int)nxl_result(sleep_ns((uint64_t)us * 1000ull, &left));
}

/* Waits with `mask` blocked until a handler has run; always -1 with EINTR (or the app ends). */
int sigsuspend(const sigset_t *mask) {
    if (!mask)
        return (int)nxl_result(-EFAULT);
    sigset_t before = nxl_signal_blocked(*mask);
    uint64_t left;
    sleep_ns(UINT64_MAX, &left);
    nxl_signal_blocked(before);
    return (int)nxl_result(-EINTR);
}

int pause(void) {
    sigset_t now = nxl_signal_blocked(0);
    return sigsuspend(&now);
}
