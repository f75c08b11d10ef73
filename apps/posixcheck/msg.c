/*
 * posixcheck: scatter/gather I/O. readv/writev on each kind of descriptor (a TCP socket, a
 * read-only file, a writable file, the console), sendmsg/recvmsg over UDP (the peer's address,
 * MSG_TRUNC, no control data) and TCP, and their error paths: a bad piece count, no array, a
 * descriptor that is not a socket. Plain POSIX, proven on the host against glibc first.
 */
#define _GNU_SOURCE /* glibc: IOV_MAX in <limits.h> */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "posixcheck.h"

#define WAIT_MS 5000
#define CONF_NAME "posixcheck.conf"
#define SCRATCH "posixcheck.iov"
#define DGRAM_LEN 300

static struct iovec too_many[IOV_MAX + 1]; /* a count past IOV_MAX; never read */
/* volatile: the compiler would refuse the bad arguments these error paths need */
static volatile int minus_one = -1;
static struct iovec *volatile no_array;

static int fails_with(long r, int want) { return r == -1 && errno == want; }

/* Three pieces out, two pieces in, over a TCP connection: one readv takes all, in order. */
static void check_stream_v(void) {
    int fds[3];
    if (!check("writev_readv_tcp_setup", tcp_pair(fds), "no loopback connection: errno %d", errno))
        return;
    char a[] = "abc", c[] = "defgh", in1[4], in2[10];
    struct iovec out[3] = {{a, 3}, {NULL, 0}, {c, 5}}, in[2] = {{in1, sizeof in1}, {in2, sizeof in2}};
    ssize_t w = writev(fds[1], out, 3);
    int ev = wait_for(fds[2], POLLIN, WAIT_MS);
    ssize_t r = ev > 0 ? readv(fds[2], in, 2) : -1;
    check("writev_readv_tcp", w == 8 && r == 8 && !memcmp(in1, "abcd", 4) && !memcmp(in2, "efgh", 4),
          "writev %ld, readv %ld (errno %d): '%.4s' '%.4s'", (long)w, (long)r, errno, in1, in2);

    /* sendmsg gathers, recvmsg scatters; a stream has no address to report */
    char x[] = "0123", y[] = "456789", got1[3], got2[16];
    struct iovec sv[2] = {{x, 4}, {y, 6}}, rv[2] = {{got1, sizeof got1}, {got2, sizeof got2}};
    struct msghdr sm = {.msg_iov = sv, .msg_iovlen = 2};
    struct sockaddr_in name;
    char control[64];
    struct msghdr rm = {.msg_name = &name, .msg_namelen = sizeof name, .msg_iov = rv, .msg_iovlen = 2,
                        .msg_control = control, .msg_controllen = sizeof control, .msg_flags = -1};
    ssize_t s = sendmsg(fds[1], &sm, MSG_NOSIGNAL);
    ev = wait_for(fds[2], POLLIN, WAIT_MS);
    r = ev > 0 ? recvmsg(fds[2], &rm, 0) : -1;
    check("sendmsg_recvmsg_tcp", s == 10 && r == 10 && !memcmp(got1, "012", 3) && !memcmp(got2, "3456789", 7) &&
                                     rm.msg_namelen == 0 && rm.msg_controllen == 0 && rm.msg_flags == 0,
          "sendmsg %ld, recvmsg %ld (errno %d), namelen %u, controllen %lu, flags %#x", (long)s, (long)r, errno,
          (unsigned)rm.msg_namelen, (unsigned long)rm.msg_controllen, rm.msg_flags);

    /* error paths, on a socket */
    char byte;
    struct iovec one = {&byte, 1};
    const char *what = NULL;
    if (!fails_with(readv(fds[2], &one, minus_one), EINVAL))
        what = "readv with -1 pieces";
    else if (!fails_with(writev(fds[1], too_many, IOV_MAX + 1), EINVAL))
        what = "writev with IOV_MAX + 1 pieces";
    else if (!fails_with(readv(fds[2], no_array, 1), EFAULT))
        what = "readv with no array";
    else if (writev(fds[1], &one, 0) != 0)
        what = "writev of no pieces";
    else if (!fails_with(readv(-1, &one, 1), EBADF))
        what = "readv(-1)";
    check("iov_errors_socket", what == NULL, "%s: errno %d", what ? what : "", errno);
    what = NULL;
    struct msghdr many = {.msg_iov = too_many, .msg_iovlen = IOV_MAX + 1};
    if (!fails_with(sendmsg(fds[1], NULL, MSG_NOSIGNAL), EFAULT))
        what = "sendmsg(NULL)";
    else if (!fails_with(recvmsg(fds[2], NULL, 0), EFAULT))
        what = "recvmsg(NULL)";
    else if (!fails_with(sendmsg(fds[1], &many, MSG_NOSIGNAL), EMSGSIZE))
        what = "sendmsg with IOV_MAX + 1 pieces";
    else if (!fails_with(recvmsg(-1, &rm, 0), EBADF))
        what = "recvmsg(-1)";
    check("msg_errors", what == NULL, "%s: errno %d", what ? what : "", errno);
    close_all(fds, 3);
}

