/*
 * lwIP's compiler/platform header for Nexus services: picolibc on rv64, freestanding, one
 * thread. lwIP takes its integer types from <stdint.h> and its errno values from <errno.h>.
 */
#ifndef NEXUS_LWIP_ARCH_CC_H
#define NEXUS_LWIP_ARCH_CC_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* picolibc's <limits.h> has no SSIZE_MAX; without it lwIP typedefs its own ssize_t as int,
 * which collides with picolibc's long (PITFALLS.md). */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

/* lwIP's byte-order swaps inline (def.h takes them from here): its own are out-of-line
 * functions, a call for every header field it reads or writes, a few thousand instructions per
 * status page (make bench's profile). Shifts, not __builtin_bswap32: without Zbb GCC makes that
 * a libgcc call too. */
static inline uint16_t nexus_swap16(uint16_t x) { return (uint16_t)(x << 8 | x >> 8); }
static inline uint32_t nexus_swap32(uint32_t x) {
    return x << 24 | (x & 0xff00u) << 8 | (x >> 8 & 0xff00u) | x >> 24;
}
#define lwip_htons(x) nexus_swap16(x)
#define lwip_htonl(x) nexus_swap32(x)

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
