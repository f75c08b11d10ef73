/*
 * UTCP streams checked end to end (utcp_node.h), speaking what the guest's utcpcat and utcpsink
 * agree on (apps/utcpcat/streamsum.h, included as is): the client sends an 8-byte request (the
 * bytes it wants back), then its bytes, a pattern from a seed, and ends its direction; the sink
 * sends the bytes asked for, and once the client's end arrived, a trailer with the count and
 * checksum of what it read, then ends its own. The client checks every byte back against the
 * pattern and the trailer against what it sent.
 *
 * As in the guest's service (utcp/service/sockets.c), one connection is one session carrying
 * one stream, the stream number the address's; a responder's session belongs to the sink if
 * its first stream frame names the sink's stream, and is reset otherwise. Bytes are taken as
 * they arrive (they are only checked), so the core needs no room hook.
 */
#include <string.h>

#include "utcp_node.h"
#include "utcpcat/streamsum.h"

#define CONNS UTCP_NODE_SESSIONS
#define CHUNK 65536
#define STALL_US 30000000ull            /* a client connection without progress: failed, as utcpcat */
#define FIRST_FRAME_WAIT_US 10000000ull /* a responder's session that names no stream: reset */

struct conn {
    bool used, client, ended;
    struct utcp_session *session; /* NULL once it closed */
    uint16_t stream;              /* 0: a responder's session before its first stream frame */
    uint8_t peer[UTCP_CELLID_LEN];
    uint8_t request[STREAMSUM_REQUEST_LEN];
    unsigned request_len;         /* the request's bytes through: sent (client), read (sink) */
    uint64_t to_send, sent, send_state, sent_sum;                   /* the pattern out */
    uint64_t expect, received, received_sum, expect_state, wrong;  /* bytes in (expect: client) */
    uint8_t trailer[STREAMSUM_TRAILER_LEN];
    unsigned trailer_len;         /* received (client), sent (sink) */
    bool fin_in, fin_out;
    const char *failure;          /* why it ended short */
    uint64_t started, connected, progress, ended_at;
    struct utcp_session_stats stats;
};

static struct conn conns[CONNS];
static uint16_t listen_stream; /* 0: no sink */
static uint8_t chunk[CHUNK];

static struct conn *conn_of(const struct utcp_session *s) {
    for (unsigned i = 0; i < CONNS; i++)
        if (conns[i].used && conns[i].session == s)
            return &conns[i];
    return NULL;
}

static struct conn *conn_new(struct utcp_session *s, bool client, uint16_t stream, uint64_t now) {
    for (unsigned i = 0; i < CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->used)
            continue;
        *c = (struct conn){.used = true, .client = client, .session = s, .stream = stream,
                           .sent_sum = STREAMSUM_FNV_START, .received_sum = STREAMSUM_FNV_START,
                           .send_state = client ? STREAMSUM_SEED_OUT : STREAMSUM_SEED_BACK,
                           .expect_state = STREAMSUM_SEED_BACK, .started = now, .progress = now};
        memcpy(c->peer, s->peer, UTCP_CELLID_LEN);
        return c;
    }
    return NULL;
}

static const char *reason_name(int reason) {
    static const char *const names[] = {[UTCP_RESET_CLOSED] = "reset_closed", [UTCP_RESET_ERROR] = "reset_error",
                                        [UTCP_RESET_TIMEOUT] = "timed_out"};
    return reason >= 0 && reason <= UTCP_RESET_TIMEOUT ? names[reason] : "reset";
}

/* ---- the end of a connection: one line each ---- */

static bool client_intact(const struct conn *c) {
    return !c->failure && c->trailer_len == STREAMSUM_TRAILER_LEN && streamsum_get64(c->trailer) == c->sent &&
           streamsum_get64(c->trailer + 8) == c->sent_sum && c->received == c->expect && c->wrong == 0;
}

static void print_end(const struct conn *c) {
    char id[2 * UTCP_CELLID_LEN + 1];
    node_cellid_hex(c->peer, id);
    uint64_t us = c->ended_at - (c->connected ? c->connected : c->started);
    uint64_t kib_s = us ? (c->sent + c->received) * 1000000 / 1024 / us : 0;
    const struct utcp_session_stats *st = &c->stats;
    if (c->client) {
        bool full = c->trailer_len == STREAMSUM_TRAILER_LEN;
        printf("utcp-cat cellid=%s stream=%u sent=%llu sum=%016llx peer_received=%llu peer_sum=%016llx "
               "received=%llu received_sum=%016llx ms=%llu kib_s=%llu",
               id, c->stream, (unsigned long long)c->sent, (unsigned long long)c->sent_sum,
               (unsigned long long)(full ? streamsum_get64(c->trailer) : 0),
               (unsigned long long)(full ? streamsum_get64(c->trailer + 8) : 0), (unsigned long long)c->received,
               (unsigned long long)c->received_sum, (unsigned long long)(us / 1000), (unsigned long long)kib_s);
    } else {
        printf("utcp-sink cellid=%s stream=%u received=%llu sum=%016llx sent=%llu ms=%llu kib_s=%llu", id, c->stream,
               (unsigned long long)c->received, (unsigned long long)c->received_sum, (unsigned long long)c->sent,
               (unsigned long long)(us / 1000), (unsigned long long)kib_s);
    }
    printf(" frames_out=%llu frames_in=%llu retransmissions=%llu nacks_in=%llu nacks_out=%llu congestion_cuts=%llu "
           "result=%s\n",
           (unsigned long long)st->frames_out, (unsigned long long)st->frames_in,
           (unsigned long long)st->retransmissions, (unsigned long long)st->nacks_in,
           (unsigned long long)st->nacks_out, (unsigned long long)st->congestion_cuts,
           c->client ? (client_intact(c) ? "intact" : c->failure ? c->failure : "MISMATCH")
                     : (c->failure ? c->failure : "complete"));
    fflush(stdout);
}