static int udp_bound(struct sockaddr_in *at) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof *at;
    memset(at, 0, sizeof *at);
    at->sin_family = AF_INET;
    at->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && (bind(s, (struct sockaddr *)at, sizeof *at) || getsockname(s, (struct sockaddr *)at, &len))) {
        close(s);
        return -1;
    }
    return s;
}

/* One datagram from three pieces, to the address in msg_name; received whole into two pieces
 * with the sender's address, then cut (MSG_TRUNC) when the room is short. */
static void check_dgram_msg(void) {
    struct sockaddr_in addr[2];
    int fds[2] = {udp_bound(&addr[0]), udp_bound(&addr[1])};
    if (!check("sendmsg_udp_setup", fds[0] >= 0 && fds[1] >= 0, "UDP sockets on 127.0.0.1: errno %d", errno)) {
        close_all(fds, 2);
        return;
    }
    static unsigned char data[DGRAM_LEN], got[DGRAM_LEN + 100];
    for (int i = 0; i < DGRAM_LEN; i++)
        data[i] = (unsigned char)(i * 11 + 5);
    struct iovec out[3] = {{data, 100}, {data + 100, 1}, {data + 101, DGRAM_LEN - 101}};
    struct msghdr sm = {.msg_name = &addr[1], .msg_namelen = sizeof addr[1], .msg_iov = out, .msg_iovlen = 3};
    struct sockaddr_in from;
    char control[64];
    struct iovec in[2] = {{got, 50}, {got + 50, sizeof got - 50}};
    struct msghdr rm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = in, .msg_iovlen = 2,
                        .msg_control = control, .msg_controllen = sizeof control, .msg_flags = -1};
    ssize_t s = sendmsg(fds[0], &sm, 0);
    ssize_t r = wait_for(fds[1], POLLIN, WAIT_MS) > 0 ? recvmsg(fds[1], &rm, 0) : -1;
    check("sendmsg_recvmsg_udp", s == DGRAM_LEN && r == DGRAM_LEN && !memcmp(got, data, DGRAM_LEN) &&
                                     rm.msg_namelen == sizeof from && from.sin_family == AF_INET &&
                                     from.sin_port == addr[0].sin_port &&
                                     from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && rm.msg_controllen == 0 &&
                                     rm.msg_flags == 0,
          "sendmsg %ld, recvmsg %ld (errno %d), namelen %u, port %u (sender %u), controllen %lu, flags %#x",
          (long)s, (long)r, errno, (unsigned)rm.msg_namelen, ntohs(from.sin_port), ntohs(addr[0].sin_port),
          (unsigned long)rm.msg_controllen, rm.msg_flags);

    /* cut: 100 bytes of room for 300 */
    s = sendmsg(fds[0], &sm, 0);
    struct iovec small[2] = {{got, 60}, {got + 60, 40}};
    rm.msg_iov = small;
    rm.msg_namelen = sizeof from;
    rm.msg_controllen = sizeof control;
    rm.msg_flags = 0;
    r = wait_for(fds[1], POLLIN, WAIT_MS) > 0 ? recvmsg(fds[1], &rm, 0) : -1;
    check("recvmsg_udp_trunc", s == DGRAM_LEN && r == 100 && (rm.msg_flags & MSG_TRUNC) && !memcmp(got, data, 100),
          "recvmsg %ld (errno %d), flags %#x", (long)r, errno, rm.msg_flags);

    /* recv with MSG_TRUNC says the datagram's whole length (Linux), and the cut part is gone */
    s = sendto(fds[0], data, DGRAM_LEN, 0, (struct sockaddr *)&addr[1], sizeof addr[1]);
    r = wait_for(fds[1], POLLIN, WAIT_MS) > 0 ? recv(fds[1], got, 10, MSG_TRUNC) : -1;
    ssize_t after = recv(fds[1], got, sizeof got, MSG_DONTWAIT);
    int e = errno;
    check("recv_msg_trunc_length", s == DGRAM_LEN && r == DGRAM_LEN && after == -1 && (e == EAGAIN || e == EWOULDBLOCK),
          "recv(MSG_TRUNC) %ld, then %ld (errno %d)", (long)r, (long)after, e);

    /* control data is not something these sockets carry */
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } cm;
    memset(&cm, 0, sizeof cm);
    cm.h.cmsg_len = CMSG_LEN(sizeof(int));
    cm.h.cmsg_level = SOL_SOCKET;
    cm.h.cmsg_type = 0x7ffe; /* no such control message */
    sm.msg_control = &cm;
    sm.msg_controllen = sizeof cm;
    s = sendmsg(fds[0], &sm, 0);
    e = errno;
    check("sendmsg_unknown_control_einval", s == -1 && e == EINVAL, "sendmsg returned %ld, errno %d", (long)s, e);
    close_all(fds, 2);
}

