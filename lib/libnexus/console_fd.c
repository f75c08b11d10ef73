/*
 * libnexus: descriptors 0..2, the console. Writes go out at once (socket.c's write); descriptor
 * 0 reads what the operator types once the console is given to the app (`attach`,
 * docs/console.md), waiting for it unless O_NONBLOCK is set on it, and poll/select see it
 * readable when a line or the end of input is there.
 */
#include <errno.h>
#include <fcntl.h>

#include "libnexus.h"
#include "nexus.h"

static int stdin_nonblock;

int nxl_console_readable(void) { return nx_console_read(NULL, 0) == 1; }

long nxl_console_read(void *buf, size_t len) {
    if (len == 0)
        return 0;
    size_t ask = len < NEXUS_CONSOLE_READ_MAX ? len : NEXUS_CONSOLE_READ_MAX;
    for (;;) {
        long n = nx_console_read(buf, ask);
        if (n != -EAGAIN || stdin_nonblock)
            return n;
        if (nxl_signal_safe_point())
            return -EINTR;
        struct nxl_watch w = {.console = 1};
        nxl_sigio_watch(&w);
        nxl_watch_mark(&w);
        nxl_watch_sleep(&w, UINT64_MAX);
    }
}

long nxl_console_fcntl(int fd, int cmd, int arg) {
    int access = fd == 0 ? O_RDONLY : O_WRONLY;
    switch (cmd) {
    case F_GETFL: return access | (fd == 0 && stdin_nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        if (fd == 0)
            stdin_nonblock = (arg & O_NONBLOCK) != 0;
        return 0; /* console output never waits, blocking or not */
    case F_GETFD:
    case F_SETFD: return 0;
    default: return -EINVAL;
    }
}
