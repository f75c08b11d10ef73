/* Connection I/O (conn.h): reading request heads, producing response bodies into the output
 * buffer, sending, and closing without losing the last response. */
#include "conn.h"

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "routes.h"

enum {
    HEAD_ROOM = 1024, /* free output space needed before starting a response */
    STEP_ROUNDS = 16, /* work per connection per wakeup, so no client starves the rest */
    STEP_SEND_BUDGET = 256 * 1024,
    /* 32 KiB: a /bytes body goes out in sends of up to this. 64 KiB sends were 11-18 % faster
     * in bulk while a send's rest rode behind its chunks and copied 0.4-0.65 of their bytes
     * again (docs/ion.md, "A send buffer past the window"); since a socket waits for its own
     * chunks ("Waiting for its own chunks") they measure the same as 32 KiB. */
    PATTERN_LEN = PATTERN_PERIOD * 128,
};

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL /* a peer reset must be an error code, not SIGPIPE */
#else
#define SEND_FLAGS 0
#endif
/* The send that carries a closing connection's last bytes also ends the stream, where the C
 * library can say so (libnexus, the BSDs): the FIN leaves with the response instead of a round
 * trip later, before the client, which closes once it has the whole response, sends its own.
 * Closing first keeps QEMU's user network from holding the connection in TIME_WAIT for 10 s
 * (make bench's Connection: close figure fell by half as thousands piled up there). The close
 * that follows stays as it is: a shutdown after the FIN is harmless. */
#ifdef MSG_EOF
#define LAST_SEND_FLAGS MSG_EOF
#else
#define LAST_SEND_FLAGS 0
#endif

unsigned long long now_ms;
static unsigned char pattern[PATTERN_LEN];

void conn_setup(void) {
    for (size_t i = 0; i < PATTERN_LEN; i++)
        pattern[i] = (unsigned char)(i % PATTERN_PERIOD);
}

void conn_open(struct conn *c, int fd) {
    memset(c, 0, offsetof(struct conn, in)); /* the buffers need no clearing */
    c->fd = fd;
    c->readable = c->writable = c->run_again = c->unread = true; /* a request may already be waiting */
    c->last_active_ms = c->head_wait_since_ms = now_ms;
}

static void body_end(struct conn *c) {
    if (c->body.kind == BODY_DOCUMENT)
        snapshot_release(c->body.snap);
    c->body.kind = BODY_NONE;
    c->head_wait_since_ms = now_ms; /* the next request's head is due from now */
    c->unparsed_lines = c->in_end > c->in_pos; /* a pipelined request may be waiting */
}

void conn_close(struct conn *c) {
    body_end(c);
    close(c->fd);
    c->fd = -1;
}

size_t conn_out_room(const struct conn *c) { return OUT_CAP - c->out_end; }

static void out_compact(struct conn *c) {
    if (c->out_pos == 0)
        return;
    memmove(c->out, c->out + c->out_pos, c->out_end - c->out_pos);
    c->out_end -= c->out_pos;
    c->out_pos = 0;
}

void conn_out_put(struct conn *c, const char *s, size_t n) {
    struct writer w = {c->out + c->out_end, conn_out_room(c), 0};
    put_bytes(&w, s, n);
    c->out_end += w.len;
}

/* libnexus copies a send into its send area at the alignment of the send's first byte, so a
 * body sent straight from elsewhere behind a queued head lands at the alignment where the head
 * ends; picolibc's memcpy moves whole words only between equally aligned addresses, else byte
 * by byte. Shifting the head (a few hundred bytes, once) lets the body's first chunk, nearly a
 * segment of the status page, be copied by words. */
void conn_out_align_end(struct conn *c, const void *next) {
    size_t shift = ((uintptr_t)next - (uintptr_t)(c->out + c->out_end)) & 7;
    if (shift == 0 || c->out_pos != 0 || c->out_end + shift > OUT_CAP)
        return;
    memmove(c->out + shift, c->out, c->out_end);
    c->out_pos = shift;
    c->out_end += shift;
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
        route_refused_head(c, &req);
        return true;
    case HTTP_PARSE_OK:
        break;
    }
    c->in_pos += req.head_len; /* first, so an echo body starts at in_pos */
    c->unparsed_lines = c->in_end > c->in_pos;
    route_request(c, head, &req);
    return true;
}

