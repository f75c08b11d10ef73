/*
 * hostfwd-backlog.so: preloaded into QEMU by the Makefile (QEMU_MACHINE), it raises the backlog
 * of every socket QEMU listens on to HOSTFWD_BACKLOG.
 *
 * Why: QEMU 7.2's user network (libslirp 4.7.0, tcpx_listen in its src/socket.c) listens on
 * each hostfwd port with a backlog of 1 (`ss -ltn` shows Send-Q 1), and accepts one connection
 * per turn of QEMU's main loop. Linux then holds at most two connections slirp has not yet
 * accepted; a third client's SYN is dropped (TcpExtListenOverflows), or its handshake's last ACK
 * after a SYN cookie, and the client tries again after 1 s, then 2, 4, 8 s. The guest sees
 * nothing of it: slirp sends the guest a SYN only once it has accepted. So 32 clients connecting
 * at once stalled for seconds, the more the busier the host (docs/testing.md, "Many clients at
 * once"). Every other call of QEMU's passes through untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>

/* More than any burst of connections the tests and tools make through a forward (slowloris'
 * 120); Linux caps it at net.core.somaxconn. */
#define HOSTFWD_BACKLOG 256

int listen(int fd, int backlog) {
    static int (*next_listen)(int, int);
    if (!next_listen)
        next_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
    return next_listen(fd, backlog < HOSTFWD_BACKLOG ? HOSTFWD_BACKLOG : backlog);
}
