/* lwfecho: the LWF echo service. Sends every message on LWF service 7 back to its sender, signed
 * (LWF_SIGNED: an answer any third party can attribute to this node), over plain POSIX AF_LWF
 * sockets (<net/lwf.h>). When the LWF service is not there (not started yet,
 * restarting, or not running on this machine), it says so once and tries again every second. */
#include <errno.h>
#include <net/lwf.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nexus.h"

static unsigned char message[LWF_MESSAGE_BYTES];

/* A socket bound to the echo service, or -1 (errno set). */
static int open_echo(void) {
    int fd = socket(AF_LWF, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_lwf me = {.slwf_family = AF_LWF, .slwf_service = LWF_SERVICE_ECHO};
    int on = 1;
    if (setsockopt(fd, SOL_LWF, LWF_SIGNED, &on, sizeof on) == 0 && bind(fd, (struct sockaddr *)&me, sizeof me) == 0)
        return fd;
    int err = errno;
    close(fd);
    errno = err;
    return -1;
}

/* Echoes until the socket fails (the LWF service went away). */
static void serve(int fd) {
    for (;;) {
        struct sockaddr_lwf from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, message, sizeof message, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            printf("lwfecho: recvfrom: %s; waiting for the LWF service\n", strerror(errno));
            return;
        }
        if (sendto(fd, message, (size_t)n, 0, (struct sockaddr *)&from, fromlen) < 0 && errno != EHOSTUNREACH)
            printf("lwfecho: sendto: %s\n", strerror(errno));
    }
}

int main(void) {
    int said = 0;
    for (;;) {
        int fd = open_echo();
        if (fd < 0) {
            if (!said++)
                printf("lwfecho: no LWF socket yet (%s); trying every second\n", strerror(errno));
            nx_sleep_ns(NX_MS(1000));
            continue;
        }
        said = 0;
        printf("lwfecho: answering on LWF service %d\n", LWF_SERVICE_ECHO);
        serve(fd);
        close(fd);
    }
}
