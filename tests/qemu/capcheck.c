/*
 * capcheck: a fiber that breaks the rules on purpose, for the containment test
 * (tests/e2e/run_qemu_containment.py, manifest "containment" of test builds). What it can check
 * itself it prints as
 *     CAPCHECK <fiber>.<check>: ok | CAPCHECK <fiber>.<check>: FAIL <detail>
 * Where the right outcome is its own death, the kernel's log and /Bus say so, and the line
 * "CAPCHECK <fiber>.survived" after the forbidden step is the failure.
 *
 * Modes (argv[1]):
 *   socket      calls socket(); run without the inet promise, or with a read-only link
 *   widen       pledged "stdio rbus": asks for inet (refused), then calls socket() anyway
 *   channels    granted chan:5:r only: signals and waits where it may and may not
 *   linkends    granted link:membrane: may wait only on its own end of the link and signal only
 *               the Membrane's, so it cannot swallow the wakeups meant for the Membrane
 *   crash MS    sleeps MS ms, then stores through a null pointer
 *   relisten    listens on TCP 8083 and crashes; restarted by the supervisor, it must be able to
 *               listen on the same port again (the Membrane closed its predecessor's sockets)
 *   survivor    holds a TCP listener and a UDP socket across a Membrane crash: both must then
 *               fail with ECONNRESET or ENOTCONN, and new sockets must work on the new Membrane
 *   serve       the server of links whose clients need the lwf promise (a stand-in for the LWF
 *               service: it only holds its ends); waits forever
 *   twolinks    the client of the Membrane (inet) and of `serve` (lwf): sees both links, in
 *               manifest order and at different addresses, uses each one's channels; then gives
 *               up lwf and must be killed asking about the second link
 *   argv ...    prints its arguments and exits 0 (started from the console with `run`)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nexus.h"

static char me[16];

static void report(const char *check, int ok, long got) {
    if (ok)
        printf("CAPCHECK %s.%s: ok\n", me, check);
    else
        printf("CAPCHECK %s.%s: FAIL got %ld\n", me, check, got);
    fflush(stdout);
}

static int forbidden_socket(void) {
    printf("capcheck %s: calling socket(); this fiber should not survive it\n", me);
    fflush(stdout);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    printf("CAPCHECK %s.survived: FAIL socket() returned %d, errno %d\n", me, fd, errno);
    return 3;
}

static int mode_widen(void) {
    long r = nx_pledge("stdio rbus inet");
    report("widen_refused", r == -EPERM, r);
    r = nx_pledge("stdio rbus");
    report("same_pledge_accepted", r == 0, r);
    return forbidden_socket();
}

static int mode_channels(void) {
    long r = nx_signal(5);
    report("signal_without_write", r == -EPERM, r);
    r = nx_wait(6, 0);
    report("wait_ungranted", r == -EPERM, r);
    r = nx_wait(5, NX_MS(1));
    report("wait_granted", r == -ETIMEDOUT, r);
    return 0;
}

static int mode_linkends(void) {
    struct nexus_link_info link;
    long r = nx_link_info(0, &link);
    report("link_found", r == 0 && !link.is_server, r ? r : (long)link.is_server);
    if (r)
        return 1;
    r = nx_wait((int)link.peer_channel, 0);
    report("wait_on_server_end_refused", r == -EPERM, r);
    r = nx_wait_any(1ull << link.wait_channel | 1ull << link.peer_channel, 0);
    report("wait_any_with_server_end_refused", r == -EPERM, r);
    r = nx_signal((int)link.wait_channel);
    report("signal_own_end_refused", r == -EPERM, r);
    /* The Membrane may have signalled us already (0) or not (-ETIMEDOUT): either is a wait. */
    r = nx_wait((int)link.wait_channel, NX_MS(1));
    report("wait_on_own_end", r == 0 || r == -ETIMEDOUT, r);
    /* A spurious wakeup of the Membrane: it finds no request and sleeps again. */
    r = nx_signal((int)link.peer_channel);
    report("signal_server_end", r >= 0, r);
    return 0;
}

__attribute__((noreturn)) static int mode_serve(void) {
    struct nexus_link_info link;
    long r = nx_link_info(0, &link);
    report("serves_a_link", r == 0 && link.is_server, r ? r : (long)link.is_server);
    for (;;)
        nx_wait((int)link.wait_channel, NX_MS(1000));
}

