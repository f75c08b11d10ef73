/*
 * <poll.h> for Nexus apps: libnexus's header, placed ahead of picolibc's include directory (which
 * has none). Event bits have Linux's values; poll() is implemented in membrane/libnexus/ on top
 * of the socket status words the Membrane publishes.
 */
#ifndef NEXUS_POLL_H
#define NEXUS_POLL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long nfds_t;

struct pollfd {
    int fd;        /* negative: the entry is ignored and its revents set to 0 */
    short events;  /* requested */
    short revents; /* returned; POLLERR, POLLHUP and POLLNVAL are reported even if not requested */
};

#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLRDBAND 0x080
#define POLLWRNORM 0x100
#define POLLWRBAND 0x200

/* Number of entries with non-zero revents, 0 on timeout, -1 on error. timeout_ms < 0: forever. */
int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
