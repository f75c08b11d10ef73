/*
 * <sys/ioctl.h> for Nexus apps (picolibc has none). Only what sockets use; request numbers are
 * Linux's, so code that hard-codes them agrees. Implemented in lib/libnexus/socket.c: FIONBIO on
 * any descriptor, FIONREAD on sockets and files; any other request fails with ENOTTY, a closed
 * descriptor with EBADF.
 */
#ifndef NEXUS_SYS_IOCTL_H
#define NEXUS_SYS_IOCTL_H

#ifdef __cplusplus
extern "C" {
#endif

#define FIONREAD 0x541B /* int *: the bytes a read could take now (a datagram's length) */
#define FIONBIO 0x5421  /* int *: non-zero sets O_NONBLOCK, zero clears it (any descriptor) */

int ioctl(int fd, unsigned long request, ...);

#ifdef __cplusplus
}
#endif

#endif