static int mode_twolinks(void) {
    struct nexus_link_info inet, lwf;
    long r = nx_link_info(0, &inet);
    report("first_link_membrane", r == 0 && !inet.is_server && !strcmp(inet.peer, "membrane"), r);
    r = nx_link_info(1, &lwf);
    report("second_link_lwf", r == 0 && !lwf.is_server && !strcmp(lwf.peer, "lwfserver"), r);
    report("links_apart", inet.va != lwf.va && inet.wait_channel != lwf.wait_channel, (long)(lwf.va - inet.va));
    r = nx_link_info(2, &lwf);
    report("no_third_link", r == -ENOENT, r);
    volatile uint32_t *first_word = (volatile uint32_t *)(uintptr_t)lwf.va;
    (void)*first_word; /* mapped: reading it does not fault */
    r = nx_wait((int)lwf.wait_channel, NX_MS(1));
    report("wait_on_lwf_link", r == 0 || r == -ETIMEDOUT, r);
    r = nx_pledge("stdio inet");
    report("gave_up_lwf", r == 0, r);
    r = nx_link_info(0, &inet);
    report("inet_link_still_usable", r == 0, r);
    printf("capcheck %s: asking about the lwf link without the lwf promise; this fiber should not survive it\n", me);
    fflush(stdout);
    r = nx_link_info(1, &lwf);
    printf("CAPCHECK %s.survived: FAIL link_info returned %ld\n", me, r);
    return 3;
}

static int mode_argv(int argc, char **argv) {
    printf("capcheck %s: args", me);
    for (int i = 2; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    return 0;
}

static int mode_crash(const char *ms) {
    nx_sleep_ns(NX_MS(ms ? strtoul(ms, NULL, 10) : 0));
    printf("capcheck %s: crashing on purpose\n", me);
    fflush(stdout);
    *(volatile int *)0 = 1;
    return 4;
}

static int gone(int e) { return e == ECONNRESET || e == ENOTCONN; }

static int bound_socket(int type, uint16_t port) {
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (type == SOCK_STREAM && listen(fd, 4) < 0))
        return -1;
    return fd;
}

static int mode_survivor(void) {
    int tcp = bound_socket(SOCK_STREAM, 8081), udp = bound_socket(SOCK_DGRAM, 8082);
    report("sockets_before_crash", tcp >= 0 && udp >= 0, tcp < 0 ? tcp : udp);
    printf("capcheck %s: holding a listener and a UDP socket; waiting for the Membrane to die\n", me);
    fflush(stdout);
    struct pollfd p[2] = {{.fd = tcp, .events = POLLIN}, {.fd = udp, .events = POLLIN}};
    int n = poll(p, 2, -1);
    report("poll_reports_the_loss", n > 0 && (p[0].revents & (POLLERR | POLLHUP)) && (p[1].revents & (POLLERR | POLLHUP)),
           n > 0 ? (long)p[0].revents << 16 | p[1].revents : n);
    char byte;
    errno = 0;
    int r = accept(tcp, NULL, NULL);
    report("old_listener_fails", r < 0 && gone(errno), r < 0 ? errno : r);
    errno = 0;
    r = (int)recv(udp, &byte, 1, MSG_DONTWAIT);
    report("old_udp_socket_fails", r < 0 && gone(errno), r < 0 ? errno : r);
    close(tcp);
    close(udp);
    tcp = bound_socket(SOCK_STREAM, 8081);
    report("new_listener_on_new_membrane", tcp >= 0, tcp < 0 ? errno : tcp);
    close(tcp);
    return 0;
}

static int mode_relisten(void) {
    char path[48], restarts[16] = "";
    snprintf(path, sizeof path, "/Bus/fibers/%s/restarts", me);
    nx_bus_get(path, restarts, sizeof restarts);
    int fd = bound_socket(SOCK_STREAM, 8083);
    if (strcmp(restarts, "0") != 0) {
        report("listen_after_restart", fd >= 0, fd < 0 ? errno : fd);
        return 0;
    }
    report("listen_first_start", fd >= 0, fd < 0 ? errno : fd);
    printf("capcheck %s: listening on 8083, crashing with the socket open\n", me);
    fflush(stdout);
    *(volatile int *)0 = 1;
    return 4;
}

int main(int argc, char **argv) {
    struct nexus_identity id;
    snprintf(me, sizeof me, "%s", nx_identity(&id) == 0 ? id.name : "capcheck");
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "socket"))
        return forbidden_socket();
    if (!strcmp(mode, "widen"))
        return mode_widen();
    if (!strcmp(mode, "channels"))
        return mode_channels();
    if (!strcmp(mode, "linkends"))
        return mode_linkends();
    if (!strcmp(mode, "relisten"))
        return mode_relisten();
    if (!strcmp(mode, "survivor"))
        return mode_survivor();
    if (!strcmp(mode, "crash"))
        return mode_crash(argc > 2 ? argv[2] : NULL);
    if (!strcmp(mode, "serve"))
        return mode_serve();
    if (!strcmp(mode, "twolinks"))
        return mode_twolinks();
    if (!strcmp(mode, "argv"))
        return mode_argv(argc, argv);
    printf("usage: capcheck socket|widen|channels|linkends|relisten|survivor|crash MS|serve|twolinks|argv ...\n");
    return 2;
}
