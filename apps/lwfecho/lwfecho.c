/* lwfecho: the LWF echo service. Sends every message on LWF service 7 back to its sender, over
 * plain POSIX AF_LWF sockets (<net/lwf.h>). */
#include <errno.h>
#include <net/lwf.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char message[LWF_MESSAGE_BYTES];

int main(void) {
    int fd = socket(AF_LWF, SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("lwfecho: socket: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_lwf me = {.slwf_family = AF_LWF, .slwf_service = LWF_SERVICE_ECHO};
    if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        printf("lwfecho: bind to service %d: %s\n", LWF_SERVICE_ECHO, strerror(errno));
        return 1;
    }
    printf("lwfecho: answering on LWF service %d\n", LWF_SERVICE_ECHO);
    for (;;) {
        struct sockaddr_lwf from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, message, sizeof message, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            printf("lwfecho: recvfrom: %s\n", strerror(errno));
            return 1; /* the LWF service restarted: the supervisor starts us again */
        }
        if (sendto(fd, message, (size_t)n, 0, (struct sockaddr *)&from, fromlen) < 0 && errno != EHOSTUNREACH)
            printf("lwfecho: sendto: %s\n", strerror(errno));
    }
}