/* A read-only file read in pieces; a writable one written in pieces and read back; the
 * console written in pieces (a note line the harness finds). */
static void check_file_v(const char *dir) {
    static char whole[4096], p1[10], p2[20], p3[4096];
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, CONF_NAME);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, whole, sizeof whole) : -1;
    struct iovec in[3] = {{p1, sizeof p1}, {p2, sizeof p2}, {p3, sizeof p3}};
    ssize_t r = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? readv(fd, in, 3) : -1;
    check("readv_file", n > 30 && r == n && !memcmp(p1, whole, 10) && !memcmp(p2, whole + 10, 20) &&
                            !memcmp(p3, whole + 30, (size_t)n - 30),
          "%s: read %ld, readv %ld (errno %d)", path, (long)n, (long)r, errno);
    const char *what = NULL;
    if (fd < 0)
        what = "open";
    else if (!fails_with(readv(fd, in, minus_one), EINVAL))
        what = "readv with -1 pieces";
    else if (!fails_with(readv(fd, too_many, IOV_MAX + 1), EINVAL))
        what = "readv with IOV_MAX + 1 pieces";
    else if (!fails_with(recvmsg(fd, &(struct msghdr){.msg_iov = in, .msg_iovlen = 1}, 0), ENOTSOCK))
        what = "recvmsg on a file";
    check("iov_errors_file", what == NULL, "%s: errno %d", what ? what : "", errno);
    if (fd >= 0)
        close(fd);

    char a[] = "gathered ", b[] = "into one file\n", back[64] = {0};
    struct iovec out[2] = {{a, strlen(a)}, {b, strlen(b)}};
    fd = open(SCRATCH, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ssize_t w = fd >= 0 ? writev(fd, out, 2) : -1;
    r = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? read(fd, back, sizeof back - 1) : -1;
    check("writev_file", w == (ssize_t)(strlen(a) + strlen(b)) && r == w && !strcmp(back, "gathered into one file\n"),
          "writev %ld, read back %ld: '%s' (errno %d)", (long)w, (long)r, back, errno);
    if (fd >= 0)
        close(fd);
    unlink(SCRATCH);

    fflush(stdout);
    char c1[] = "note: writev ", c2[] = "gathered this line ", c3[] = "on the console\n";
    struct iovec line[3] = {{c1, strlen(c1)}, {c2, strlen(c2)}, {c3, strlen(c3)}};
    w = writev(1, line, 3);
    check("writev_console", w == (ssize_t)(strlen(c1) + strlen(c2) + strlen(c3)), "writev(1) returned %ld (errno %d)",
          (long)w, errno);
}

void check_msg(const char *read_only_dir) {
    check_stream_v();
    check_dgram_msg();
    if (read_only_dir)
        check_file_v(read_only_dir);
}