/* Ends the connection; closes its session (RESET `reason`) if it still has one. */
static void conn_end(struct conn *c, const char *failure, int reason, uint64_t now) {
    if (c->ended)
        return;
    c->ended = true;
    c->failure = failure;
    c->ended_at = now;
    struct utcp_session *s = c->session;
    if (s) {
        c->stats = s->stats;
        c->session = NULL;
        utcp_session_close(&utcp_node_core, s, reason, false);
    }
    print_end(c);
    if (!c->client)
        c->used = false; /* the sink's place is free again; a client's verdict stays */
}

/* ---- the core's callbacks ---- */

/* The client's bytes back: the pattern, then the trailer. */
static void take_back(struct conn *c, const uint8_t *data, size_t len) {
    size_t at = c->expect - c->received < len ? (size_t)(c->expect - c->received) : len;
    static uint8_t expected[UTCP_PLAINTEXT_MAX];
    streamsum_fill(&c->expect_state, expected, at);
    c->wrong += memcmp(expected, data, at) != 0;
    c->received_sum = streamsum_add(c->received_sum, data, at);
    c->received += at;
    if (c->trailer_len + (len - at) > STREAMSUM_TRAILER_LEN) {
        conn_end(c, "more_than_asked", UTCP_RESET_ERROR, node_now_us());
        return;
    }
    memcpy(c->trailer + c->trailer_len, data + at, len - at);
    c->trailer_len += (unsigned)(len - at);
}

/* The sink's bytes in: the request, then the client's bytes, summed. */
static void take_request_and_bytes(struct conn *c, const uint8_t *data, size_t len) {
    size_t at = 0;
    while (c->request_len < STREAMSUM_REQUEST_LEN && at < len)
        c->request[c->request_len++] = data[at++];
    if (c->request_len == STREAMSUM_REQUEST_LEN && at)
        c->to_send = streamsum_get64(c->request);
    c->received_sum = streamsum_add(c->received_sum, data + at, len - at);
    c->received += len - at;
}

/* A stream frame's connection, NULL if the frame ended it (the sink's wrong stream, a second
 * stream on one session). */
static struct conn *conn_for_stream(struct utcp_session *s, uint16_t stream) {
    struct conn *c = conn_of(s);
    if (!c || c->ended)
        return NULL;
    if (c->stream == 0 && stream != listen_stream) {
        c->stream = stream; /* for its line */
        conn_end(c, "refused", UTCP_RESET_CLOSED, node_now_us()); /* nobody listens there */
        return NULL;
    }
    if (c->stream == 0)
        c->stream = stream;
    if (stream != c->stream) {
        conn_end(c, "second_stream", UTCP_RESET_ERROR, node_now_us());
        return NULL;
    }
    c->progress = node_now_us();
    return c;
}

void utcp_cat_on_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len) {
    (void)ctx;
    struct conn *c = conn_for_stream(s, stream);
    if (c && c->client)
        take_back(c, data, len);
    else if (c)
        take_request_and_bytes(c, data, len);
}

void utcp_cat_on_fin(void *ctx, struct utcp_session *s, uint16_t stream) {
    (void)ctx;
    struct conn *c = conn_for_stream(s, stream);
    if (c)
        c->fin_in = true;
}

void utcp_cat_on_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason) {
    (void)ctx;
    uint64_t now = node_now_us();
    struct conn *c = conn_of(s);
    if (event == UTCP_EVENT_ESTABLISHED) {
        if (c) { /* ours: the client's connection is up */
            c->connected = c->progress = now;
            char id[2 * UTCP_CELLID_LEN + 1];
            node_cellid_hex(c->peer, id);
            printf("utcp-connected cellid=%s stream=%u ms=%llu\n", id, c->stream,
                   (unsigned long long)((now - c->started) / 1000));
            fflush(stdout);
        } else if (!listen_stream || !conn_new(s, false, 0, now)) {
            utcp_session_close(&utcp_node_core, s, UTCP_RESET_CLOSED, false); /* no sink, or it is full */
        }
        return;
    }
    if (!c || c->ended)
        return;
    c->stats = s->stats; /* the session is freed after this call */
    c->session = NULL;
    /* Both ends through: the peer closed first, as it may once it has all of ours. */
    bool clean = c->fin_in && c->fin_out && (c->client || c->request_len == STREAMSUM_REQUEST_LEN);
    conn_end(c, clean ? NULL : c->connected || !c->client ? reason_name(reason) : "connect_failed", reason, now);
}

