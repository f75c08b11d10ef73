/*
 * libnexus internals. Apps never include this; they use the POSIX headers in
 * lib/libnexus/include/.
 *
 * libnexus is the POSIX face of every socket family. A table (family.c) maps each address
 * family to its backend: the service fiber that implements it, reached over a service link
 * (lib/link/client.h) with the socket protocol (nexus/sockproto.h). AF_INET and AF_INET6 go to
 * the Membrane, AF_LWF and AF_UTCP to their services. AF_UNIX (the Chimera bridge, docs/unix.md)
 * has no service: its sockets are lanes of shared memory (nexus/unixlane.h) that libnexus
 * serves itself (unix.c), answering the same protocol. A descriptor remembers its family's row,
 * so every call on it (socket.c), poll and select across families (poll.c) and close dispatch
 * through the table.
 */
#ifndef NEXUS_LIBNEXUS_H
#define NEXUS_LIBNEXUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "link/client.h"
#include "nexus/sockproto.h"

#define NXL_FD_FIRST 3 /* 0..2 are the console */
#define NXL_FDS NXS_SOCKETS /* as many as one service link holds */

/* A family served inside the app, without a service link (AF_UNIX: unix.c). It answers the
 * socket protocol's requests as a service would, in a data slot of its own, so socket.c's calls,
 * their blocking, poll and select work on its sockets unchanged. */
struct nxl_local {
    /* One request on socket m->sock: data holds the request's m->len bytes and receives the
     * reply's (m->len set to their count). The result: >= 0 or -errno. */
    long (*call)(struct nxs_msg *m, uint8_t *data);
    uint32_t (*status)(int32_t sock); /* NXS_EV_* */
    uint8_t *(*data)(void);           /* NXS_SLOT_DATA bytes (made on first use); NULL: no memory */
    /* socketpair(2): two sockets connected to each other. 0 or -errno. */
    long (*pair)(int type, int protocol, int32_t sock[2]);
    /* The channel its peers in other apps ring, or -1 while it has none (then nothing but the
     * app itself changes its sockets). */
    int (*doorbell)(void);
    /* Before sleeping on the doorbell: asks every peer to ring it on its next change; 1 if it is
     * safe to sleep, 0 if something changed meanwhile (look again). */
    int (*sleep_prepare)(void);
};

struct nxl_family {
    int domain;                  /* AF_* */
    const char *name;
    struct link_client *backend; /* the service; NULL for a family served in the app */
    const struct nxl_local *local;
    /* The service answers recv and accept with EAGAIN exactly when an open socket's status
     * word shows none of IN, ERR and HUP (the Membrane: membrane/sock_tcp.c and sock_udp.c),
     * so libnexus reads that answer from the word without a round trip (socket.c). */
    uint8_t exact_status;
    /* The service takes MSG_EOF on a stream's send (the Membrane); for the others libnexus
     * follows the send with a shutdown of its own. */
    uint8_t send_eof;
};
extern const struct nxl_local nxl_unix; /* unix.c */

/* A family served in the app gets a send's destination and gives a receive's source whole, at
 * the end of its data slot (an AF_UNIX path does not fit the protocol's NXS_ADDR_MAX bytes);
 * the payload stops short of it. */
#define NXL_LOCAL_ADDR_ROOM 128u /* sizeof(struct sockaddr_storage) */
#define NXL_LOCAL_ADDR_AT (NXS_SLOT_DATA - NXL_LOCAL_ADDR_ROOM)

/* The row of a family: NULL if libnexus does not know it. */
const struct nxl_family *nxl_family(int domain);
/* Calls fn on every family with a backend, once per backend. */
void nxl_each_backend(void (*fn)(struct link_client *backend, void *arg), void *arg);

/* A file in the app's image (tools/gen-files.sh writes the table; the last row's path is NULL). */
struct nxl_embedded_file {
    const char *path; /* absolute: "/etc/rinetd.conf" */
    const unsigned char *data;
    uint64_t size;
};
extern const struct nxl_embedded_file nxl_embedded_files[];

#define NXL_AREA_NAME_MAX 32 /* a writable-area file's name, NUL included (kernel/filestore.h) */

/* A descriptor that is an open file: read-only from the image, or in the writable area. */
struct nxl_open_file {
    const struct nxl_embedded_file *embedded; /* NULL: the writable area's file `name` */
    char name[NXL_AREA_NAME_MAX];
    uint64_t offset;
    int flags; /* open's O_ACCMODE and O_APPEND */
    uint8_t null_device; /* /dev/null: writes vanish, reads see the end */
};

