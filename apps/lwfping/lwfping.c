/*
 * lwfping CELLID [COUNT [SIZE [signed]]]: sends COUNT messages of SIZE bytes (default 4 of 64; up
 * to a whole 64 KiB message, fragmented on the wire) to the echo service of node CELLID over LWF
 * and prints each round trip, checking that what comes back is what was sent. With `signed`,
 * every frame it sends carries this node's signature (LWF_SIGNED). Exits 0 if every message came
 * back intact. Run from the console: `run lwfping CELLID`.
 */
#include <errno.h>
#include <net/lwf.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nexus.h"

/* How long an answer may take: 2 s, and 1 ms more per 16 bytes, since every fragment of a large
 * message is signed on the way out (by the signer fiber) and verified on the way in, both ways:
 * about 6 s for 64 KiB on a loaded host under TCG. */
static int wait_ms(size_t size) { return 2000 + (int)(size / 16); }
#define SIZE_MIN 8 /* the sequence number and a pattern seed */

static unsigned char out[LWF_MESSAGE_BYTES], in[LWF_MESSAGE_BYTES];

static long long now_us(void) { return (long long)(nx_clock_ns() / 1000u); }

static void fill(unsigned seq, size_t size) {
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(seq * 31 + i * 7);
    memcpy(out, &seq, sizeof seq);
}

/* Waits for the answer to `seq`, skipping late answers to earlier ones. 1 intact, 0 damaged,
 * -1 none in time, -2 the socket failed (errno says why: the LWF service restarted, say). */
static int await(int fd, unsigned seq, size_t size) {
    long long deadline = now_us() + wait_ms(size) * 1000LL;
    for (;;) {
        long long left = (deadline - now_us()) / 1000;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -2;
        if (n < (ssize_t)sizeof seq)
            continue;
        unsigned got;
        memcpy(&got, in, sizeof got);
        if (got == seq)
            return (size_t)n == size && !memcmp(in, out, size);
    }
}

int main(int argc, char **argv) {
    unsigned char cellid[LWF_CELLID_BYTES];
    if (argc < 2 || lwf_cellid_parse(argv[1], cellid) != 0) {
        printf("usage: lwfping CELLID [COUNT [SIZE [signed]]]   (CELLID: 32 hex digits, /Bus/net/cellid of the node)\n");
        return 2;
    }
    unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 4;
    size_t size = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
    int sign = argc > 4 && !strcmp(argv[4], "signed");
    if (size < SIZE_MIN || size > LWF_MESSAGE_BYTES || count == 0 || (argc > 4 && !sign)) {
        printf("lwfping: COUNT must be at least 1, SIZE %d..%d, and the fourth word `signed`\n", SIZE_MIN,
               LWF_MESSAGE_BYTES);
        return 2;
    }
    int fd = socket(AF_LWF, SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("lwfping: socket: %s\n", strerror(errno));
        return 1;
    }
    if (sign && setsockopt(fd, SOL_LWF, LWF_SIGNED, &sign, sizeof sign) < 0) {
        printf("lwfping: setsockopt LWF_SIGNED: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_lwf to = {.slwf_family = AF_LWF, .slwf_service = LWF_SERVICE_ECHO};
    memcpy(to.slwf_cellid, cellid, sizeof cellid);
    unsigned answered = 0, intact = 0;
    long long best = -1, worst = 0, total = 0;
    for (unsigned seq = 1; seq <= count; seq++) {
        fill(seq, size);
        long long start = now_us();
        ssize_t sent = -1;
        /* The first message may find the peer not yet known: the service asks it to announce. */
        for (int tries = 0; tries < 20 && sent < 0; tries++) {
            sent = sendto(fd, out, size, 0, (struct sockaddr *)&to, sizeof to);
            if (sent < 0 && errno == EHOSTUNREACH)
                nx_sleep_ns(NX_MS(100));
            else
                break;
        }
        if (sent < 0) {
            printf("lwfping: %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        int r = await(fd, seq, size);
        long long us = now_us() - start;
        if (r == -2) {
            printf("lwfping: %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (r < 0) {
            printf("lwfping: seq=%u: no answer in %d ms\n", seq, wait_ms(size));
            continue;
        }
        answered++;
        intact += r;
        total += us;
        best = best < 0 || us < best ? us : best;
        worst = us > worst ? us : worst;
        printf("%zu bytes from %s: seq=%u time=%lld.%03lld ms%s\n", size, argv[1], seq, us / 1000, us % 1000,
               r ? "" : " (DAMAGED)");
    }
    printf("lwfping: %u sent, %u answered, %u intact", count, answered, intact);
    if (answered)
        printf(", rtt min/avg/max %lld.%03lld/%lld.%03lld/%lld.%03lld ms", best / 1000, best % 1000,
               total / answered / 1000, total / answered % 1000, worst / 1000, worst % 1000);
    printf("\n");
    close(fd);
    return intact == count ? 0 : 1;
}
