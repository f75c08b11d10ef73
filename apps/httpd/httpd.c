/*
 * nexus-httpd: a small HTTP/1.1 server over POSIX sockets only, so the same file runs on host
 * Linux and on Nexus (where the socket calls go through libnexus to the Membrane's lwIP).
 *
 *   httpd [port [bind-address]]      defaults: 80, 0.0.0.0
 *
 *   GET|HEAD /           status page built from the system tree (sysinfo.h)
 *   GET|HEAD /bus.json   the system tree as JSON
 *   GET|HEAD /bytes/N    N bytes (0 <= N <= 2^40), byte i = i % 251
 *   POST /echo           the request body streamed back (Content-Length <= 64 MiB)
 *
 * Shape: one thread, one poll() loop, non-blocking sockets, and only static storage (Nexus has
 * no heap). Each connection owns an 8 KiB input buffer (one request head at most) and a 4 KiB
 * output buffer; bodies are produced into it as the socket drains, so no response is ever held
 * whole. /bytes bodies are sent straight from a read-only pattern table instead.
 *
 * The network service may start after httpd or restart under it, so httpd never gives up:
 * listener setup is retried every 50 ms, and when poll() or accept() fail in a way that means
 * the service is gone, every socket is dropped and the listener rebuilt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_parse.h"
#include "sysinfo.h"

enum {
    MAX_CONNS = 48,
    LISTEN_BACKLOG = 64,
    IN_CAP = HTTP_HEAD_MAX, /* a request head must fit whole */
    OUT_CAP = 4096,
    HEAD_ROOM = 1024,       /* free output space needed before starting a response */
    STEP_ROUNDS = 16,       /* work per connection per wakeup, so no client starves the rest */
    STEP_SEND_BUDGET = 256 * 1024,
    FRAG_CAP = 4096,        /* one rendered piece of a document */
    FIELD_SHOWN_MAX = 256,  /* longer paths/values are cut, so a piece always fits FRAG_CAP */
    SNAPSHOT_CAP = 65536,   /* the kernel lists at most this much */
    PATTERN_PERIOD = 251,
    PATTERN_LEN = PATTERN_PERIOD * 128,
};

#define IDLE_TIMEOUT_MS 60000ull   /* no byte moved for this long: the peer is gone */
#define LINGER_MS 5000ull          /* after our FIN, how long to drain the peer before close */
#define RETRY_MS 50                /* listener setup retry period: a restarted Membrane is quick */
#define REBUILD_PAUSE_MS 10        /* after losing the network, before listening again */
#define ACCEPT_BACKOFF_MS 100ull   /* out of descriptors or buffers: let some close first */
#define ECHO_MAX (64ull << 20)
#define BYTES_MAX (1ull << 40)

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL /* a peer reset must be an error code, not SIGPIPE */
#else
#define SEND_FLAGS 0
#endif

/* ---- text building ---- */

/* Appends into a fixed buffer; anything past cap is dropped (callers size buffers so it isn't). */
struct writer {
    char *buf;
    size_t cap, len;
};

static void put_bytes(struct writer *w, const char *s, size_t n) {
    if (n > w->cap - w->len)
        n = w->cap - w->len;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_str(struct writer *w, const char *s) {
    if (s)
        put_bytes(w, s, strlen(s));
}

static void put_char(struct writer *w, char ch) { put_bytes(w, &ch, 1); }

/* Hand-rolled so the integer-only printf of picolibc never matters for 64-bit values. */
static void put_u64(struct writer *w, unsigned long long v) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_char(w, digits[--n]);
}

static void put_2digits(struct writer *w, unsigned long long v) {
    put_char(w, (char)('0' + v / 10 % 10));
    put_char(w, (char)('0' + v % 10));
}

static void put_html(struct writer *w, const char *s, size_t n) {
    size_t shown = n < FIELD_SHOWN_MAX ? n : FIELD_SHOWN_MAX;
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '&': put_str(w, "&amp;"); break;
        case '<': put_str(w, "&lt;"); break;
        case '>': put_str(w, "&gt;"); break;
        case '"': put_str(w, "&quot;"); break;
        case '\'': put_str(w, "&#39;"); break;
        default: put_char(w, ch >= 0x20 && ch < 0x7f ? (char)ch : '?');
        }
    }
    if (shown < n)
        put_str(w, "...");
}

/* A JSON string literal; bytes outside printable ASCII become \u00XX (read as Latin-1), so
 * the output is valid JSON and valid UTF-8 whatever the tree holds. */
static void put_json_string(struct writer *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t shown = n < FIELD_SHOWN_MAX ? n : FIELD_SHOWN_MAX;
    put_char(w, '"');
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            put_char(w, '\\');
            put_char(w, (char)ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            put_bytes(w, esc, sizeof esc);
        } else {
            put_char(w, (char)ch);
        }
    }
    put_char(w, '"');
}

/* ---- system tree snapshots ---- */

/* A status response must stream exactly the bytes its Content-Length promised, so it renders
 * from a frozen copy of the listing. Two copies: a slow client pinning one never stops the
 * other from being refreshed for new requests. */
struct snapshot {
    unsigned users; /* responses still streaming from this copy */
    unsigned long long generation;
    unsigned long long uptime_ms;
    long list_status; /* sysinfo_bus_list's result; < 0 is an error */
    bool truncated;
    size_t len;
    char text[SNAPSHOT_CAP];
};

