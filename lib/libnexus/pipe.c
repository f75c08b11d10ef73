/*
 * libnexus: pipe(2) and pipe2(2). A program here never forks, so its pipes join parts of one
 * program: a signal handler waking its select loop (the self-pipe trick), a producer and a
 * consumer. A pipe is an AF_UNIX stream pair served in the app (unix.c), each descriptor marked
 * with its direction: the read end only reads, the write end only writes (EBADF otherwise, as
 * on Linux), neither is a socket (ENOTSOCK), fstat says FIFO, lseek ESPIPE. Writing after the
 * read end is closed is EPIPE with SIGPIPE; reading after the write end is closed is the end of
 * file; poll, select, O_NONBLOCK and FIONREAD work as on the socket underneath.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libnexus.h"

int pipe2(int fds[2], int flags) {
    if (!fds)
        return (int)nxl_result(-EFAULT);
    if (flags & ~(O_NONBLOCK | O_CLOEXEC))
        return (int)nxl_result(-EINVAL);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | (flags & O_NONBLOCK ? SOCK_NONBLOCK : 0), 0, sv))
        return -1;
    nxl_fd_at(sv[0])->pipe_end = NXL_PIPE_READ;
    nxl_fd_at(sv[1])->pipe_end = NXL_PIPE_WRITE;
    fds[0] = sv[0];
    fds[1] = sv[1];
    return 0;
}

int pipe(int fds[2]) { return pipe2(fds, 0); }

ssize_t nxl_pipe_io(struct nxl_fd *f, const struct iovec *iov, int n, size_t len, int writing) {
    if (f->pipe_end != (writing ? NXL_PIPE_WRITE : NXL_PIPE_READ))
        return nxl_result(-EBADF);
    if (writing)
        return nxl_send_iov(f, iov, n, len, 0, NULL, 0);
    return len ? nxl_recv_iov(f, iov, n, len, 0, NULL, NULL, NULL) : 0;
}