/* Where in the pattern table the stream's byte `offset` can be copied from to dst at dst's own
 * alignment modulo 8: picolibc's memcpy moves whole words only between equally aligned
 * addresses, else byte by byte, and a /bytes body copied behind a head of any length was
 * mostly the latter (about 5,000 instructions per 1 KiB body, in libnexus's copy into the send
 * area: a QEMU TCG plugin counting memcpy's instructions by caller). The table repeats every
 * PATTERN_PERIOD bytes, and as the period is odd each of 8 consecutive repeats starts at
 * another address modulo 8: one of them matches. */
static size_t pattern_aligned_at(unsigned long long offset, const char *dst) {
    size_t at = (size_t)(offset % PATTERN_PERIOD);
    size_t skew = ((uintptr_t)dst - (uintptr_t)(pattern + at)) & 7;
    /* PATTERN_PERIOD * k moves the address by 3k modulo 8 (251 = 3 mod 8), and 3 * 3 = 1. */
    _Static_assert(PATTERN_PERIOD % 8 == 3, "the repeat that matches is 3 * skew modulo 8 on");
    return at + PATTERN_PERIOD * (3 * skew % 8);
}

/* Small /bytes remainders are copied behind the head so they leave in one send; larger ones
 * go straight from the pattern table (flush_output). */
