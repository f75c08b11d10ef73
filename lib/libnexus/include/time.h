/*
 * <time.h> for Nexus apps: picolibc's, plus what picolibc 1.8 declares only for RTEMS and
 * Cygwin (its _POSIX_TIMERS and _POSIX_MONOTONIC_CLOCK are off for bare targets): the monotonic
 * clock and clock_gettime, which lib/rt/time.c implements, and nanosleep (lib/libnexus/wait.c,
 * where a signal's handler interrupts it). The clock numbers are picolibc's.
 */
#ifndef NEXUS_TIME_H
#define NEXUS_TIME_H

#include_next <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC ((clockid_t)4)
#endif

int clock_gettime(clockid_t clock_id, struct timespec *tp);
int nanosleep(const struct timespec *req, struct timespec *rem);

#ifdef __cplusplus
}
#endif

#endif