static struct snapshot snapshots[2];
static unsigned long long snapshot_generations;

static void snapshot_refresh(struct snapshot *s) {
    long need = sysinfo_bus_list(s->text, sizeof s->text);
    s->uptime_ms = sysinfo_uptime_ms();
    s->list_status = need;
    s->generation = ++snapshot_generations;
    s->len = 0;
    s->truncated = false;
    if (need < 0)
        return;
    size_t len = (size_t)need;
    if (len >= sizeof s->text) {
        s->truncated = true;
        len = strnlen(s->text, sizeof s->text);
        while (len > 0 && s->text[len - 1] != '\n')
            len--; /* a cut line would show a wrong value */
    }
    s->len = len;
}

static struct snapshot *snapshot_acquire(void) {
    struct snapshot *idle = NULL, *newest = &snapshots[0];
    for (size_t i = 0; i < sizeof snapshots / sizeof snapshots[0]; i++) {
        if (!snapshots[i].users)
            idle = &snapshots[i];
        if (snapshots[i].generation > newest->generation)
            newest = &snapshots[i];
    }
    struct snapshot *s = idle ? idle : newest;
    if (idle)
        snapshot_refresh(s);
    s->users++;
    return s;
}

static void snapshot_release(struct snapshot *s) { s->users--; }

#define NO_LINE ((size_t)-1)

/* One "path=value" line of a snapshot. */
struct bus_line {
    size_t off, next; /* where it starts, where the following line starts */
    const char *path, *value;
    size_t path_len, value_len;
};

static bool line_at(const struct snapshot *s, size_t off, struct bus_line *l) {
    if (off >= s->len)
        return false;
    const char *start = s->text + off;
    const char *nl = memchr(start, '\n', s->len - off);
    size_t n = nl ? (size_t)(nl - start) : s->len - off;
    const char *eq = memchr(start, '=', n);
    l->off = off;
    l->next = off + n + 1;
    l->path = start;
    l->path_len = eq ? (size_t)(eq - start) : n;
    l->value = eq ? eq + 1 : start + n;
    l->value_len = eq ? n - l->path_len - 1 : 0;
    return true;
}

static bool path_has_prefix(const struct bus_line *l, const char *prefix) {
    size_t k = strlen(prefix);
    return l->path_len >= k && !memcmp(l->path, prefix, k);
}

static bool path_contains(const struct bus_line *l, size_t from, const char *word) {
    size_t k = strlen(word);
    for (size_t i = from; i + k <= l->path_len; i++)
        if (!memcmp(l->path + i, word, k))
            return true;
    return false;
}

/* ---- documents rendered from a snapshot ---- */

/* A document is a list of sections; a section is fixed text around one row per selected
 * listing line. Rendering is resumable from a small cursor, so a connection can stream a page
 * of any size through its 4 KiB output buffer, and the same walk measures Content-Length. */
struct section {
    void (*intro)(const struct snapshot *, struct writer *); /* dynamic text first, or NULL */
    const char *open;                                         /* then this */
    bool (*wants)(const struct bus_line *);                   /* rows: which lines; NULL: none */
    void (*row)(const struct bus_line *line, const struct bus_line *prev_row, struct writer *);
    const char *after_rows; /* after the last row, if there was one */
    const char *if_empty;   /* instead, if there was none */
    const char *close;      /* last */
};

struct document {
    const char *content_type;
    const struct section *sections;
    size_t section_count;
};

enum doc_stage { STAGE_OPEN, STAGE_ROWS, STAGE_CLOSE };

struct doc_cursor {
    size_t section;
    enum doc_stage stage;
    size_t line; /* next listing line to look at */
    size_t prev; /* last line rendered as a row of this section, or NO_LINE */
};

static char frag_buf[FRAG_CAP];

/* Renders the next non-empty piece at *cur into frag_buf and advances *cur; 0 at the end. */
static size_t document_next(const struct document *d, const struct snapshot *s, struct doc_cursor *cur) {
    struct writer w = {frag_buf, sizeof frag_buf, 0};
    while (w.len == 0 && cur->section < d->section_count) {
        const struct section *sec = &d->sections[cur->section];
        struct bus_line line, prev;
        if (cur->stage == STAGE_OPEN) {
            if (sec->intro)
                sec->intro(s, &w);
            put_str(&w, sec->open);
            cur->stage = STAGE_ROWS;
            cur->line = 0;
            cur->prev = NO_LINE;
        } else if (cur->stage == STAGE_ROWS) {
            if (!sec->wants || !line_at(s, cur->line, &line)) {
                cur->stage = STAGE_CLOSE;
                continue;
            }
            cur->line = line.next;
            if (line.path_len == 0 || !sec->wants(&line))
                continue;
            bool has_prev = cur->prev != NO_LINE && line_at(s, cur->prev, &prev);
            sec->row(&line, has_prev ? &prev : NULL, &w);
            cur->prev = line.off;
        } else {
            put_str(&w, cur->prev != NO_LINE ? sec->after_rows : sec->if_empty);
            put_str(&w, sec->close);
            cur->section++;
            cur->stage = STAGE_OPEN;
        }
    }
    return w.len;
}

static unsigned long long document_length(const struct document *d, const struct snapshot *s) {
    struct doc_cursor cur = {0, STAGE_OPEN, 0, NO_LINE};
    unsigned long long total = 0;
    size_t n;
    while ((n = document_next(d, s, &cur)) > 0)
        total += n;
    return total;
}