struct nxl_fd {
    uint8_t used, nonblock, type;
    uint8_t is_file;       /* then `file` says which, and family is NULL */
    struct nxl_open_file file;
    const struct nxl_family *family;
    int32_t sock;          /* number in the service's table for this link */
    uint32_t epoch;        /* the service instance that holds it */
    uint64_t rcvtimeo_ns;  /* 0: none */
    uint64_t sndtimeo_ns;
    uint8_t async;         /* O_ASYNC: SIGIO to `owner` when it becomes ready (sigio.c) */
    uint32_t async_seen;   /* its readiness when last looked at */
    int32_t owner;         /* F_SETOWN's pid; 0: none */
    uint8_t pipe_end;      /* NXL_PIPE_READ or _WRITE for an end of a pipe (pipe.c), else 0 */
    /* What the socket is known to be, for the status shortcut (socket.c, nothing_to_take):
     * a listener (listen succeeded) or a connected stream (accepted, or connect returned 0). */
    uint8_t listening, connected;
    /* The app shut this stream's sending down (shutdown, or a send with MSG_EOF that took its
     * bytes): a send must fail with EPIPE at once, so none is posted (socket.c). */
    uint8_t wr_shut;
    uint16_t send_fill;    /* bytes per send-area chunk: the stream's segment size as its service
                              last said (SEND's reply arg1), 0 before the first send */
};
#define NXL_PIPE_READ 1
#define NXL_PIPE_WRITE 2

/* Descriptor table: sockets and files share it, so poll and select see both. */
struct nxl_fd *nxl_fd_get(int fd); /* NULL (errno EBADF, or ENOTSOCK for a file or a pipe) unless a socket */
struct nxl_fd *nxl_fd_any(int fd); /* NULL (errno EBADF) unless open */
struct nxl_fd *nxl_fd_at(int fd);  /* NULL unless open; errno untouched */
int nxl_fd_alloc(const struct nxl_family *family, int32_t sock, int type, int nonblock); /* fd, or -EMFILE */
int nxl_fd_alloc_file(const struct nxl_open_file *file); /* fd, or -EMFILE */
void nxl_fd_free(int fd);
/* 0 if the socket is still in the live service instance, else -ECONNRESET. */
int nxl_fd_live(const struct nxl_fd *f);
/* The socket's status word (NXS_EV_*). */
uint32_t nxl_fd_status(const struct nxl_fd *f);

/* Blocks (respecting O_NONBLOCK and the timeout) until the socket's status has one of
 * `events`. 0, -EAGAIN, -ETIMEDOUT mapped to -EAGAIN, or -ECONNRESET. */
int nxl_wait_events(const struct nxl_fd *f, uint32_t events, uint64_t timeout_ns);

struct iovec;
struct sockaddr;
/* A socket send of the len bytes in iov's n pieces (gathered into the link slot; a datagram
 * goes whole), blocking as the descriptor and flags say: send, sendto, write, writev and
 * sendmsg. Bytes sent, or -1 with errno. */
ssize_t nxl_send_iov(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags,
                     const struct sockaddr *to, uint32_t tolen);
/* A socket receive into iov's n pieces (len bytes of room), scattered from the link slot:
 * recv, recvfrom, read, readv and recvmsg. *msg_flags (if given) gets MSG_TRUNC when a datagram
 * was longer than the room; with MSG_TRUNC in flags a datagram's whole length is returned, as
 * on Linux. Bytes received, or -1 with errno. */
ssize_t nxl_recv_iov(struct nxl_fd *f, const struct iovec *iov, long n, size_t len, int flags,
                     struct sockaddr *from, uint32_t *fromlen, int *msg_flags);

/* pipe.c: read/readv (writing 0) or write/writev (1) on an end of a pipe: EBADF for the other
 * direction. Bytes moved, or -1 with errno. */
ssize_t nxl_pipe_io(struct nxl_fd *f, const struct iovec *iov, int n, size_t len, int writing);

/* uio.c: the total length of n pieces: 0, -EINVAL (n outside 0..IOV_MAX, or a total past
 * SSIZE_MAX) or -EFAULT (no array, or a piece with a length and no base). */
long nxl_iov_total(const struct iovec *iov, long n, size_t *total);
/* Copies the pieces' bytes [at, at + len) out to `to` / in from `from`. */
void nxl_iov_gather(const struct iovec *iov, long n, size_t at, uint8_t *to, size_t len);
void nxl_iov_scatter(const struct iovec *iov, long n, size_t at, const uint8_t *from, size_t len);

