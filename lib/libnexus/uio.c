/*
 * libnexus: scatter/gather I/O. readv/writev on every kind of descriptor (a socket of any
 * family, a file, the console), sendmsg/recvmsg on sockets. A socket's pieces are gathered
 * straight into the link slot's data and scattered straight out of it (socket.c), so a readv
 * is one receive and a datagram sent with writev or sendmsg leaves as one datagram, as on Linux.
 * Nexus's sockets carry no control data: recvmsg reports none, sendmsg refuses any (EINVAL, as
 * Linux does for control messages an INET socket does not know).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libnexus.h"

long nxl_iov_total(const struct iovec *iov, long n, size_t *total) {
    *total = 0;
    if (n < 0 || n > IOV_MAX)
        return -EINVAL;
    if (n && !iov)
        return -EFAULT;
    for (long i = 0; i < n; i++) {
        if (iov[i].iov_len && !iov[i].iov_base)
            return -EFAULT;
        if (iov[i].iov_len > SIZE_MAX / 2 - *total) /* SIZE_MAX / 2: ssize_t's largest */
            return -EINVAL; /* the sum must fit the ssize_t the call returns */
        *total += iov[i].iov_len;
    }
    return 0;
}

/* Copies between the bytes [at, at + len) of the pieces and buf: out of them (gather) or into
 * them (scatter). */
static void iov_copy(const struct iovec *iov, long n, size_t at, uint8_t *buf, size_t len, int gather) {
    for (long i = 0; i < n && len; i++) {
        if (at >= iov[i].iov_len) {
            at -= iov[i].iov_len;
            continue;
        }
        size_t k = iov[i].iov_len - at < len ? iov[i].iov_len - at : len;
        uint8_t *piece = (uint8_t *)iov[i].iov_base + at;
        memcpy(gather ? buf : piece, gather ? piece : buf, k);
        buf += k;
        len -= k;
        at = 0;
    }
}

void nxl_iov_gather(const struct iovec *iov, long n, size_t at, uint8_t *to, size_t len) {
    iov_copy(iov, n, at, to, len, 1);
}

void nxl_iov_scatter(const struct iovec *iov, long n, size_t at, const uint8_t *from, size_t len) {
    iov_copy(iov, n, at, (uint8_t *)(uintptr_t)from, len, 0);
}

/* A file or the console takes the pieces one by one; a short transfer ends the call. */
static ssize_t each_piece(int fd, const struct iovec *iov, int n, int writing) {
    size_t done = 0;
    for (int i = 0; i < n; i++) {
        ssize_t r = writing ? write(fd, iov[i].iov_base, iov[i].iov_len) : read(fd, iov[i].iov_base, iov[i].iov_len);
        if (r < 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return (ssize_t)done;
}

static ssize_t transfer_v(int fd, const struct iovec *iov, int n, int writing) {
    int console = fd >= 0 && fd < NXL_FD_FIRST;
    struct nxl_fd *f = console ? NULL : nxl_fd_any(fd);
    if (!console && !f)
        return -1;
    size_t len;
    long err = nxl_iov_total(iov, n, &len);
    if (err)
        return nxl_result(err);
    if (console || f->is_file)
        return each_piece(fd, iov, n, writing);
    if (f->pipe_end)
        return nxl_pipe_io(f, iov, n, len, writing);
    if (!writing && len == 0)
        return 0; /* as read: nothing asked, nothing waited for */
    return writing ? nxl_send_iov(f, iov, n, len, 0, NULL, 0) : nxl_recv_iov(f, iov, n, len, 0, NULL, NULL, NULL);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt) { return transfer_v(fd, iov, iovcnt, 0); }
ssize_t writev(int fd, const struct iovec *iov, int iovcnt) { return transfer_v(fd, iov, iovcnt, 1); }

/* The socket and the pieces of a message: -1 with errno set if either is not usable. Linux
 * says EMSGSIZE for more pieces than UIO_MAXIOV in a message (EINVAL for readv/writev). */
static struct nxl_fd *message_socket(int fd, const struct msghdr *msg, size_t *len) {
    struct nxl_fd *f = nxl_fd_get(fd);
    if (!f)
        return NULL;
    long err = !msg ? -EFAULT : msg->msg_iovlen > UIO_MAXIOV ? -EMSGSIZE : nxl_iov_total(msg->msg_iov, (long)msg->msg_iovlen, len);
    if (err) {
        nxl_result(err);
        return NULL;
    }
    return f;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    size_t len;
    struct nxl_fd *f = message_socket(fd, msg, &len);
    if (!f)
        return -1;
    if (msg->msg_controllen)
        return nxl_result(-EINVAL);
    const struct sockaddr *to = msg->msg_namelen ? msg->msg_name : NULL;
    if (msg->msg_namelen && !to)
        return nxl_result(-EFAULT);
    return nxl_send_iov(f, msg->msg_iov, (long)msg->msg_iovlen, len, flags, to, msg->msg_namelen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    size_t len;
    struct nxl_fd *f = message_socket(fd, msg, &len);
    if (!f)
        return -1;
    int out_flags = 0;
    socklen_t namelen = msg->msg_name ? msg->msg_namelen : 0;
    ssize_t r = nxl_recv_iov(f, msg->msg_iov, (long)msg->msg_iovlen, len, flags, msg->msg_name, &namelen, &out_flags);
    if (r < 0)
        return r;
    msg->msg_namelen = msg->msg_name ? namelen : 0;
    msg->msg_controllen = 0;
    msg->msg_flags = out_flags;
    return r;
}