#define FIBERS_PREFIX "/Bus/fibers/"
#define SWITCH_PREFIX "/Bus/net/switch/"

static bool any_line(const struct bus_line *l) {
    (void)l;
    return true;
}

static bool is_lease_key(const struct bus_line *l) {
    return path_has_prefix(l, "/Bus/net/ipv4/") || (l->path_len == 12 && !memcmp(l->path, "/Bus/net/mac", 12));
}

static bool is_fiber_key(const struct bus_line *l) {
    return path_has_prefix(l, FIBERS_PREFIX) && l->path_len > strlen(FIBERS_PREFIX);
}

static bool is_ring_key(const struct bus_line *l) {
    size_t from = strlen(SWITCH_PREFIX);
    return path_has_prefix(l, SWITCH_PREFIX) && (path_contains(l, from, "ring") || path_contains(l, from, "fill"));
}

static bool is_switch_counter(const struct bus_line *l) {
    return path_has_prefix(l, SWITCH_PREFIX) && !is_ring_key(l);
}

static void put_cells(struct writer *w, const char *key, size_t key_len, const struct bus_line *l) {
    put_str(w, "<tr><td>");
    put_html(w, key, key_len);
    put_str(w, "</td><td>");
    put_html(w, l->value, l->value_len);
    put_str(w, "</td></tr>\n");
}

static void row_path_value(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    (void)prev;
    put_cells(w, l->path, l->path_len, l);
}

static void row_switch_key(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    (void)prev;
    size_t skip = strlen(SWITCH_PREFIX);
    put_cells(w, l->path + skip, l->path_len - skip, l);
}

/* The fiber's name: the path component after /Bus/fibers/. */
static size_t fiber_name_len(const struct bus_line *l) {
    size_t skip = strlen(FIBERS_PREFIX), n = 0;
    while (skip + n < l->path_len && l->path[skip + n] != '/')
        n++;
    return n;
}

/* One table row per fiber holding all of its keys; the listing is sorted, so a fiber's keys
 * are adjacent and a new name means a new row. */
static void row_fiber(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    const char *name = l->path + strlen(FIBERS_PREFIX);
    size_t name_len = fiber_name_len(l);
    bool same_fiber = prev && fiber_name_len(prev) == name_len &&
                      !memcmp(prev->path + strlen(FIBERS_PREFIX), name, name_len);
    if (!same_fiber) {
        put_str(w, prev ? "</td></tr>\n<tr><td>" : "<tr><td>");
        put_html(w, name, name_len);
        put_str(w, "</td><td>");
    }
    size_t key_from = strlen(FIBERS_PREFIX) + name_len + 1;
    if (key_from < l->path_len) {
        put_str(w, "<b>");
        put_html(w, l->path + key_from, l->path_len - key_from);
        put_str(w, "</b>=");
    }
    put_html(w, l->value, l->value_len);
    put_str(w, " ");
}

static void page_top(const struct snapshot *s, struct writer *w) {
    unsigned long long sec = s->uptime_ms / 1000;
    put_str(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Nexus</title>\n"
               "<style>body{font-family:monospace;margin:1em 2em}table{border-collapse:collapse}"
               "td,th{border:1px solid #bbb;padding:2px 8px;text-align:left}.warn{color:#b00}</style>\n"
               "</head><body>\n<h1>Nexus</h1>\n<p>Uptime: ");
    put_u64(w, sec / 86400);
    put_str(w, "d ");
    put_2digits(w, sec / 3600 % 24);
    put_char(w, ':');
    put_2digits(w, sec / 60 % 60);
    put_char(w, ':');
    put_2digits(w, sec % 60);
    put_str(w, " (");
    put_u64(w, s->uptime_ms);
    put_str(w, " ms)</p>\n");
    if (s->list_status < 0) {
        put_str(w, "<p class=\"warn\">System tree unavailable (error -");
        put_u64(w, (unsigned long long)-s->list_status);
        put_str(w, ").</p>\n");
    }
    if (s->truncated)
        put_str(w, "<p class=\"warn\">System tree cut to its first 64 KiB.</p>\n");
}

#define TABLE_END "</table>\n"
#define NONE_ROW "<tr><td colspan=\"2\"><i>none</i></td></tr>\n"

static const struct section status_sections[] = {
    {page_top, NULL, NULL, NULL, NULL, NULL, NULL},
    {NULL, "<h2>Network</h2>\n<table>\n", is_lease_key, row_path_value, NULL,
     "<tr><td colspan=\"2\"><i>no lease</i></td></tr>\n", TABLE_END},
    {NULL, "<h2>Fibers</h2>\n<table>\n", is_fiber_key, row_fiber, "</td></tr>\n", NONE_ROW, TABLE_END},
    {NULL, "<h2>NetSwitch counters</h2>\n<table>\n", is_switch_counter, row_switch_key, NULL, NONE_ROW,
     TABLE_END},
    {NULL, "<h2>Ring fill levels</h2>\n<table>\n", is_ring_key, row_switch_key, NULL, NONE_ROW, TABLE_END},
    {NULL, "<h2>/Bus</h2>\n<table>\n", any_line, row_path_value, NULL, NONE_ROW,
     TABLE_END "</body></html>\n"},
};

