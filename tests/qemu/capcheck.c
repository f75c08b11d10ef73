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
 *   crash MS    sleeps MS ms, then stores through a null pointer
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static int mode_socket(void) { return forbidden_socket(); }

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

static int mode_crash(const char *ms) {
    nx_sleep_ns(NX_MS(ms ? strtoul(ms, NULL, 10) : 0));
    printf("capcheck %s: crashing on purpose\n", me);
    fflush(stdout);
    *(volatile int *)0 = 1;
    return 4;
}

int main(int argc, char **argv) {
    struct nexus_identity id;
    snprintf(me, sizeof me, "%s", nx_identity(&id) == 0 ? id.name : "capcheck");
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "socket"))
        return mode_socket();
    if (!strcmp(mode, "widen"))
        return mode_widen();
    if (!strcmp(mode, "channels"))
        return mode_channels();
    if (!strcmp(mode, "crash"))
        return mode_crash(argc > 2 ? argv[2] : NULL);
    printf("usage: capcheck socket|widen|channels|crash MS\n");
    return 2;
}
