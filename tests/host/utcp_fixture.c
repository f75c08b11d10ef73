/* The UTCP host tests' shared setup (utcp_fixture.h). */
#include "utcp_fixture.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void fixture_seed(uint8_t seed[32], uint8_t first) {
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(first + i);
}

static void node_random(void *ctx, uint8_t *out, size_t len) {
    struct test_node *n = ctx;
    for (size_t i = 0; i < len; i++) {
        if (n->script_len) {
            out[i] = *n->script++;
            n->script_len--;
            continue;
        }
        n->prng = n->prng * 6364136223846793005ull + 1442695040888963407ull;
        out[i] = (uint8_t)(n->prng >> 56);
    }
}

static void node_emit(void *ctx, const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *frame, size_t len) {
    struct test_node *n = ctx;
    if (n->outbox_count == FIXTURE_OUTBOX)
        return; /* a full outbox loses frames, as a full wire would */
    struct sent_frame *f = &n->outbox[n->outbox_count++];
    memcpy(f->peer, peer, UTCP_CELLID_LEN);
    memcpy(f->bytes, frame, len);
    f->len = len;
}

static void node_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len) {
    (void)s;
    struct test_node *n = ctx;
    size_t room = sizeof n->stream_bytes - n->stream_len;
    memcpy(n->stream_bytes + n->stream_len, data, len < room ? len : room);
    n->stream_len += len < room ? len : room;
    n->last_stream = stream;
}

static void node_fin(void *ctx, struct utcp_session *s, uint16_t stream) {
    (void)s;
    struct test_node *n = ctx;
    n->fins++;
    n->last_stream = stream;
}

static void node_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason) {
    (void)s;
    struct test_node *n = ctx;
    if (event == UTCP_EVENT_ESTABLISHED)
        n->established++;
    else
        n->closed++, n->last_close_reason = reason;
}

void test_node_init(struct test_node *n, const uint8_t seed[32], const uint8_t *script, size_t script_len,
                    uint32_t window, uint64_t now) {
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
    if (sodium_init() < 0)
        abort();
    crypto_sign_seed_keypair(public_key, secret_key, seed);
    memset(n, 0, sizeof *n);
    n->script = script;
    n->script_len = script_len;
    n->prng = seed[0] + 1;
    struct utcp_config config = {.ctx = n, .emit = node_emit, .random = node_random, .on_data = node_data,
                                 .on_fin = node_fin, .on_event = node_event};
    utcp_identity_init(&config.identity, secret_key);
    utcp_init(&n->core, &config, n->sessions, FIXTURE_SESSIONS, n->slots, window, now);
}

void deliver_outbox(struct test_node *from, struct test_node *const *nodes, size_t count, uint64_t now) {
    static struct sent_frame batch[FIXTURE_OUTBOX];
    size_t frames = from->outbox_count;
    memcpy(batch, from->outbox, frames * sizeof batch[0]);
    from->outbox_count = 0;
    for (size_t f = 0; f < frames; f++)
        for (size_t i = 0; i < count; i++)
            if (memcmp(nodes[i]->core.config.identity.cellid, batch[f].peer, UTCP_CELLID_LEN) == 0) {
                struct utcp_session *s;
                uint8_t *copy = exact_copy(batch[f].bytes, batch[f].len);
                utcp_receive(&nodes[i]->core, copy, batch[f].len, now, &s);
                free(copy);
            }
}

struct utcp_session *fixture_connect(struct test_node *initiator, struct test_node *responder, uint64_t now) {
    struct utcp_session *s = utcp_connect(&initiator->core, responder->core.config.identity.cellid, now);
    struct test_node *both[2] = {initiator, responder};
    for (int round = 0; round < 4 && s; round++) {
        deliver_outbox(initiator, both, 2, now);
        deliver_outbox(responder, both, 2, now);
    }
    return s && s->state == UTCP_ESTABLISHED ? s : NULL;
}

struct utcp_session *session_with(struct test_node *n, const struct test_node *peer) {
    for (size_t i = 0; i < FIXTURE_SESSIONS; i++)
        if (n->sessions[i].state != UTCP_FREE &&
            memcmp(n->sessions[i].peer, peer->core.config.identity.cellid, UTCP_CELLID_LEN) == 0)
            return &n->sessions[i];
    return NULL;
}

uint8_t *exact_copy(const uint8_t *data, size_t len) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    return copy;
}