static void json_top(const struct snapshot *s, struct writer *w) {
    put_str(w, "{\"uptime_ms\": ");
    put_u64(w, s->uptime_ms);
    put_str(w, ", \"bus\": {");
}

static void row_json(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    put_str(w, prev ? ",\n  " : "\n  ");
    put_json_string(w, l->path, l->path_len);
    put_str(w, ": ");
    put_json_string(w, l->value, l->value_len);
}

static const struct section json_sections[] = {
    {json_top, NULL, any_line, row_json, "\n", NULL, "}}\n"},
};

static const struct document status_page = {"text/html; charset=utf-8", status_sections,
                                            sizeof status_sections / sizeof status_sections[0]};
static const struct document bus_json = {"application/json", json_sections,
                                         sizeof json_sections / sizeof json_sections[0]};

/* ---- connections ---- */

enum body_kind { BODY_NONE, BODY_BYTES, BODY_ECHO, BODY_DOCUMENT };

/* The response body still being produced. */
struct body {
    enum body_kind kind;
    unsigned long long left;   /* bytes still to produce */
    unsigned long long offset; /* BODY_BYTES: position in the pattern stream */
    const struct document *doc;
    struct snapshot *snap;
    struct doc_cursor cursor; /* the piece being copied ... */
    size_t frag_off;          /* ... and how much of it already was */
};

struct conn {
    int fd; /* -1: free slot */
    bool readable, writable; /* worth calling recv/send without waiting for poll */
    bool run_again;          /* has work left that needs no readiness */
    bool broken;             /* an I/O error: close at once */
    bool close_after;        /* no further request: close once this response is out */
    bool peer_closed;        /* recv saw end of stream */
    bool lingering;          /* FIN sent; draining until the peer closes */
    bool unparsed_lines;     /* input may hold a complete line not yet parsed */
    bool head_only;          /* the current request is HEAD */
    bool http10_keep_alive;  /* HTTP/1.0 client asked for keep-alive: say yes explicitly */
    short revents;
    unsigned long long last_active_ms, linger_until_ms;
    size_t in_pos, in_end;   /* unconsumed input: in[in_pos, in_end) */
    size_t out_pos, out_end; /* unsent output: out[out_pos, out_end) */
    struct body body;
    char in[IN_CAP];
    char out[OUT_CAP];
};

static struct conn conns[MAX_CONNS];
static unsigned char pattern[PATTERN_LEN];
static unsigned long long now_ms;
static unsigned long long accept_paused_until_ms;

static bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

static unsigned long long min_u64(unsigned long long a, unsigned long long b) { return a < b ? a : b; }

static void fill_pattern(void) {
    for (size_t i = 0; i < PATTERN_LEN; i++)
        pattern[i] = (unsigned char)(i % PATTERN_PERIOD);
}

static void conn_open(struct conn *c, int fd) {
    memset(c, 0, offsetof(struct conn, in)); /* the buffers need no clearing */
    c->fd = fd;
    c->readable = c->writable = c->run_again = true; /* a request may already be waiting */
    c->last_active_ms = now_ms;
}

static void body_end(struct conn *c) {
    if (c->body.kind == BODY_DOCUMENT)
        snapshot_release(c->body.snap);
    c->body.kind = BODY_NONE;
    c->unparsed_lines = c->in_end > c->in_pos; /* a pipelined request may be waiting */
}

static void conn_close(struct conn *c) {
    body_end(c);
    close(c->fd);
    c->fd = -1;
}

static size_t out_room(const struct conn *c) { return OUT_CAP - c->out_end; }

static void out_compact(struct conn *c) {
    if (c->out_pos == 0)
        return;
    memmove(c->out, c->out + c->out_pos, c->out_end - c->out_pos);
    c->out_end -= c->out_pos;
    c->out_pos = 0;
}

static void out_put(struct conn *c, const char *s, size_t n) {
    struct writer w = {c->out + c->out_end, out_room(c), 0};
    put_bytes(&w, s, n);
    c->out_end += w.len;
}

/* recv that folds the non-blocking outcomes into connection state; returns bytes read. */
static size_t recv_some(struct conn *c, char *buf, size_t cap) {
    for (;;) {
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n > 0) {
            c->last_active_ms = now_ms;
            if ((size_t)n < cap)
                c->readable = false; /* drained for now; poll says when more comes */
            return (size_t)n;
        }
        c->readable = false;
        if (n == 0)
            c->peer_closed = true;
        else if (errno == EINTR)
            continue;
        else if (!would_block(errno))
            c->broken = true;
        return 0;
    }
}

/* ---- responses ---- */

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},           {200, "OK"},
    {400, "Bad Request"},        {404, "Not Found"},
    {405, "Method Not Allowed"}, {411, "Length Required"},
    {413, "Content Too Large"},  {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"}, {501, "Not Implemented"},
    {505, "HTTP Version Not Supported"},
};

