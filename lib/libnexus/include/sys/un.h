/*
 * <sys/un.h> for Nexus apps: the AF_UNIX socket address, laid out as on Linux. Named stream
 * sockets reach other apps through the kernel's namespace; see docs/unix.md for what is built.
 */
#ifndef NEXUS_SYS_UN_H
#define NEXUS_SYS_UN_H

#include <sys/socket.h>

struct sockaddr_un {
    sa_family_t sun_family; /* AF_UNIX */
    char sun_path[108];     /* a path, NUL-terminated unless it fills all 108 bytes */
};

#endif
