/*
 * lwfsend CELLID SERVICE TEXT: sends TEXT as one LWF message to (CELLID, SERVICE) and says
 * whether the LWF service took it. Test kernel only: tests/e2e/run_qemu_lwf.py uses it to send
 * the LWF service's fault trigger (lwf/service/fault_inject.h) from an authenticated peer.
 */
#include <errno.h>
#include <net/lwf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nexus.h"

#define UNKNOWN_PEER_TRIES 20 /* 100 ms apart: the service solicits an ANNOUNCE meanwhile */

int main(int argc, char **argv) {
    struct sockaddr_lwf to = {.slwf_family = AF_LWF};
    char *end = NULL;
    unsigned long service = argc == 4 ? strtoul(argv[2], &end, 10) : 0;
    if (argc != 4 || lwf_cellid_parse(argv[1], to.slwf_cellid) != 0 || *end || service == 0 || service > 0xffff) {
        printf("usage: lwfsend CELLID SERVICE TEXT   (SERVICE 1..65535)\n");
        return 2;
    }
    to.slwf_service = (uint16_t)service;
    int fd = socket(AF_LWF, SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("lwfsend: socket: %s\n", strerror(errno));
        return 1;
    }
    ssize_t sent = -1;
    for (int tries = 0; tries < UNKNOWN_PEER_TRIES && sent < 0; tries++) {
        sent = sendto(fd, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&to, sizeof to);
        if (sent < 0 && errno != EHOSTUNREACH)
            break;
        if (sent < 0)
            nx_sleep_ns(NX_MS(100));
    }
    if (sent < 0) {
        printf("lwfsend: %s service %lu: %s\n", argv[1], service, strerror(errno));
        return 1;
    }
    printf("lwfsend: sent %zd bytes to %s service %lu\n", sent, argv[1], service);
    close(fd);
    return 0;
}