static const char *reason_phrase(int status) {
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

/* Queues a response head; close_after must already say whether this is the last response. */
static void write_head(struct conn *c, int status, const char *type, unsigned long long length, const char *allow) {
    struct writer w = {c->out + c->out_end, out_room(c), 0};
    put_str(&w, "HTTP/1.1 ");
    put_u64(&w, (unsigned long long)status);
    put_char(&w, ' ');
    put_str(&w, reason_phrase(status));
    put_str(&w, "\r\nServer: nexus-httpd\r\n");
    if (type) {
        put_str(&w, "Content-Type: ");
        put_str(&w, type);
        put_str(&w, "\r\n");
    }
    put_str(&w, "Content-Length: ");
    put_u64(&w, length);
    put_str(&w, "\r\n");
    if (allow) {
        put_str(&w, "Allow: ");
        put_str(&w, allow);
        put_str(&w, "\r\n");
    }
    if (c->close_after)
        put_str(&w, "Connection: close\r\n");
    else if (c->http10_keep_alive)
        put_str(&w, "Connection: keep-alive\r\n");
    put_str(&w, "\r\n");
    c->out_end += w.len;
}

/* An error answer with a one-line text body. must_close: the rest of the input can no longer
 * be trusted to start at a request boundary. */
static void respond_error(struct conn *c, int status, const char *detail, const char *allow, bool must_close) {
    char text[160];
    struct writer w = {text, sizeof text, 0};
    put_u64(&w, (unsigned long long)status);
    put_char(&w, ' ');
    put_str(&w, reason_phrase(status));
    if (detail) {
        put_str(&w, ": ");
        put_str(&w, detail);
    }
    put_char(&w, '\n');
    c->close_after |= must_close;
    write_head(c, status, "text/plain; charset=utf-8", w.len, allow);
    if (!c->head_only)
        out_put(c, text, w.len);
}

/* ---- routes ---- */

struct request_ctx {
    const struct http_request *req;
    const char *arg;            /* the path past a prefix route's path */
    size_t arg_len;
    const struct document *doc; /* the route's document, for document routes */
    bool has_body;              /* the request carries a body this route will not read */
};

/* Digits only, no sign, value <= max. */
static bool parse_decimal(const char *s, size_t n, unsigned long long max, unsigned long long *out) {
    unsigned long long v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long long)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static void serve_document(struct conn *c, const struct request_ctx *x) {
    struct snapshot *s = snapshot_acquire();
    unsigned long long len = document_length(x->doc, s);
    c->close_after |= x->has_body;
    write_head(c, 200, x->doc->content_type, len, NULL);
    if (c->head_only || len == 0) {
        snapshot_release(s);
        return;
    }
    c->body = (struct body){.kind = BODY_DOCUMENT, .left = len, .doc = x->doc, .snap = s,
                            .cursor = {0, STAGE_OPEN, 0, NO_LINE}};
}

static void serve_bytes(struct conn *c, const struct request_ctx *x) {
    unsigned long long n;
    if (!parse_decimal(x->arg, x->arg_len, BYTES_MAX, &n)) {
        respond_error(c, 400, "/bytes/N takes a decimal N from 0 to 2^40", NULL, x->has_body);
        return;
    }
    c->close_after |= x->has_body;
    write_head(c, 200, "application/octet-stream", n, NULL);
    if (!c->head_only && n > 0)
        c->body = (struct body){.kind = BODY_BYTES, .left = n};
}

static void serve_echo(struct conn *c, const struct request_ctx *x) {
    int64_t length = x->req->content_length;
    if (length == HTTP_NO_CONTENT_LENGTH) {
        respond_error(c, 411, "POST /echo needs a Content-Length", NULL, true);
        return;
    }
    if ((unsigned long long)length > ECHO_MAX) {
        respond_error(c, 413, "POST /echo takes at most 64 MiB", NULL, true);
        return;
    }
    if (x->req->expect_continue && x->req->version_minor >= 1 && length > 0)
        out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    write_head(c, 200, "application/octet-stream", (unsigned long long)length, NULL);
    if (length > 0)
        c->body = (struct body){.kind = BODY_ECHO, .left = (unsigned long long)length};
}

enum { M_GET = 1u << HTTP_GET, M_HEAD = 1u << HTTP_HEAD, M_POST = 1u << HTTP_POST };

static const struct route {
    const char *path;
    bool is_prefix; /* path + argument, like /bytes/N */
    unsigned methods;
    const char *allow;
    void (*serve)(struct conn *, const struct request_ctx *);
    const struct document *doc;
} routes[] = {
    {"/", false, M_GET | M_HEAD, "GET, HEAD", serve_document, &status_page},
    {"/bus.json", false, M_GET | M_HEAD, "GET, HEAD", serve_document, &bus_json},
    {"/bytes/", true, M_GET | M_HEAD, "GET, HEAD", serve_bytes, NULL},
    {"/echo", false, M_POST, "POST", serve_echo, NULL},
};

static const struct route *find_route(const char *path, size_t len, struct request_ctx *x) {
    if (len == 0) { /* absolute-form target without a path */
        path = "/";
        len = 1;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t k = strlen(routes[i].path);
        bool match = routes[i].is_prefix ? len >= k && !memcmp(path, routes[i].path, k)
                                         : len == k && !memcmp(path, routes[i].path, k);
        if (match) {
            x->arg = path + k;
            x->arg_len = len - k;
            x->doc = routes[i].doc;
            return &routes[i];
        }
    }
    return NULL;
}

static void dispatch(struct conn *c, const char *head, const struct http_request *req) {
    struct request_ctx x = {req, NULL, 0, NULL, req->content_length > 0};
    c->close_after = !req->keep_alive;
    c->http10_keep_alive = req->version_minor == 0 && req->keep_alive;
    c->head_only = req->method == HTTP_HEAD;
    if (req->method == HTTP_METHOD_OTHER) {
        respond_error(c, 501, "unknown method", NULL, x.has_body);
        return;
    }
    const struct route *r = find_route(head + req->path.off, req->path.len, &x);
    if (!r)
        respond_error(c, 404, NULL, NULL, x.has_body);
    else if (!(r->methods & (1u << req->method)))
        respond_error(c, 405, NULL, r->allow, x.has_body);
    else
        r->serve(c, &x);
}

/* Parses and answers the next buffered request, if one is complete and there is room. */
static bool start_next_request(struct conn *c) {
    static struct http_request req; /* large-ish; single-threaded, so static spares the stack */
    if (c->close_after || !c->unparsed_lines || OUT_CAP - c->out_end < HEAD_ROOM)
        return false;
    const char *head = c->in + c->in_pos;
    switch (http_parse_request(head, c->in_end - c->in_pos, &req)) {
    case HTTP_PARSE_NEED_MORE:
        c->unparsed_lines = false;
        return false;
    case HTTP_PARSE_ERROR:
        c->head_only = c->http10_keep_alive = false;
        respond_error(c, req.error_status, req.error_detail, NULL, true);
        return true;
    case HTTP_PARSE_OK:
        break;
    }
    c->in_pos += req.head_len; /* first, so an echo body starts at in_pos */
    c->unparsed_lines = c->in_end > c->in_pos;
    dispatch(c, head, &req);
    return true;
}

/* ---- producing and moving bytes ---- */

/* Small /bytes remainders are copied behind the head so they leave in one send; larger ones
 * go straight from the pattern table (flush_output). */
static bool produce_bytes(struct conn *c) {
    struct body *b = &c->body;
    if (b->left == 0 || b->left > out_room(c))
        return false;
    while (b->left > 0) {
        size_t at = (size_t)(b->offset % PATTERN_PERIOD);
        size_t n = (size_t)min_u64(b->left, PATTERN_LEN - at);
        memcpy(c->out + c->out_end, pattern + at, n);
        c->out_end += n;
        b->offset += n;
        b->left -= n;
    }
    return true;
}

/* Moves request body bytes to the output, never more than the output can take, so a client
 * that does not read gets backpressure instead of growing our buffers. */
static bool produce_echo(struct conn *c) {
    struct body *b = &c->body;
    bool progress = false;
    while (b->left > 0 && out_room(c) > 0) {
        size_t n;
        if (c->in_end > c->in_pos) { /* body bytes that arrived with the head */
            n = (size_t)min_u64(min_u64(c->in_end - c->in_pos, b->left), out_room(c));
            memcpy(c->out + c->out_end, c->in + c->in_pos, n);
            c->in_pos += n;
        } else if (c->readable) {
            n = recv_some(c, c->out + c->out_end, (size_t)min_u64(out_room(c), b->left));
            if (n == 0) {
                c->broken |= c->peer_closed; /* the promised length can no longer be met */
                break;
            }
        } else {
            break;
        }
        c->out_end += n;
        b->left -= n;
        progress = true;
    }
    if (c->in_pos == c->in_end)
        c->in_pos = c->in_end = 0;
    return progress;
}

static bool produce_document(struct conn *c) {
    struct body *b = &c->body;
    bool progress = false;
    while (b->left > 0 && out_room(c) > 0) {
        struct doc_cursor next = b->cursor;
        size_t n = document_next(b->doc, b->snap, &next);
        if (n <= b->frag_off) { /* shorter than measured: never expected, but never hang */
            c->broken = true;
            break;
        }
        size_t k = (size_t)min_u64(min_u64(n - b->frag_off, out_room(c)), b->left);
        memcpy(c->out + c->out_end, frag_buf + b->frag_off, k);
        c->out_end += k;
        b->left -= k;
        progress = true;
        if (b->frag_off + k == n) {
            b->cursor = next;
            b->frag_off = 0;
        } else {
            b->frag_off += k;
        }
    }
    return progress;
}

/* Fills the output from the current body, or starts the next request once the body is done. */
static bool produce(struct conn *c) {
    out_compact(c);
    switch (c->body.kind) {
    case BODY_BYTES: return produce_bytes(c);
    case BODY_ECHO: return produce_echo(c);
    case BODY_DOCUMENT: return produce_document(c);
    case BODY_NONE: break;
    }
    return start_next_request(c);
}

/* Sends queued output, then large /bytes bodies straight from the pattern. */
static bool flush_output(struct conn *c, size_t *budget) {
    bool progress = false;
    while (c->writable && *budget > 0) {
        const char *p;
        size_t n;
        bool direct = c->out_end == c->out_pos;
        if (!direct) {
            p = c->out + c->out_pos;
            n = c->out_end - c->out_pos;
        } else if (c->body.kind == BODY_BYTES && c->body.left > 0) {
            size_t at = (size_t)(c->body.offset % PATTERN_PERIOD);
            p = (const char *)pattern + at;
            n = (size_t)min_u64(c->body.left, PATTERN_LEN - at);
        } else {
            break;
        }
        n = n < *budget ? n : *budget;
        ssize_t k = send(c->fd, p, n, SEND_FLAGS);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            c->writable = false;
            c->broken |= !would_block(errno);
            break;
        }
        if (direct) {
            c->body.offset += (size_t)k;
            c->body.left -= (size_t)k;
        } else {
            c->out_pos += (size_t)k;
        }
        *budget -= (size_t)k;
        if ((size_t)k < n)
            c->writable = false; /* the socket buffer is full; wait for POLLOUT */
        if (k > 0) {
            c->last_active_ms = now_ms;
            progress = true;
        }
    }
    if (c->out_pos == c->out_end)
        c->out_pos = c->out_end = 0;
    return progress;
}