/* errno = -r, returns -1; or returns r. */
long nxl_result(long r);

/* files.c: the file calls on a descriptor that is a file (fd's slot f). */
long nxl_file_read(struct nxl_fd *f, void *buf, size_t len);
long nxl_file_write(struct nxl_fd *f, const void *buf, size_t len);
/* FIONREAD of a file: the bytes from its offset to its end. */
long nxl_file_readable(struct nxl_fd *f);
/* What directory path is (dir.c lists it): NXL_DIR_AREA for the writable area, NXL_DIR_IMAGE
 * for a directory above the image's files (then *image_dir, *len: its absolute path, without
 * a trailing slash but "/" itself), or -ENOENT / -ENOTDIR. */
#define NXL_DIR_AREA 1
#define NXL_DIR_IMAGE 2
long nxl_dir_of(const char *path, const char **image_dir, size_t *len);

/* ---- signals (docs/signals.md) ---- */

/* signal.c: generates sig for this app: pending, unless it is ignored and not blocked. */
void nxl_signal_raise(int sig);
/* Runs the actions of the pending signals that are not blocked (a default action may end the
 * app): 0 if no handler ran, NXL_SIG_RESTART if every handler that ran has SA_RESTART, else
 * NXL_SIG_INTR. */
#define NXL_SIG_RESTART 1
#define NXL_SIG_INTR 2
int nxl_signal_deliver(void);
/* A safe point: raises what the timer and O_ASYNC sockets owe, then delivers as above. */
int nxl_signal_safe_point(void);
/* A safe point inside a blocking call: -EINTR if a handler interrupted it (one with SA_RESTART
 * does not when `restartable`), else 0 (go on waiting). */
long nxl_signal_interrupts(int restartable);
/* A call's end: nxl_result(r), then a safe point (which keeps errno). */
long nxl_return(long r);
/* Sets the blocked set (SIGKILL and SIGSTOP never are) and returns the previous one. */
unsigned long nxl_signal_blocked(unsigned long set);

/* itimer.c: the interval timer's next due time (nx_clock_ns; UINT64_MAX: disarmed), and its
 * check, which raises SIGALRM once it has passed. */
uint64_t nxl_itimer_due(void);
void nxl_itimer_poll(void);

/* wait.c: the services a blocking call sleeps on, each with the status_seq seen before the
 * caller looked at its sockets (nxl_watch_mark), so no change between look and sleep is lost. */
struct nxl_watch {
    unsigned n;
    struct link_client *backend[NXL_FDS];
    uint32_t seen[NXL_FDS];
    const struct nxl_local *local; /* a family served in the app: its doorbell, if it has one */
    int console;                   /* also wake when the app's standard input gets something */
};
void nxl_watch_add(struct nxl_watch *w, const struct nxl_family *family);
void nxl_watch_mark(struct nxl_watch *w);
/* Sleeps until a watched service changes something, or `limit` ns pass, or the interval timer
 * is due, whichever is first (at most LINK_CLIENT_LIVENESS_NS at a time). -ETIMEDOUT if
 * nothing woke it. */
long nxl_watch_sleep(struct nxl_watch *w, uint64_t limit);
/* Whether the app's last wait for its descriptors (poll, a blocking call) slept: set by
 * nxl_watch_sleep, cleared as each wait starts. An app that had to sleep for its work is not
 * busy, so its next posted send is handed to the service at once (socket.c, post_send). */
extern int nxl_woke_from_sleep;

/* sigio.c: O_ASYNC on (or off) for f; raising SIGIO for the O_ASYNC sockets whose readiness
 * rose since last looked at; adding their services to a watch, so their changes wake a sleep. */
void nxl_sigio_set(struct nxl_fd *f, int on);
void nxl_sigio_poll(void);
void nxl_sigio_watch(struct nxl_watch *w);

/* console_fd.c: descriptor 0, the app's standard input: read (waits unless O_NONBLOCK; -EINTR
 * when a handler ran), readable now (a line or its end is there), and fcntl on 0..2. */
long nxl_console_read(void *buf, size_t len);
int nxl_console_readable(void);
long nxl_console_fcntl(int fd, int cmd, int arg);

/* process.c: says once on the console that `call` cannot exist here; returns -err. */
long nxl_unavailable(const char *call, int err);

#endif
