/*
 * utcpcat CELLID STREAM [BYTES [BACK]]: opens a UTCP stream to node CELLID's STREAM (the sink,
 * apps/utcpsink, listens on 9), sends BYTES bytes (default 65536) while it receives BACK bytes
 * (default 0) from the sink, and checks both ways (streamsum.h): the sink reports the count and
 * checksum of what it received, and utcpcat compares every byte it receives with the pattern. Prints the connect time and the goodput,
 * and exits 0 if every byte arrived intact. Run from the console: `run utcpcat CELLID 9 1048576`.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/lwf.h>
#include <net/utcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nexus.h"
#include "streamsum.h"

#define CHUNK 16384
#define STALL_MS 30000

static uint8_t chunk[CHUNK];

static uint64_t now_ms(void) { return nx_clock_ns() / 1000000u; }

struct transfer {
    uint64_t to_send, sent, sent_sum, send_state;
    uint64_t back, received, received_sum, expect_state, received_wrong;
    uint8_t trailer[STREAMSUM_TRAILER_LEN];
    unsigned trailer_len;
    int eof, shut;
};

/* Sends what the socket takes now; 0, or -1 on failure. */
static int pump_out(int fd, struct transfer *t) {
    while (t->sent < t->to_send) {
        size_t n = t->to_send - t->sent < CHUNK ? (size_t)(t->to_send - t->sent) : CHUNK;
        uint64_t state = t->send_state;
        streamsum_fill(&state, chunk, n);
        ssize_t w = send(fd, chunk, n, 0);
        if (w < 0)
            return errno == EAGAIN ? 0 : -1;
        /* the pattern advances by what was taken only */
        streamsum_fill(&t->send_state, chunk, (size_t)w);
        t->sent_sum = streamsum_add(t->sent_sum, chunk, (size_t)w);
        t->sent += (uint64_t)w;
    }
    if (t->shut)
        return 0;
    t->shut = 1;
    return shutdown(fd, SHUT_WR);
}

/* Reads what arrived: the sink's bytes, then its trailer, then the end. 0, or -1 on failure. */
static int pump_in(int fd, struct transfer *t) {
    for (;;) {
        ssize_t n = recv(fd, chunk, CHUNK, 0);
        if (n == 0) {
            t->eof = 1;
            return 0;
        }
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        size_t at = 0;
        if (t->received < t->back) {
            size_t data = t->back - t->received < (uint64_t)n ? (size_t)(t->back - t->received) : (size_t)n;
            static uint8_t expected[CHUNK];
            streamsum_fill(&t->expect_state, expected, data);
            t->received_wrong += memcmp(expected, chunk, data) != 0;
            t->received_sum = streamsum_add(t->received_sum, chunk, data);
            t->received += data;
            at = data;
        }
        size_t rest = (size_t)n - at;
        if (t->trailer_len + rest > STREAMSUM_TRAILER_LEN)
            return errno = EPROTO, -1;
        memcpy(t->trailer + t->trailer_len, chunk + at, rest);
        t->trailer_len += (unsigned)rest;
    }
}

int main(int argc, char **argv) {
    uint8_t cellid[UTCP_CELLID_BYTES];
    if (argc < 3 || lwf_cellid_parse(argv[1], cellid) != 0 || atoi(argv[2]) <= 0 || atoi(argv[2]) > 65535) {
        printf("usage: utcpcat CELLID STREAM [BYTES [BACK]]   (CELLID: 32 hex digits, /Bus/net/cellid of the "
               "node; STREAM 1..65535)\n");
        return 2;
    }
    struct transfer t = {.to_send = argc > 3 ? strtoull(argv[3], NULL, 10) : 65536,
                         .back = argc > 4 ? strtoull(argv[4], NULL, 10) : 0,
                         .sent_sum = STREAMSUM_FNV_START,
                         .received_sum = STREAMSUM_FNV_START,
                         .send_state = STREAMSUM_SEED_OUT,
                         .expect_state = STREAMSUM_SEED_BACK};
    int fd = socket(AF_UTCP, SOCK_STREAM, 0);
    if (fd < 0) {
        printf("utcpcat: socket: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_utcp to = {.sutcp_family = AF_UTCP, .sutcp_stream = (uint16_t)atoi(argv[2])};
    memcpy(to.sutcp_cellid, cellid, sizeof cellid);
    uint64_t start = now_ms();
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        printf("utcpcat: connect: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    uint64_t connected = now_ms();
    printf("utcpcat: connected in %llu ms\n", (unsigned long long)(connected - start));
    uint8_t request[STREAMSUM_REQUEST_LEN];
    streamsum_put64(request, t.back);
    if (send(fd, request, sizeof request, 0) != (ssize_t)sizeof request) {
        printf("utcpcat: send: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    uint64_t progress = now_ms();
    int failed = 0;
    while (!t.eof && !failed) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (t.sent < t.to_send ? POLLOUT : 0)};
        if (poll(&p, 1, 1000) < 0)
            break;
        uint64_t before = t.sent + t.received + t.trailer_len;
        failed = pump_out(fd, &t) != 0 || pump_in(fd, &t) != 0;
        if (t.sent + t.received + t.trailer_len != before)
            progress = now_ms();
        else if (now_ms() - progress > STALL_MS)
            errno = ETIMEDOUT, failed = 1;
    }
    int err = errno;
    close(fd);
    uint64_t ms = now_ms() - connected;
    if (failed) {
        printf("utcpcat: failed after %llu sent, %llu received: %s\n", (unsigned long long)t.sent,
               (unsigned long long)t.received, strerror(err));
        return 1;
    }
    uint64_t peer_bytes = t.trailer_len == STREAMSUM_TRAILER_LEN ? streamsum_get64(t.trailer) : 0;
    uint64_t peer_sum = t.trailer_len == STREAMSUM_TRAILER_LEN ? streamsum_get64(t.trailer + 8) : 0;
    int ok = t.trailer_len == STREAMSUM_TRAILER_LEN && peer_bytes == t.sent && peer_sum == t.sent_sum &&
             t.received == t.back && t.received_wrong == 0;
    uint64_t kib_s = ms ? (t.sent + t.received) * 1000 / 1024 / ms : 0;
    printf("utcpcat: sent %llu sum %016llx, peer received %llu sum %016llx; received %llu sum %016llx; "
           "%llu ms, %llu KiB/s: %s\n",
           (unsigned long long)t.sent, (unsigned long long)t.sent_sum, (unsigned long long)peer_bytes,
           (unsigned long long)peer_sum, (unsigned long long)t.received, (unsigned long long)t.received_sum,
           (unsigned long long)ms, (unsigned long long)kib_s, ok ? "intact" : "MISMATCH");
    return ok ? 0 : 1;
}