/* Reads more of the next request head, if one is wanted. */
static bool read_request_bytes(struct conn *c) {
    if (c->body.kind != BODY_NONE || c->close_after || c->peer_closed || c->unparsed_lines || !c->readable)
        return false;
    if (c->in_pos > 0) {
        memmove(c->in, c->in + c->in_pos, c->in_end - c->in_pos);
        c->in_end -= c->in_pos;
        c->in_pos = 0;
    }
    if (c->in_end == IN_CAP)
        return false;
    size_t n = recv_some(c, c->in + c->in_end, IN_CAP - c->in_end);
    if (n > 0 && (memchr(c->in + c->in_end, '\n', n) || c->in_end + n == IN_CAP))
        c->unparsed_lines = true; /* a full buffer must be parsed too: it is a 431 */
    c->in_end += n;
    return n > 0 || c->peer_closed;
}

static bool output_pending(const struct conn *c) {
    return c->out_end > c->out_pos || (c->body.kind == BODY_BYTES && c->body.left > 0);
}

/* With nothing more to send on a closing connection: FIN, then drain until the peer closes,
 * so unread request bytes do not make our TCP answer with a reset that could destroy the
 * response before the client reads it. */
static void begin_close_if_done(struct conn *c) {
    if (!c->close_after || c->body.kind != BODY_NONE || output_pending(c))
        return;
    shutdown(c->fd, SHUT_WR);
    if (c->peer_closed) {
        conn_close(c);
        return;
    }
    c->lingering = true;
    c->readable = true;
    c->linger_until_ms = now_ms + LINGER_MS;
}

