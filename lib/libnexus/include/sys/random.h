/*
 * <sys/random.h> for Nexus apps: getrandom(), as Linux and the BSDs have it, over the kernel's
 * entropy syscall (virtio-rng). Flag values are Linux's. getentropy() is in <unistd.h>
 * (picolibc declares it); both are implemented in lib/libnexus/random.c.
 */
#ifndef NEXUS_SYS_RANDOM_H
#define NEXUS_SYS_RANDOM_H

#include <sys/types.h> /* size_t, ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

#define GRND_NONBLOCK 0x0001
#define GRND_RANDOM   0x0002

/* Fills buf with buflen random bytes, however large. flags: 0, GRND_NONBLOCK, GRND_RANDOM or
 * both; the kernel never blocks long for entropy, and it has one pool, so both are accepted and
 * change nothing. Returns buflen, or -1 with errno: EINVAL (another flag), EFAULT (buf not
 * writable), ENOSYS (the machine has no RNG device), EIO (the device stopped answering). */
ssize_t getrandom(void *buf, size_t buflen, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif
