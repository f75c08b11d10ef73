/*
 * <sys/socket.h> for Nexus apps: libnexus's header, placed ahead of picolibc's include directory
 * (which has none). The calls are implemented in membrane/libnexus/ by the socket RPC core, which
 * forwards them to the Membrane (lwIP in user mode). Constants and layouts are the ones riscv64
 * Linux uses (asm-generic), so a program written for Linux compiles and behaves the same, with
 * one documented exception: SOCK_NONBLOCK equals picolibc's O_NONBLOCK (see below).
 */
#ifndef NEXUS_SYS_SOCKET_H
#define NEXUS_SYS_SOCKET_H

#include <stdint.h>
#include <sys/types.h> /* size_t, ssize_t */
#include <sys/uio.h>   /* struct iovec, as POSIX has <sys/socket.h> define it */

#ifdef __cplusplus
extern "C" {
#endif

#ifndef _SOCKLEN_T_DECLARED
#define _SOCKLEN_T_DECLARED
typedef uint32_t socklen_t;
#endif

/* Linux's width; picolibc's internal __sa_family_t is BSD's uint8_t and is not used here. */
#ifndef _SA_FAMILY_T_DECLARED
#define _SA_FAMILY_T_DECLARED
typedef unsigned short sa_family_t;
#endif

struct sockaddr {
    sa_family_t sa_family;
    char sa_data[14];
};

/* Large and aligned enough for any address family: 128 bytes, 8-byte aligned. */
struct sockaddr_storage {
    sa_family_t ss_family;
    char __ss_padding[128 - sizeof(sa_family_t) - sizeof(unsigned long long)];
    unsigned long long __ss_align;
};

/* sendmsg/recvmsg's message, in Linux's layout. Nexus's sockets carry no control data: recvmsg
 * sets msg_controllen to 0, and sendmsg with any control data fails with EINVAL. */
struct msghdr {
    void *msg_name;       /* the peer's address (UDP), or NULL */
    socklen_t msg_namelen;
    struct iovec *msg_iov;
    size_t msg_iovlen;    /* at most UIO_MAXIOV, else EMSGSIZE as on Linux */
    void *msg_control;
    size_t msg_controllen;
    int msg_flags;        /* recvmsg's result: MSG_TRUNC when a datagram was cut */
};

struct cmsghdr {
    size_t cmsg_len;
    int cmsg_level;
    int cmsg_type;
};

#define CMSG_ALIGN(len) (((len) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define CMSG_DATA(cmsg) ((unsigned char *)((struct cmsghdr *)(cmsg) + 1))
#define CMSG_SPACE(len) (CMSG_ALIGN(len) + CMSG_ALIGN(sizeof(struct cmsghdr)))
#define CMSG_LEN(len) (CMSG_ALIGN(sizeof(struct cmsghdr)) + (len))
#define CMSG_FIRSTHDR(mhdr) \
    ((size_t)(mhdr)->msg_controllen >= sizeof(struct cmsghdr) ? (struct cmsghdr *)(mhdr)->msg_control : (struct cmsghdr *)0)
#define CMSG_NXTHDR(mhdr, cmsg) __nexus_cmsg_nxthdr((mhdr), (cmsg))

/* The header after cmsg, if a whole one still fits in the control buffer. */
static inline struct cmsghdr *__nexus_cmsg_nxthdr(const struct msghdr *m, const struct cmsghdr *c) {
    unsigned char *next = (unsigned char *)c + CMSG_ALIGN(c->cmsg_len);
    unsigned char *end = (unsigned char *)m->msg_control + m->msg_controllen;
    if (c->cmsg_len < sizeof *c || next + sizeof *c > end)
        return (struct cmsghdr *)0;
    return (struct cmsghdr *)next;
}

#define SCM_RIGHTS 1

struct linger {
    int l_onoff;
    int l_linger; /* seconds */
};

#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_LOCAL AF_UNIX
#define AF_INET 2
#define AF_INET6 10
/* Nexus's own families: node to node by CellID, not by IP (numbers above Linux's AF_MAX, so no
 * Linux value collides; their services are still to come). */
#define AF_UTCP 48
#define AF_LWF 49
#define PF_UNSPEC AF_UNSPEC
#define PF_UNIX AF_UNIX
#define PF_LOCAL AF_LOCAL
#define PF_INET AF_INET
#define PF_INET6 AF_INET6

#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_SEQPACKET 5

/*
 * Flags or-ed into socket()'s type and accept4()'s flags. Linux makes each equal to the O_ flag
 * of the same meaning; picolibc's O_NONBLOCK is 0x4000 (Linux's is 04000 = 0x800, which is
 * picolibc's O_EXCL), so SOCK_NONBLOCK takes picolibc's value and a flag word can go straight to
 * fcntl(F_SETFL). SOCK_CLOEXEC keeps Linux's value: Nexus has no exec, so it is accepted and has
 * no effect. Both stay clear of the type bits (0x0f).
 */
#define SOCK_NONBLOCK 0x4000
#define SOCK_CLOEXEC 02000000

#define SOL_SOCKET 1

#define SO_DEBUG 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_DONTROUTE 5
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO 20 /* struct timeval */
#define SO_SNDTIMEO 21 /* struct timeval */
#define SO_ACCEPTCONN 30

#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_DONTROUTE 0x4
#define MSG_CTRUNC 0x8
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_EOR 0x80
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
/* As the BSDs' MSG_EOF: the bytes end the stream, a send that takes them all is followed by
 * shutdown(SHUT_WR). The Membrane does both in one request, so the FIN can leave in the same
 * segment as the last bytes (docs/sockets.md). Not in Linux: portable code tests #ifdef. */
#define MSG_EOF 0x10000

#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

#define SOMAXCONN 128

int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int sv[2]);
int bind(int fd, const struct sockaddr *addr, socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len);
int accept4(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len, int flags);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t send(int fd, const void *buf, size_t n, int flags);
ssize_t recv(int fd, void *buf, size_t n, int flags);
ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
               socklen_t tolen);
ssize_t recvfrom(int fd, void *__restrict buf, size_t n, int flags,
                 struct sockaddr *__restrict from, socklen_t *__restrict fromlen);
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t recvmsg(int fd, struct msghdr *msg, int flags);
int shutdown(int fd, int how);
int setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int getsockopt(int fd, int level, int name, void *__restrict val, socklen_t *__restrict len);
int getsockname(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len);
int getpeername(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len);

#ifdef __cplusplus
}
#endif

#endif