static void linger_drain(struct conn *c) {
    while (c->readable && !c->peer_closed && !c->broken)
        recv_some(c, c->in, IN_CAP);
    if (c->peer_closed || c->broken)
        conn_close(c);
}

/* Does all the work the connection allows right now without blocking. */
static void conn_step(struct conn *c) {
    if (c->revents & POLLNVAL) {
        conn_close(c);
        return;
    }
    c->readable |= (c->revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    c->writable |= (c->revents & (POLLOUT | POLLHUP | POLLERR)) != 0;
    c->revents = 0;
    c->run_again = false;
    size_t send_budget = STEP_SEND_BUDGET;
    for (int round = 0; round < STEP_ROUNDS; round++) {
        if (c->lingering) {
            linger_drain(c);
            return;
        }
        bool progress = flush_output(c, &send_budget);
        progress |= produce(c);
        progress |= read_request_bytes(c);
        if (c->body.kind != BODY_NONE && c->body.left == 0)
            body_end(c);
        if (c->broken) {
            conn_close(c);
            return;
        }
        if (c->peer_closed && c->body.kind == BODY_NONE && !c->unparsed_lines)
            c->close_after = true; /* nothing complete left to answer */
        begin_close_if_done(c);
        if (c->fd < 0)
            return;
        if (!progress && !c->lingering)
            return;
    }
    c->run_again = true;
}

static short conn_interest(const struct conn *c) {
    if (c->lingering)
        return POLLIN;
    short events = output_pending(c) || (c->body.kind == BODY_DOCUMENT && c->body.left > 0) ? POLLOUT : 0;
    bool wants_body = c->body.kind == BODY_ECHO && c->body.left > 0 && c->in_pos == c->in_end &&
                      out_room(c) > 0;
    bool wants_head = c->body.kind == BODY_NONE && !c->close_after && !c->unparsed_lines &&
                      c->in_end - c->in_pos < IN_CAP;
    if (!c->peer_closed && (wants_body || wants_head))
        events |= POLLIN;
    return events ? events : POLLIN; /* never poll for nothing: errors still need noticing */
}

/* ---- listener and main loop ---- */

struct options {
    unsigned port;
    uint32_t bind_addr; /* host byte order */
};

static bool set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* One attempt; on failure returns -1 with errno set and *step naming the call that failed. */
static int open_listener(const struct options *o, const char **step) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        *step = "socket";
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* best effort */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o->port);
    addr.sin_addr.s_addr = htonl(o->bind_addr);
    if (bind(fd, (const struct sockaddr *)&addr, sizeof addr) < 0)
        *step = "bind";
    else if (listen(fd, LISTEN_BACKLOG) < 0)
        *step = "listen";
    else if (!set_nonblocking(fd))
        *step = "fcntl";
    else
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* Retries every RETRY_MS until the network service lets us listen; says so once per distinct
 * failure rather than twice a second. */
static int listen_until_up(const struct options *o) {
    const char *last_step = NULL;
    int last_errno = 0;
    for (;;) {
        const char *step = NULL;
        int fd = open_listener(o, &step);
        if (fd >= 0)
            return fd;
        if (step != last_step || errno != last_errno) {
            printf("httpd: %s failed: errno %d; retrying every %d ms\n", step, errno, RETRY_MS);
            fflush(stdout);
            last_step = step;
            last_errno = errno;
        }
        poll(NULL, 0, RETRY_MS);
    }
}

static struct conn *free_slot(void) {
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd < 0)
            return &conns[i];
    return NULL;
}

