/*
 * libnexus: the real-time interval timer (setitimer(ITIMER_REAL), alarm). No kernel timer fires
 * for it: it is a due time that every safe point compares with the clock, raising SIGALRM once
 * it has passed, and that bounds every blocking wait (wait.c), so a blocked recv, poll or sleep
 * wakes when it is due. A period that passed unseen (the app ran without calling libnexus)
 * is skipped, as an overrun on Linux gives one signal, not a burst. ITIMER_VIRTUAL and
 * ITIMER_PROF would need the kernel's accounting of the fiber's run time: EINVAL.
 */
#include <signal.h>
#include <errno.h>
#include <stdint.h>
#include <time.h> /* before <sys/time.h>: see lib/rt/time.c */
#include <sys/time.h>
#include <unistd.h>

#include "libnexus.h"
#include "nexus.h"

#define NS_PER_S 1000000000ull
#define NS_PER_US 1000ull

static uint64_t due_ns; /* 0: disarmed */
static uint64_t interval_ns;

uint64_t nxl_itimer_due(void) { return due_ns ? due_ns : UINT64_MAX; }

void nxl_itimer_poll(void) {
    if (!due_ns)
        return;
    uint64_t now = nx_clock_ns();
    if (now < due_ns)
        return;
    due_ns = interval_ns ? due_ns + ((now - due_ns) / interval_ns + 1) * interval_ns : 0;
    nxl_signal_raise(SIGALRM);
}

static uint64_t timeval_ns(const struct timeval *tv) {
    return (uint64_t)tv->tv_sec * NS_PER_S + (uint64_t)tv->tv_usec * NS_PER_US;
}

static struct timeval ns_timeval(uint64_t ns) {
    return (struct timeval){(time_t)(ns / NS_PER_S), (suseconds_t)(ns % NS_PER_S / NS_PER_US)};
}

static int valid_timeval(const struct timeval *tv) {
    return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

int getitimer(int which, struct itimerval *value) {
    if (which != ITIMER_REAL)
        return (int)nxl_result(-EINVAL);
    if (!value)
        return (int)nxl_result(-EFAULT);
    uint64_t now = nx_clock_ns();
    value->it_value = ns_timeval(due_ns > now ? due_ns - now : due_ns ? 1 : 0);
    value->it_interval = ns_timeval(interval_ns);
    return 0;
}

int setitimer(int which, const struct itimerval *restrict value, struct itimerval *restrict old) {
    if (which != ITIMER_REAL)
        return (int)nxl_result(-EINVAL);
    if (!value)
        return (int)nxl_result(-EFAULT);
    if (!valid_timeval(&value->it_value) || !valid_timeval(&value->it_interval))
        return (int)nxl_result(-EINVAL);
    if (old)
        getitimer(ITIMER_REAL, old);
    uint64_t first = timeval_ns(&value->it_value);
    due_ns = first ? nx_clock_ns() + first : 0;
    interval_ns = timeval_ns(&value->it_interval);
    return 0;
}

/* The seconds the previous alarm had left, rounded to nearest but never 0 for one still set,
 * as glibc's alarm. */
unsigned alarm(unsigned seconds) {
    struct itimerval value = {.it_value = {(time_t)seconds, 0}}, old;
    setitimer(ITIMER_REAL, &value, &old);
    unsigned left = (unsigned)old.it_value.tv_sec + (old.it_value.tv_usec >= 500000);
    return left || !old.it_value.tv_usec ? left : 1;
}
