/*
 * utcpsink [STREAM]: the UTCP sink on STREAM (default 9, UTCP_STREAM_DISCARD), several
 * connections at once. Each connection asks, in its first 8 bytes, for a number of bytes back
 * (apps/utcpcat/streamsum.h); the sink sends them while it reads everything the client sends,
 * and once the client ended its direction and the bytes back are out, answers the count and
 * checksum of what it received and closes. Every connection ends with a console line.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/utcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "utcpcat/streamsum.h"

#define CONNECTIONS 6
#define CHUNK 16384

struct client {
    int fd;
    uint8_t request[STREAMSUM_REQUEST_LEN];
    unsigned request_len;
    uint64_t back, sent, send_state;
    uint64_t received, received_sum;
    uint8_t trailer[STREAMSUM_TRAILER_LEN];
    unsigned trailer_sent;
    int eof;
};

static struct client clients[CONNECTIONS];
static uint8_t chunk[CHUNK];

static void finish(struct client *c, const char *how) {
    printf("utcpsink: connection done (%s): received %llu sum %016llx, sent %llu\n", how,
           (unsigned long long)c->received, (unsigned long long)c->received_sum, (unsigned long long)c->sent);
    close(c->fd);
    c->fd = -1;
}

/* Reads what arrived; 0, or -1 when the connection failed. */
static int take(struct client *c) {
    for (;;) {
        ssize_t n = recv(c->fd, chunk, CHUNK, 0);
        if (n == 0) {
            c->eof = 1;
            return c->request_len == STREAMSUM_REQUEST_LEN ? 0 : -1;
        }
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        size_t at = 0;
        while (c->request_len < STREAMSUM_REQUEST_LEN && at < (size_t)n)
            c->request[c->request_len++] = chunk[at++];
        if (c->request_len == STREAMSUM_REQUEST_LEN && at)
            c->back = streamsum_get64(c->request);
        c->received_sum = streamsum_add(c->received_sum, chunk + at, (size_t)n - at);
        c->received += (size_t)n - at;
    }
}

/* Sends the bytes back, then (after the client's end) the trailer; 1 when all is out. */
static int give(struct client *c) {
    if (c->request_len < STREAMSUM_REQUEST_LEN)
        return 0;
    while (c->sent < c->back) {
        size_t n = c->back - c->sent < CHUNK ? (size_t)(c->back - c->sent) : CHUNK;
        uint64_t state = c->send_state;
        streamsum_fill(&state, chunk, n);
        ssize_t w = send(c->fd, chunk, n, 0);
        if (w < 0)
            return errno == EAGAIN ? 0 : -1;
        streamsum_fill(&c->send_state, chunk, (size_t)w);
        c->sent += (uint64_t)w;
    }
    if (!c->eof)
        return 0;
    if (c->trailer_sent == 0) {
        streamsum_put64(c->trailer, c->received);
        streamsum_put64(c->trailer + 8, c->received_sum);
    }
    while (c->trailer_sent < STREAMSUM_TRAILER_LEN) {
        ssize_t w = send(c->fd, c->trailer + c->trailer_sent, STREAMSUM_TRAILER_LEN - c->trailer_sent, 0);
        if (w < 0)
            return errno == EAGAIN ? 0 : -1;
        c->trailer_sent += (unsigned)w;
    }
    return 1;
}

/* A listening socket on `stream`, or -1 (errno says why). */
static int listen_on(int stream) {
    int fd = socket(AF_UTCP, SOCK_STREAM, 0);
    struct sockaddr_utcp at = {.sutcp_family = AF_UTCP, .sutcp_stream = (uint16_t)stream};
    if (fd >= 0 && (bind(fd, (struct sockaddr *)&at, sizeof at) != 0 || listen(fd, 4) != 0)) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if (fd >= 0)
        fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Takes a new connection; -1 when the listener itself failed (the UTCP service restarted). */
static int admit(int listener) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    printf("utcpsink: accepted a connection\n");
    for (int i = 0; i < CONNECTIONS; i++) {
        if (clients[i].fd < 0) {
            fcntl(fd, F_SETFL, O_NONBLOCK);
            clients[i] = (struct client){.fd = fd, .send_state = STREAMSUM_SEED_BACK,
                                         .received_sum = STREAMSUM_FNV_START};
            return 0;
        }
    }
    printf("utcpsink: %d connections already: one more is closed\n", CONNECTIONS);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    int stream = argc > 1 ? atoi(argv[1]) : UTCP_STREAM_DISCARD;
    int listener = listen_on(stream);
    if (listener < 0) {
        printf("utcpsink: cannot listen on stream %d: %s\n", stream, strerror(errno));
        return 1;
    }
    for (int i = 0; i < CONNECTIONS; i++)
        clients[i].fd = -1;
    printf("utcpsink: listening on UTCP stream %d\n", stream);
    for (;;) {
        struct pollfd p[CONNECTIONS + 1] = {{.fd = listener, .events = POLLIN}};
        for (int i = 0; i < CONNECTIONS; i++) {
            const struct client *c = &clients[i];
            int sending = c->request_len == STREAMSUM_REQUEST_LEN && (c->sent < c->back || c->eof);
            p[i + 1] = (struct pollfd){.fd = c->fd, .events = POLLIN | (sending ? POLLOUT : 0)};
        }
        if (poll(p, CONNECTIONS + 1, 1000) < 0) {
            printf("utcpsink: poll: %s\n", strerror(errno));
            return 1;
        }
        if (p[0].revents && admit(listener) != 0) {
            printf("utcpsink: the listener failed (%s): listening again\n", strerror(errno));
            close(listener);
            while ((listener = listen_on(stream)) < 0)
                poll(NULL, 0, 200);
        }
        for (int i = 0; i < CONNECTIONS; i++) {
            struct client *c = &clients[i];
            if (c->fd < 0 || !p[i + 1].revents)
                continue;
            int done = take(c) == 0 ? give(c) : -1;
            if (done)
                finish(c, done > 0 ? "complete" : strerror(errno));
        }
    }
}
