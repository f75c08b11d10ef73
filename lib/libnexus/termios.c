/*
 * libnexus: terminal modes. The console is the only terminal, and its modes are the kernel's:
 * a line at a time, echoed (kernel/console.c). A program may read them; setting anything else
 * (turning echo off to read a password, raw mode) fails with EINVAL, so the program knows its
 * input is still echoed. Other descriptors are not terminals: ENOTTY, as on Linux.
 */
#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "libnexus.h"

#define CONSOLE_LFLAG (ICANON | ECHO)

/* 0 if fd is the console; -ENOTTY for another open descriptor, -EBADF for none. */
static long console_fd(int fd) {
    if (fd >= 0 && fd < NXL_FD_FIRST)
        return 0;
    return nxl_fd_at(fd) ? -ENOTTY : -EBADF;
}

int tcgetattr(int fd, struct termios *t) {
    long err = console_fd(fd);
    if (!err && !t)
        err = -EFAULT;
    if (err)
        return (int)nxl_result(err);
    memset(t, 0, sizeof *t);
    t->c_lflag = CONSOLE_LFLAG;
    return 0;
}

int tcsetattr(int fd, int optional_actions, const struct termios *t) {
    long err = console_fd(fd);
    if (!err && !t)
        err = -EFAULT;
    if (!err && optional_actions != TCSANOW && optional_actions != TCSADRAIN && optional_actions != TCSAFLUSH)
        err = -EINVAL;
    if (!err && (t->c_iflag || t->c_oflag || t->c_cflag || t->c_lflag != CONSOLE_LFLAG))
        err = -EINVAL; /* the console's modes are the kernel's: tcgetattr's */
    return (int)nxl_result(err);
}
