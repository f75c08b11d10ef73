/*
 * getentropy() and getrandom() over SYS_ENTROPY. The kernel hands out at most
 * NEXUS_ENTROPY_MAX bytes a call, as getentropy's own limit, so getrandom draws larger
 * requests in pieces.
 */
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include "nexus.h"

/* The kernel's -errno as the POSIX calls report it: no RNG device means the facility does not
 * exist on this machine (ENOSYS, as a kernel without getrandom answers). */
static int entropy_errno(long err) { return err == -ENODEV ? ENOSYS : (int)-err; }

int getentropy(void *buf, size_t len) {
    if (len > NEXUS_ENTROPY_MAX) {
        errno = EINVAL;
        return -1;
    }
    long got = nx_entropy(buf, len);
    if (got < 0) {
        errno = entropy_errno(got);
        return -1;
    }
    return 0;
}

ssize_t getrandom(void *buf, size_t buflen, unsigned int flags) {
    if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM)) {
        errno = EINVAL;
        return -1;
    }
    for (size_t done = 0; done < buflen;) {
        size_t piece = buflen - done < NEXUS_ENTROPY_MAX ? buflen - done : NEXUS_ENTROPY_MAX;
        long got = nx_entropy((char *)buf + done, piece);
        if (got < 0) {
            errno = entropy_errno(got);
            return -1;
        }
        done += (size_t)got;
    }
    return (ssize_t)buflen;
}
