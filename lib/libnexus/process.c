/*
 * Process calls a fiber cannot honour. A fiber is started by the manifest and never forks, so
 * daemon() (fork, setsid, reopen stdio) has nothing to do that would be true: it fails with
 * ENOSYS and says so on the console once, and the program runs in the foreground (rinetd -f,
 * mosquitto without -d).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int daemon(int nochdir, int noclose) {
    static int said;
    (void)nochdir, (void)noclose;
    if (!said) {
        said = 1;
        fprintf(stderr, "daemon: not available on Nexus (ENOSYS); stay in the foreground\n");
        fflush(stderr);
    }
    errno = ENOSYS;
    return -1;
}
