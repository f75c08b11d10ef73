/*
 * utcpget CELLID [PATH]: fetches PATH (default /) from node CELLID's httpd over UTCP stream 80
 * (docs/utcp.md, section 12): one connection, `GET PATH HTTP/1.1` with Connection: close, read
 * to the end. Prints the status line, the body's length, the time and goodput, and the body
 * itself when it is short text. Exits 0 on status 200, 1 on any other status or failure, 2 on
 * bad arguments. From the console: `run utcpget CELLID /bus.json`.
 */
#include <errno.h>
#include <net/lwf.h>
#include <net/utcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nexus.h"

#define HTTP_STREAM 80
#define HEAD_MAX 8192       /* httpd's own limit on a head (HTTP_HEAD_MAX) */
#define SHOWN_BODY_MAX 65536 /* a longer body (a large /bytes/N) is counted, not printed */
#define CHUNK 16384

static char head[HEAD_MAX];
static char shown[SHOWN_BODY_MAX];
static char chunk[CHUNK];

struct response {
    size_t head_len;         /* bytes in head[]; the head ends at head_end once found */
    size_t head_end;         /* 0 until the blank line after the head has arrived */
    unsigned long long body; /* body bytes received */
    size_t shown_len;
    int printable; /* every body byte so far is text */
};

static uint64_t now_ms(void) { return nx_clock_ns() / 1000000u; }

static int is_text(char c) { return (c >= ' ' && c < 127) || c == '\n' || c == '\r' || c == '\t'; }

static void take_body(struct response *r, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        r->printable &= is_text(p[i]);
        if (r->shown_len < SHOWN_BODY_MAX)
            shown[r->shown_len++] = p[i];
    }
    r->body += n;
}

/* The head is collected whole first (it names the status); whatever follows it is body. */
static void take(struct response *r, const char *p, size_t n) {
    if (r->head_end) {
        take_body(r, p, n);
        return;
    }
    size_t room = HEAD_MAX - r->head_len, copied = n < room ? n : room;
    memcpy(head + r->head_len, p, copied);
    r->head_len += copied;
    for (size_t i = 3; i < r->head_len; i++) {
        if (!memcmp(head + i - 3, "\r\n\r\n", 4)) {
            r->head_end = i + 1;
            take_body(r, head + r->head_end, r->head_len - r->head_end);
            take_body(r, p + copied, n - copied);
            return;
        }
    }
}

/* The status code of "HTTP/1.x NNN ...", or -1. */
static int status_of(const char *line, size_t len) {
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        code = code * 10 + (line[i] - '0');
    }
    return code;
}

/* Connects and sends the request; the descriptor, or -1 (the reason printed). */
static int request(const struct sockaddr_utcp *to, const char *path) {
    int fd = socket(AF_UTCP, SOCK_STREAM, 0);
    if (fd < 0) {
        printf("utcpget: socket: %s\n", strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) {
        printf("utcpget: connect: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: utcp\r\nConnection: close\r\n\r\n", path);
    for (int sent = 0; sent < n;) {
        ssize_t w = send(fd, req + sent, (size_t)(n - sent), 0);
        if (w < 0) {
            printf("utcpget: send: %s\n", strerror(errno));
            close(fd);
            return -1;
        }
        sent += (int)w;
    }
    return fd;
}

int main(int argc, char **argv) {
    struct sockaddr_utcp to = {.sutcp_family = AF_UTCP, .sutcp_stream = HTTP_STREAM};
    const char *path = argc > 2 ? argv[2] : "/";
    if (argc < 2 || argc > 3 || lwf_cellid_parse(argv[1], to.sutcp_cellid) != 0 || path[0] != '/' ||
        strlen(path) > 400) {
        printf("usage: utcpget CELLID [PATH]   (CELLID: 32 hex digits, /Bus/net/cellid of the node; "
               "PATH from /, default /)\n");
        return 2;
    }
    uint64_t start = now_ms();
    int fd = request(&to, path);
    if (fd < 0)
        return 1;
    struct response r = {.printable = 1};
    for (;;) {
        ssize_t n = recv(fd, chunk, CHUNK, 0);
        if (n == 0)
            break;
        if (n < 0) {
            printf("utcpget: recv after %llu body bytes: %s\n", r.body, strerror(errno));
            close(fd);
            return 1;
        }
        take(&r, chunk, (size_t)n);
    }
    close(fd);
    uint64_t ms = now_ms() - start;
    if (!r.head_end) {
        printf("utcpget: the connection ended without a whole response head (%lu bytes)\n", (unsigned long)r.head_len);
        return 1;
    }
    size_t line_len = (size_t)(strstr(head, "\r\n") - head);
    int status = status_of(head, line_len);
    printf("utcpget: %.*s\n", (int)line_len, head);
    printf("utcpget: body %llu bytes in %llu ms, %llu KiB/s\n", r.body, (unsigned long long)ms,
           ms ? r.body * 1000 / 1024 / ms : 0ull);
    if (r.printable && r.body <= SHOWN_BODY_MAX)
        printf("%.*s\n", (int)r.shown_len, shown);
    return status == 200 ? 0 : 1;
}
