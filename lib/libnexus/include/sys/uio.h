/*
 * <sys/uio.h> for Nexus apps (picolibc has none): scatter/gather I/O. The layout of struct
 * iovec is Linux's; readv/writev take any descriptor libnexus has (a socket of any family, a
 * file, the console for writev) and are implemented in lib/libnexus/uio.c. iovcnt must be
 * 0..IOV_MAX (1024, picolibc's <limits.h>), else EINVAL.
 */
#ifndef NEXUS_SYS_UIO_H
#define NEXUS_SYS_UIO_H

#include <sys/types.h> /* size_t, ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

struct iovec {
    void *iov_base;
    size_t iov_len;
};

#define UIO_MAXIOV 1024 /* Linux's name for IOV_MAX */

ssize_t readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t writev(int fd, const struct iovec *iov, int iovcnt);

#ifdef __cplusplus
}
#endif

#endif
