/*
 * Connection I/O: one client connection of the server, from its first byte to its close.
 *
 * Each connection owns an 8 KiB input buffer (one request head at most) and a 4 KiB output
 * buffer. Response bodies are produced into the output buffer as the socket drains, so no
 * response is ever held whole; /bytes bodies go straight from a read-only pattern table.
 * Sockets are non-blocking: conn_step does whatever the connection allows without waiting and
 * conn_interest says what to poll for next. What a request means is routes.h's business.
 */
#ifndef NEXUS_HTTPD_CONN_H
#define NEXUS_HTTPD_CONN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "document.h"
#include "http_parse.h"
#include "snapshot.h"

enum {
    IN_CAP = HTTP_HEAD_MAX, /* a request head must fit whole */
    OUT_CAP = 4096,
    PATTERN_PERIOD = 251, /* /bytes/N: byte i is i % PATTERN_PERIOD */
};

/* Every httpd timeout, in one place (README.md, "What you see"). A connection waiting for a
 * request head, new or kept alive after a response, gets HEAD_TIMEOUT_MS to send all of it:
 * a client that sends half a head and stops (slowloris) or idles holds its slot no longer. */
#define HEAD_TIMEOUT_MS 10000ull /* from accept, or the end of the last response, to a whole head */
#define IDLE_TIMEOUT_MS 60000ull /* a response under way with no byte moved: the peer is gone */
#define LINGER_MS 5000ull        /* after our FIN, how long to drain the peer before close */

enum body_kind { BODY_NONE, BODY_BYTES, BODY_ECHO, BODY_DOCUMENT };

/* The response body still being produced. */
struct body {
    enum body_kind kind;
    unsigned long long left;   /* bytes still to produce */
    unsigned long long offset; /* BODY_BYTES: position in the pattern stream */
    const struct document *doc;
    struct snapshot *snap;    /* BODY_DOCUMENT: released when the body ends */
    const struct rendering *rendering; /* BODY_DOCUMENT rendered whole: sent straight from it */
    struct doc_cursor cursor; /* the piece being copied ... */
    size_t frag_off;          /* ... and how much of it already was */
};

struct conn {
    int fd; /* -1: free slot */
    bool readable, writable; /* worth calling recv/send without waiting for poll */
    bool run_again;          /* has work left that needs no readiness */
    bool broken;             /* an I/O error: close at once */
    bool close_after;        /* no further request: close once this response is out */
    bool must_linger;        /* ... and input we did not read may follow: drain it after our FIN */
    bool peer_closed;        /* recv saw end of stream */
    bool lingering;          /* FIN sent; draining until the peer closes */
    bool unparsed_lines;     /* input may hold a complete line not yet parsed */
    bool head_only;          /* the current request is HEAD */
    bool http10_keep_alive;  /* HTTP/1.0 client asked for keep-alive: say yes explicitly */
    bool unread;             /* opened and not stepped yet: its request may be waiting unread */
    short revents;           /* poll's answer for fd, for the next conn_step */
    unsigned long long last_active_ms, linger_until_ms;
    unsigned long long head_wait_since_ms; /* when it began waiting for the current request head */
    size_t in_pos, in_end;   /* unconsumed input: in[in_pos, in_end) */
    size_t out_pos, out_end; /* unsent output: out[out_pos, out_end) */
    struct body body;
    char in[IN_CAP];
    char out[OUT_CAP];
};

/* The server loop's clock (sysinfo_uptime_ms), read once per wakeup; connections stamp their
 * activity with it. */
extern unsigned long long now_ms;

/* Once, before the first conn_open: builds the /bytes pattern table. */
void conn_setup(void);

/* Takes over a connected non-blocking socket; a request may already be waiting on it. */
void conn_open(struct conn *c, int fd);
void conn_close(struct conn *c); /* closes the socket; fd becomes -1 */

/* Does all the work the connection allows right now without blocking (c->revents says what
 * poll saw); may close it. run_again is set when it stopped with work left. */
void conn_step(struct conn *c);

/* Waiting for a request head, with no response under way: a slot httpd may take back. */
bool conn_awaiting_head(const struct conn *c);
/* When the connection is to be closed if nothing changes (the timeouts above). */
unsigned long long conn_deadline_ms(const struct conn *c);

/* The poll events the connection waits for. */
short conn_interest(const struct conn *c);

/* Free space at the end of the output buffer, and appending there (cut to fit). */
size_t conn_out_room(const struct conn *c);
void conn_out_put(struct conn *c, const char *s, size_t n);
/* Shifts the queued output so that it ends at the alignment modulo 8 of `next`, the body that
 * follows it in the same send; a no-op unless the queue starts at the buffer's start. */
void conn_out_align_end(struct conn *c, const void *next);

static inline bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

static inline unsigned long long min_u64(unsigned long long a, unsigned long long b) { return a < b ? a : b; }

#endif
