/*
 * lwIP's compiler/platform header for Nexus services: picolibc on rv64, freestanding, one
 * thread. lwIP takes its integer types from <stdint.h> and its errno values from <errno.h>.
 */
#ifndef NEXUS_LWIP_ARCH_CC_H
#define NEXUS_LWIP_ARCH_CC_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* picolibc's <limits.h> has no SSIZE_MAX; without it lwIP typedefs its own ssize_t as int,
 * which collides with picolibc's long (PITFALLS.md). */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define LWIP_PLATFORM_DIAG(x) \
    do {                      \
        printf x;             \
    } while (0)

/* An lwIP assertion ends the Membrane (and only it): the kernel logs the exit, the supervisor
 * restarts the service. */
#define LWIP_PLATFORM_ASSERT(msg)                                                        \
    do {                                                                                 \
        printf("membrane: lwIP assertion \"%s\" failed at %s:%d\n", msg, __FILE__, __LINE__); \
        abort();                                                                         \
    } while (0)

#endif