/* Failures that concern one pending connection or a passing shortage, not the listener. */
static bool accept_error_is_transient(int e) {
#ifdef ECONNABORTED
    if (e == ECONNABORTED)
        return true;
#endif
#ifdef EMFILE
    if (e == EMFILE)
        return true;
#endif
#ifdef ENFILE
    if (e == ENFILE)
        return true;
#endif
#ifdef ENOBUFS
    if (e == ENOBUFS)
        return true;
#endif
#ifdef ENOMEM
    if (e == ENOMEM)
        return true;
#endif
    return false;
}

/* Accepts while slots are free; false when the listener itself has failed. */
static bool accept_connections(int listener) {
    struct conn *c;
    while ((c = free_slot()) != NULL) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        int fd = accept(listener, (struct sockaddr *)&peer, &peer_len);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (would_block(errno))
                return true;
            if (accept_error_is_transient(errno)) {
                accept_paused_until_ms = now_ms + ACCEPT_BACKOFF_MS;
                return true;
            }
            printf("httpd: accept failed: errno %d\n", errno);
            return false;
        }
        if (!set_nonblocking(fd)) {
            close(fd);
            continue;
        }
        /* A response leaves in a few sends (head, pieces of a page); Nagle would hold each
         * later piece until the client's delayed ACK of the first. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_open(c, fd);
    }
    return true;
}

static void expire_connections(void) {
    for (size_t i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->fd < 0)
            continue;
        if (c->lingering ? now_ms >= c->linger_until_ms : now_ms - c->last_active_ms >= IDLE_TIMEOUT_MS)
            conn_close(c);
    }
}

static int poll_timeout_ms(bool accept_paused) {
    unsigned long long soonest = accept_paused ? accept_paused_until_ms : ~0ull;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        const struct conn *c = &conns[i];
        if (c->fd < 0)
            continue;
        if (c->run_again)
            return 0;
        soonest = min_u64(soonest, c->lingering ? c->linger_until_ms : c->last_active_ms + IDLE_TIMEOUT_MS);
    }
    if (soonest == ~0ull)
        return -1;
    return soonest <= now_ms ? 0 : (int)min_u64(soonest - now_ms, IDLE_TIMEOUT_MS);
}

/* Serves until the listener fails; then the caller rebuilds everything. */
static void serve(int listener) {
    static struct pollfd fds[1 + MAX_CONNS];
    static struct conn *polled[1 + MAX_CONNS];
    for (;;) {
        now_ms = sysinfo_uptime_ms();
        bool slot_free = free_slot() != NULL;
        bool paused = now_ms < accept_paused_until_ms;
        nfds_t n = 0;
        /* Full or paused: keep the listener in the set without POLLIN, to still see it fail. */
        fds[n++] = (struct pollfd){.fd = listener, .events = slot_free && !paused ? POLLIN : 0};
        for (size_t i = 0; i < MAX_CONNS; i++) {
            if (conns[i].fd < 0)
                continue;
            polled[n] = &conns[i];
            fds[n++] = (struct pollfd){.fd = conns[i].fd, .events = conn_interest(&conns[i])};
        }
        if (poll(fds, n, poll_timeout_ms(slot_free && paused)) < 0) {
            if (errno == EINTR)
                continue;
            printf("httpd: poll failed: errno %d\n", errno);
            return;
        }
        now_ms = sysinfo_uptime_ms();
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            printf("httpd: listener failed (poll events 0x%x)\n", (unsigned)fds[0].revents);
            return;
        }
        for (nfds_t i = 1; i < n; i++)
            polled[i]->revents = fds[i].revents;
        if ((fds[0].revents & POLLIN) && !accept_connections(listener))
            return;
        for (size_t i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd >= 0 && (conns[i].revents || conns[i].run_again))
                conn_step(&conns[i]);
        expire_connections();
    }
}

static void drop_everything(int listener) {
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd >= 0)
            conn_close(&conns[i]);
    close(listener);
}

/* Dotted quad, each part 0..255. */
static bool parse_ipv4(const char *s, uint32_t *out) {
    uint32_t addr = 0;
    for (int part = 0; part < 4; part++) {
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        unsigned long long v;
        if (n > 3 || !parse_decimal(s, n, 255, &v) || s[n] != (part < 3 ? '.' : '\0'))
            return false;
        addr = addr << 8 | (uint32_t)v;
        s += n + 1;
    }
    *out = addr;
    return true;
}

static bool parse_options(int argc, char **argv, struct options *o) {
    unsigned long long port = 80;
    o->bind_addr = INADDR_ANY;
    if (argc > 3)
        return false;
    if (argc > 1 && !parse_decimal(argv[1], strlen(argv[1]), 65535, &port))
        return false;
    if (argc > 2 && !parse_ipv4(argv[2], &o->bind_addr))
        return false;
    o->port = (unsigned)port;
    return true;
}

int main(int argc, char **argv) {
    struct options opt;
    if (!parse_options(argc, argv, &opt)) {
        fprintf(stderr, "usage: httpd [port [bind-address]]\n");
        return 2;
    }
    fill_pattern();
    for (size_t i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    for (;;) {
        int listener = listen_until_up(&opt);
        printf("httpd: listening on port %u\n", opt.port);
        fflush(stdout);
        serve(listener);
        drop_everything(listener);
        printf("httpd: network gone; rebuilding the listener\n");
        fflush(stdout);
        poll(NULL, 0, REBUILD_PAUSE_MS);
    }
}