static bool produce_bytes(struct conn *c) {
    struct body *b = &c->body;
    if (b->left == 0 || b->left > conn_out_room(c))
        return false;
    while (b->left > 0) {
        size_t at = pattern_aligned_at(b->offset, c->out + c->out_end);
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
    while (b->left > 0 && conn_out_room(c) > 0) {
        size_t n;
        if (c->in_end > c->in_pos) { /* body bytes that arrived with the head */
            n = (size_t)min_u64(min_u64(c->in_end - c->in_pos, b->left), conn_out_room(c));
            memcpy(c->out + c->out_end, c->in + c->in_pos, n);
            c->in_pos += n;
        } else if (c->readable) {
            n = recv_some(c, c->out + c->out_end, (size_t)min_u64(conn_out_room(c), b->left));
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

/* A document rendered whole needs no producing: flush_output sends it from the rendering. */
static bool produce_document(struct conn *c) {
    struct body *b = &c->body;
    bool progress = false;
    if (b->rendering)
        return false;
    while (b->left > 0 && conn_out_room(c) > 0) {
        struct doc_cursor next = b->cursor;
        const char *piece;
        size_t n = document_next(b->doc, b->snap, &next, &piece);
        if (n <= b->frag_off) { /* shorter than measured: never expected, but never hang */
            c->broken = true;
            break;
        }
        size_t k = (size_t)min_u64(min_u64(n - b->frag_off, conn_out_room(c)), b->left);
        memcpy(c->out + c->out_end, piece + b->frag_off, k);
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

/* The part of the body that goes straight from the pattern or the rendering (none is produced
 * into the output buffer): where it starts and how long it is, 0 for none. */
static size_t direct_body(const struct conn *c, const char **p) {
    const struct body *b = &c->body;
    if (b->left == 0)
        return 0;
    if (b->kind == BODY_BYTES) {
        /* It follows the queued output in one send, which the C library copies into its send
         * area at the first byte's alignment (lib/libnexus/socket.c): it lands where the queue
         * ends, modulo 8. */
        size_t at = pattern_aligned_at(b->offset, c->out + c->out_end);
        *p = (const char *)pattern + at;
        return (size_t)min_u64(b->left, PATTERN_LEN - at);
    }
    if (b->kind == BODY_DOCUMENT && b->rendering) {
        *p = b->rendering->text + (b->rendering->len - b->left);
        return (size_t)b->left;
    }
    return 0;
}

/* Sends the queued output and, behind it, the body that goes straight from the pattern or the
 * rendering, in one call: a head leaves in the same segment as its body, and the page costs one
 * trip to the Membrane instead of two (make bench's profile). */
static bool flush_output(struct conn *c, size_t *budget) {
    bool progress = false;
    while (c->writable && *budget > 0) {
        struct iovec iov[2];
        int parts = 0;
        size_t queued = c->out_end - c->out_pos, direct = 0;
        const char *body = NULL;
        if (queued)
            iov[parts++] = (struct iovec){c->out + c->out_pos, queued};
        if ((direct = direct_body(c, &body)) > 0)
            iov[parts++] = (struct iovec){(void *)body, direct};
        if (parts == 0)
            break;
        size_t n = 0, left = *budget; /* the queue first, then as much of the body as the budget leaves */
        for (int i = 0; i < parts; i++) {
            if (iov[i].iov_len > left)
                iov[i].iov_len = left;
            left -= iov[i].iov_len;
            n += iov[i].iov_len;
        }
        while (iov[parts - 1].iov_len == 0)
            parts--;
        bool last = c->close_after && n == queued + direct && (c->body.kind == BODY_NONE || c->body.left == direct);
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = parts};
        ssize_t k = sendmsg(c->fd, &msg, SEND_FLAGS | (last ? LAST_SEND_FLAGS : 0));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            c->writable = false;
            c->broken |= !would_block(errno);
            break;
        }
        size_t from_queue = (size_t)k < queued ? (size_t)k : queued, from_body = (size_t)k - from_queue;
        c->out_pos += from_queue;
        c->body.offset += from_body;
        c->body.left -= from_body;
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

/* With nothing more to send on a closing connection. When the client asked for the close and
 * nothing it sent waits unread (none buffered here, and a read finds none), close at once: the
 * FIN follows the response, and with nothing unread our TCP has no cause to answer with a
 * reset (nginx decides the same way). Otherwise FIN, then drain until the peer closes, so
 * unread request bytes do not make our TCP answer with a reset that could destroy the
 * response before the client reads it. The quick way spares a Connection: close request a
 * shutdown, a wakeup for the peer's FIN and the read that sees it (make bench's profile). */
static void begin_close_if_done(struct conn *c) {
    if (!c->close_after || c->body.kind != BODY_NONE || output_pending(c))
        return;
    if (!c->must_linger && c->in_pos == c->in_end && !c->peer_closed && !c->broken &&
        recv_some(c, c->in, IN_CAP) == 0 && !c->peer_closed && !c->broken) {
        conn_close(c);
        return;
    }
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
void conn_step(struct conn *c) {
    if (c->revents & POLLNVAL) {
        conn_close(c);
        return;
    }
    c->readable |= (c->revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    c->writable |= (c->revents & (POLLOUT | POLLHUP | POLLERR)) != 0;
    c->revents = 0;
    c->run_again = c->unread = false;
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

bool conn_awaiting_head(const struct conn *c) {
    return !c->lingering && !c->close_after && c->body.kind == BODY_NONE && !output_pending(c);
}

unsigned long long conn_deadline_ms(const struct conn *c) {
    if (c->lingering)
        return c->linger_until_ms;
    unsigned long long idle = c->last_active_ms + IDLE_TIMEOUT_MS;
    return conn_awaiting_head(c) ? min_u64(idle, c->head_wait_since_ms + HEAD_TIMEOUT_MS) : idle;
}

short conn_interest(const struct conn *c) {
    if (c->lingering)
        return POLLIN;
    short events = output_pending(c) || (c->body.kind == BODY_DOCUMENT && c->body.left > 0) ? POLLOUT : 0;
    bool wants_body = c->body.kind == BODY_ECHO && c->body.left > 0 && c->in_pos == c->in_end &&
                      conn_out_room(c) > 0;
    bool wants_head = c->body.kind == BODY_NONE && !c->close_after && !c->unparsed_lines &&
                      c->in_end - c->in_pos < IN_CAP;
    if (!c->peer_closed && (wants_body || wants_head))
        events |= POLLIN;
    return events ? events : POLLIN; /* never poll for nothing: errors still need noticing */
}
