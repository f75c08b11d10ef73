/*
 * utcpcat CELLID STREAM [BYTES [BACK [PARALLEL [WAIT_MS]]]]: opens PARALLEL (default 1, at most 4)
 * UTCP streams at once to node CELLID's STREAM (the sink, apps/utcpsink, listens on 9), each
 * waiting WAIT_MS (default 0) after its connect before its request; on each it
 * sends BYTES bytes (default 65536) while it receives BACK bytes (default 0), and checks both
 * ways (streamsum.h): the sink reports the count and checksum of what it received, and utcpcat
 * compares every byte it receives with the pattern. Prints the connect time and the goodput of
 * each, and exits 0 if every byte arrived intact. From the console: `run utcpcat CELLID 9 1048576`.
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
#define PARALLEL_MAX 4
#define WAIT_MAX_MS 60000

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

/* Opens a connection and, wait_ms later, sends its request; the descriptor, or -1 (the reason
 * printed). The wait shows a server accepting before its client has said anything. */
static int open_stream(const struct sockaddr_utcp *to, const struct transfer *t, int wait_ms) {
    int fd = socket(AF_UTCP, SOCK_STREAM, 0);
    if (fd < 0) {
        printf("utcpcat: socket: %s\n", strerror(errno));
        return -1;
    }
    uint64_t start = now_ms();
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) {
        printf("utcpcat: connect: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    printf("utcpcat: connected in %llu ms\n", (unsigned long long)(now_ms() - start));
    if (wait_ms > 0) {
        printf("utcpcat: waiting %d ms before the request\n", wait_ms);
        poll(NULL, 0, wait_ms);
        printf("utcpcat: sending the request\n");
    }
    uint8_t request[STREAMSUM_REQUEST_LEN];
    streamsum_put64(request, t->back);
    if (send(fd, request, sizeof request, 0) != (ssize_t)sizeof request) {
        printf("utcpcat: send: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Each connection's outcome on the console; 1 if every byte of it arrived intact. */
static int verdict(const struct transfer *t, uint64_t ms) {
    uint64_t peer_bytes = t->trailer_len == STREAMSUM_TRAILER_LEN ? streamsum_get64(t->trailer) : 0;
    uint64_t peer_sum = t->trailer_len == STREAMSUM_TRAILER_LEN ? streamsum_get64(t->trailer + 8) : 0;
    int ok = t->trailer_len == STREAMSUM_TRAILER_LEN && peer_bytes == t->sent && peer_sum == t->sent_sum &&
             t->received == t->back && t->received_wrong == 0;
    uint64_t kib_s = ms ? (t->sent + t->received) * 1000 / 1024 / ms : 0;
    printf("utcpcat: sent %llu sum %016llx, peer received %llu sum %016llx; received %llu sum %016llx; "
           "%llu ms, %llu KiB/s: %s\n",
           (unsigned long long)t->sent, (unsigned long long)t->sent_sum, (unsigned long long)peer_bytes,
           (unsigned long long)peer_sum, (unsigned long long)t->received, (unsigned long long)t->received_sum,
           (unsigned long long)ms, (unsigned long long)kib_s, ok ? "intact" : "MISMATCH");
    return ok;
}

int main(int argc, char **argv) {
    uint8_t cellid[UTCP_CELLID_BYTES];
    int parallel = argc > 5 ? atoi(argv[5]) : 1;
    int wait_ms = argc > 6 ? atoi(argv[6]) : 0;
    if (argc < 3 || lwf_cellid_parse(argv[1], cellid) != 0 || atoi(argv[2]) <= 0 || atoi(argv[2]) > 65535 ||
        parallel < 1 || parallel > PARALLEL_MAX || wait_ms < 0 || wait_ms > WAIT_MAX_MS) {
        printf("usage: utcpcat CELLID STREAM [BYTES [BACK [PARALLEL [WAIT_MS]]]]   (CELLID: 32 hex digits, "
               "/Bus/net/cellid of the node; STREAM 1..65535; PARALLEL 1..%d connections at once; WAIT_MS "
               "0..%d before each request)\n", PARALLEL_MAX, WAIT_MAX_MS);
        return 2;
    }
    struct sockaddr_utcp to = {.sutcp_family = AF_UTCP, .sutcp_stream = (uint16_t)atoi(argv[2])};
    memcpy(to.sutcp_cellid, cellid, sizeof cellid);
    struct transfer t[PARALLEL_MAX];
    int fds[PARALLEL_MAX];
    for (int i = 0; i < parallel; i++) {
        t[i] = (struct transfer){.to_send = argc > 3 ? strtoull(argv[3], NULL, 10) : 65536,
                                 .back = argc > 4 ? strtoull(argv[4], NULL, 10) : 0,
                                 .sent_sum = STREAMSUM_FNV_START,
                                 .received_sum = STREAMSUM_FNV_START,
                                 .send_state = STREAMSUM_SEED_OUT,
                                 .expect_state = STREAMSUM_SEED_BACK};
        if ((fds[i] = open_stream(&to, &t[i], wait_ms)) < 0) {
            while (i--)
                close(fds[i]);
            return 1;
        }
    }
    uint64_t started = now_ms(), progress = started;
    int running = parallel, failed = 0, err = 0;
    while (running && !failed) {
        struct pollfd p[PARALLEL_MAX];
        for (int i = 0; i < parallel; i++)
            p[i] = (struct pollfd){.fd = t[i].eof ? -1 : fds[i],
                                   .events = POLLIN | (t[i].sent < t[i].to_send ? POLLOUT : 0)};
        if (poll(p, (nfds_t)parallel, 1000) < 0)
            break;
        for (int i = 0; i < parallel && !failed; i++) {
            if (t[i].eof)
                continue;
            uint64_t before = t[i].sent + t[i].received + t[i].trailer_len;
            failed = pump_out(fds[i], &t[i]) != 0 || pump_in(fds[i], &t[i]) != 0;
            if (failed)
                err = errno;
            if (t[i].sent + t[i].received + t[i].trailer_len != before)
                progress = now_ms();
            running -= t[i].eof;
        }
        if (!failed && now_ms() - progress > STALL_MS)
            err = ETIMEDOUT, failed = 1;
    }
    uint64_t ms = now_ms() - started;
    int intact = !failed;
    for (int i = 0; i < parallel; i++) {
        close(fds[i]);
        if (failed)
            printf("utcpcat: failed after %llu sent, %llu received: %s\n", (unsigned long long)t[i].sent,
                   (unsigned long long)t[i].received, strerror(err));
        else
            intact &= verdict(&t[i], ms);
    }
    return intact ? 0 : 1;
}
