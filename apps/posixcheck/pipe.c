/*
 * posixcheck: pipe(2) and pipe2(2) within one process, as daemons use them (the self-pipe trick,
 * a wake-up for a poll loop): bytes in order, each end only its own direction, FIFO in fstat,
 * no seeking, not a socket, poll, O_NONBLOCK, the end of file once the write end is closed,
 * EPIPE once the read end is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posixcheck.h"

static void check_pipe_basics(void) {
    int p[2] = {-1, -1};
    int made = pipe(p) == 0;
    int before = made ? wait_for(p[0], POLLIN, 0) : -1;
    ssize_t w = made ? write(p[1], "self-pipe", 9) : -1;
    int after = made ? wait_for(p[0], POLLIN, 1000) : -1;
    char buf[16] = {0};
    ssize_t r = made ? read(p[0], buf, sizeof buf) : -1;
    check("pipe_bytes_in_order", made && before == 0 && w == 9 && (after & POLLIN) && r == 9 &&
                                     memcmp(buf, "self-pipe", 9) == 0,
          "made %d, poll before %d, write %zd, poll after %#x, read %zd", made, before, w, (unsigned)after, r);

    errno = 0;
    ssize_t wrong_read = made ? read(p[1], buf, 1) : 0;
    int wrong_read_errno = errno;
    errno = 0;
    ssize_t wrong_write = made ? write(p[0], "x", 1) : 0;
    int wrong_write_errno = errno;
    check("pipe_ends_one_direction", wrong_read == -1 && wrong_read_errno == EBADF && wrong_write == -1 &&
                                         wrong_write_errno == EBADF,
          "read on the write end %zd errno %d, write on the read end %zd errno %d", wrong_read, wrong_read_errno,
          wrong_write, wrong_write_errno);

    struct stat st;
    int fifo = made && fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode);
    errno = 0;
    off_t seek = lseek(p[0], 0, SEEK_SET);
    int seek_errno = errno;
    errno = 0;
    ssize_t as_socket = recv(p[0], buf, 1, MSG_DONTWAIT);
    int socket_errno = errno;
    int rd = fcntl(p[0], F_GETFL), wr = fcntl(p[1], F_GETFL);
    check("pipe_is_a_fifo", fifo && seek == -1 && seek_errno == ESPIPE && as_socket == -1 &&
                                socket_errno == ENOTSOCK && rd >= 0 && (rd & O_ACCMODE) == O_RDONLY && wr >= 0 &&
                                (wr & O_ACCMODE) == O_WRONLY,
          "fifo %d, lseek %lld errno %d, recv %zd errno %d, flags %#x %#x", fifo, (long long)seek, seek_errno,
          as_socket, socket_errno, (unsigned)rd, (unsigned)wr);

    ssize_t last = made ? write(p[1], "end", 3) : -1;
    if (made)
        close(p[1]);
    ssize_t tail = made ? read(p[0], buf, sizeof buf) : -1;
    ssize_t eof = made ? read(p[0], buf, sizeof buf) : -1;
    check("pipe_end_of_file_after_the_writer_closes", last == 3 && tail == 3 && eof == 0,
          "write %zd, read %zd then %zd", last, tail, eof);
    if (made)
        close(p[0]);
}

static void check_pipe2_nonblocking(void) {
    int p[2] = {-1, -1};
    int made = pipe2(p, O_NONBLOCK) == 0;
    char c;
    errno = 0;
    ssize_t r = made ? read(p[0], &c, 1) : 0;
    int read_errno = errno;
    int flags = made ? fcntl(p[0], F_GETFL) : -1;
    errno = 0;
    int bad = pipe2(p + 0, 0x40000000);
    int bad_errno = errno;
    check("pipe2_nonblocking_empty_read_eagain", made && r == -1 && read_errno == EAGAIN && flags >= 0 &&
                                                     (flags & O_NONBLOCK) && bad == -1 && bad_errno == EINVAL,
          "made %d, read %zd errno %d, flags %#x, unknown flag %d errno %d", made, r, read_errno, (unsigned)flags,
          bad, bad_errno);

    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    if (made)
        close(p[0]);
    errno = 0;
    ssize_t w = made ? write(p[1], "x", 1) : 0;
    int write_errno = errno;
    signal(SIGPIPE, old);
    check("pipe_write_without_reader_epipe", made && w == -1 && write_errno == EPIPE, "write %zd errno %d", w,
          write_errno);
    if (made)
        close(p[1]);
}

void check_pipes(void) {
    check_pipe_basics();
    check_pipe2_nonblocking();
}