/* ---- moving bytes ---- */

static void send_pattern(struct conn *c, uint64_t now) {
    while (c->session && c->sent < c->to_send) {
        size_t n = c->to_send - c->sent < CHUNK ? (size_t)(c->to_send - c->sent) : CHUNK;
        uint64_t state = c->send_state;
        streamsum_fill(&state, chunk, n);
        size_t w = utcp_send(&utcp_node_core, c->session, c->stream, chunk, n, now);
        if (w == 0)
            return;
        streamsum_fill(&c->send_state, chunk, w); /* the pattern advances by what was taken */
        c->sent_sum = streamsum_add(c->sent_sum, chunk, w);
        c->sent += w;
        c->progress = now;
    }
}

/* Raw bytes (the request, the trailer) from *done on; true when all are out. */
static bool send_raw(struct conn *c, const uint8_t *bytes, unsigned len, unsigned *done, uint64_t now) {
    if (c->session && *done < len)
        *done += (unsigned)utcp_send(&utcp_node_core, c->session, c->stream, bytes + *done, len - *done, now);
    return *done == len;
}

static void pump_out(struct conn *c, uint64_t now) {
    if (c->client) {
        if (!send_raw(c, c->request, STREAMSUM_REQUEST_LEN, &c->request_len, now))
            return;
        send_pattern(c, now);
    } else {
        if (c->request_len < STREAMSUM_REQUEST_LEN)
            return;
        send_pattern(c, now);
        if (c->sent < c->to_send || !c->fin_in)
            return;
        if (c->trailer_len == 0) {
            streamsum_put64(c->trailer, c->received);
            streamsum_put64(c->trailer + 8, c->received_sum);
        }
        if (!send_raw(c, c->trailer, STREAMSUM_TRAILER_LEN, &c->trailer_len, now))
            return;
    }
    if (c->sent == c->to_send && !c->fin_out && c->session && utcp_finish(&utcp_node_core, c->session, c->stream, now))
        c->fin_out = true;
}

static void progress(struct conn *c, uint64_t now) {
    struct utcp_session *s = c->session;
    if (!s || s->state != UTCP_ESTABLISHED) {
        if (c->client && s && now - c->started > STALL_US)
            conn_end(c, "connect_stalled", UTCP_RESET_TIMEOUT, now);
        return;
    }
    pump_out(c, now);
    if (c->ended || !c->session)
        return;
    if (c->fin_in && c->fin_out && s->peer_release + 1 == s->send_next) /* the peer has every frame of ours */
        conn_end(c, NULL, UTCP_RESET_CLOSED, now);
    else if (c->client && now - c->progress > STALL_US)
        conn_end(c, "stalled", UTCP_RESET_TIMEOUT, now);
    else if (!c->client && c->stream == 0 && now - c->started > FIRST_FRAME_WAIT_US)
        conn_end(c, "no_stream", UTCP_RESET_TIMEOUT, now);
}

unsigned utcp_cat_pump(uint64_t now) {
    unsigned running = 0;
    for (unsigned i = 0; i < CONNS; i++) {
        if (!conns[i].used || conns[i].ended)
            continue;
        progress(&conns[i], now);
        running += conns[i].client && !conns[i].ended;
    }
    return running;
}

void utcp_cat_listen(uint16_t stream) { listen_stream = stream; }

bool utcp_cat_connect(const uint8_t peer[UTCP_CELLID_LEN], uint16_t stream, uint64_t bytes, uint64_t back,
                      unsigned parallel, uint64_t now) {
    for (unsigned i = 0; i < parallel; i++) {
        struct utcp_session *s = utcp_connect(&utcp_node_core, peer, now);
        struct conn *c = s ? conn_new(s, true, stream, now) : NULL;
        if (!c) {
            if (s)
                utcp_session_close(&utcp_node_core, s, UTCP_RESET_CLOSED, true);
            return false;
        }
        c->to_send = bytes;
        c->expect = back;
        streamsum_put64(c->request, back);
    }
    return true;
}

bool utcp_cat_intact(void) {
    bool any = false;
    for (unsigned i = 0; i < CONNS; i++) {
        if (!conns[i].used || !conns[i].client)
            continue;
        any = true;
        if (!conns[i].ended || !client_intact(&conns[i]))
            return false;
    }
    return any;
}
