/*
 * Time for apps: CLOCK_MONOTONIC is the time CSR since boot (nx_clock_ns), CLOCK_REALTIME the
 * kernel's boot reading of the RTC plus that (SYS_REALTIME, kernel/rtc.h). picolibc's time()
 * calls gettimeofday. Without an RTC the realtime calls fail with ENODEV rather than invent a
 * date; docs/syscalls.md says so.
 */
/* <time.h> before <sys/time.h>: included first from a system header, libnexus's own <time.h>
 * would be left out of the dependency file (gcc -MMD), and a change to it would not rebuild this. */
#include <errno.h>
#include <time.h>
#include <sys/time.h>

#include "nexus.h"

#define NS_PER_S 1000000000ull

static int realtime_ns(uint64_t *ns) {
    long r = nx_realtime_ns();
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    *ns = (uint64_t)r;
    return 0;
}

int clock_gettime(clockid_t clock_id, struct timespec *tp) {
    uint64_t ns;
    if (clock_id == CLOCK_MONOTONIC)
        ns = nx_clock_ns();
    else if (clock_id != CLOCK_REALTIME) {
        errno = EINVAL;
        return -1;
    } else if (realtime_ns(&ns))
        return -1;
    tp->tv_sec = (time_t)(ns / NS_PER_S);
    tp->tv_nsec = (long)(ns % NS_PER_S);
    return 0;
}

/* The timezone argument is obsolete (POSIX): no zone but UTC exists here. */
int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    uint64_t ns;
    if (realtime_ns(&ns))
        return -1;
    if (tv) {
        tv->tv_sec = (time_t)(ns / NS_PER_S);
        tv->tv_usec = (suseconds_t)(ns % NS_PER_S / 1000);
    }
    return 0;
}
