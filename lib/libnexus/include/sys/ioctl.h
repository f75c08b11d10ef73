/*
 * <sys/ioctl.h> for Nexus apps (picolibc has none). Only what sockets use; request numbers are
 * Linux's, so code that hard-codes them agrees. Implemented in lib/libnexus/socket.c; any other
 * request, or a descriptor that is not a socket, fails (ENOTTY, EBADF).
 */
#ifndef NEXUS_SYS_IOCTL_H
#define NEXUS_SYS_IOCTL_H

#ifdef __cplusplus
extern "C" {
#endif

#define FIONBIO 0x5421 /* int *: non-zero sets O_NONBLOCK, zero clears it */

int ioctl(int fd, unsigned long request, ...);

#ifdef __cplusplus
}
#endif

#endif
