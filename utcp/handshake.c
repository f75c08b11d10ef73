/* The three-frame handshake of docs/utcp.md section 5. The responder keeps no state until the
 * CONFIRM's signature verifies: its ephemeral secret is recomputed from the cookie secret, so the
 * WELCOME needs no memory. HELLO and CONFIRM pass the rate limit before any public-key work. */
#include <string.h>

#include <sodium.h>

#include "utcp.h"

#define CONTEXT_WELCOME "utcp-welcome-v1"
#define CONTEXT_CONFIRM "utcp-confirm-v1"
#define MICRO 1000000ull

void utcp_cookie_rotate(struct utcp_core *core, uint64_t now) {
    if (now - core->cookie_since < UTCP_COOKIE_LIFETIME_US)
        return;
    memcpy(core->cookie_previous, core->cookie_secret, UTCP_KEY_LEN);
    core->cookie_has_previous = true;
    core->config.random(core->config.ctx, core->cookie_secret, UTCP_KEY_LEN);
    core->cookie_since = now;
}

void utcp_rate_init(struct utcp_core *core, uint64_t now) {
    for (unsigned i = 0; i < UTCP_BUCKETS; i++)
        core->buckets[i] = (struct utcp_bucket){UTCP_BUCKET_BURST * MICRO, now};
    core->global_bucket = (struct utcp_bucket){UTCP_GLOBAL_BURST * MICRO, now};
}

/* Our signature over the transcript, by the caller's signer or with our own key. */
static bool sign_transcript(struct utcp_core *core, const char *context, const uint8_t th[UTCP_KEY_LEN],
                            uint8_t signature[UTCP_SIGNATURE_LEN]) {
    uint8_t message[UTCP_SIGNED_MESSAGE_MAX];
    size_t n = utcp_signed_message(context, th, message);
    if (core->config.sign)
        return core->config.sign(core->config.ctx, message, n, signature);
    utcp_sign_message(core->config.identity.secret_key, message, n, signature);
    return true;
}

/* A token bucket in millionths of a token. */
static bool bucket_take(struct utcp_bucket *b, uint64_t burst, uint64_t rate, uint64_t now) {
    if (now > b->at)
        b->tokens += (now - b->at) * rate;
    if (b->tokens > burst * MICRO)
        b->tokens = burst * MICRO;
    b->at = now;
    if (b->tokens < MICRO)
        return false;
    b->tokens -= MICRO;
    return true;
}

static bool rate_allows(struct utcp_core *core, const uint8_t src[UTCP_CELLID_LEN], uint64_t now) {
    struct utcp_bucket *own = &core->buckets[((unsigned)src[0] << 8 | src[1]) % UTCP_BUCKETS];
    struct utcp_bucket saved = *own;
    if (!bucket_take(own, UTCP_BUCKET_BURST, UTCP_BUCKET_RATE, now))
        return false;
    if (!bucket_take(&core->global_bucket, UTCP_GLOBAL_BURST, UTCP_GLOBAL_RATE, now)) {
        *own = saved; /* refused by the global bucket: the source's token is not spent */
        return false;
    }
    return true;
}

static size_t handshake_frame(const struct utcp_core *core, uint8_t type, const uint8_t peer[UTCP_CELLID_LEN],
                              uint32_t session, const uint8_t *body, size_t body_len, uint8_t *out) {
    struct utcp_header h = {.type = type, .session = session, .length = (uint16_t)body_len,
                            .window = core->sessions[0].window};
    memcpy(h.dst, peer, UTCP_CELLID_LEN);
    memcpy(h.src, core->config.identity.cellid, UTCP_CELLID_LEN);
    utcp_header_encode(&h, out);
    memcpy(out + UTCP_HEADER_LEN, body, body_len);
    return UTCP_HEADER_LEN + body_len;
}

static void emit(struct utcp_core *core, const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *frame, size_t len) {
    core->config.emit(core->config.ctx, peer, frame, len);
}

static void send_hello(struct utcp_core *core, struct utcp_session *s, uint64_t now) {
    s->handshake_tries++;
    s->handshake_sent_at = now;
    s->handshake_retry_at = now + UTCP_HANDSHAKE_RETRY_US;
    emit(core, s->peer, s->handshake_frame, s->handshake_len);
}

struct utcp_session *utcp_connect(struct utcp_core *core, const uint8_t peer[UTCP_CELLID_LEN], uint64_t now) {
    if (memcmp(peer, core->config.identity.cellid, UTCP_CELLID_LEN) == 0)
        return NULL;
    struct utcp_session *s = utcp_session_claim(core);
    if (!s)
        return NULL;
    do
        core->config.random(core->config.ctx, (uint8_t *)&s->id, sizeof s->id);
    while (s->id == 0 || utcp_session_find(core, peer, s->id));
    s->state = UTCP_HELLO_SENT;
    s->initiator = true;
    memcpy(s->peer, peer, UTCP_CELLID_LEN);
    core->config.random(core->config.ctx, s->ephemeral_secret, UTCP_KEY_LEN);
    utcp_ephemeral_public(s->ephemeral_secret, s->ephemeral_public);
    uint8_t body[UTCP_HELLO_BODY_LEN] = {0};
    memcpy(body, s->ephemeral_public, UTCP_PUBLIC_KEY_LEN);
    memcpy(body + UTCP_PUBLIC_KEY_LEN, core->config.identity.public_key, UTCP_PUBLIC_KEY_LEN);
    s->handshake_len = (uint16_t)handshake_frame(core, UTCP_TYPE_HELLO, peer, s->id, body, sizeof body,
                                                 s->handshake_frame);
    s->heard_at = now;
    send_hello(core, s, now);
    return s;
}

/* HELLO at the responder: answer with a WELCOME, remember nothing. */
static enum utcp_drop on_hello(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now) {
    const struct utcp_header *h = &v->header;
    const uint8_t *e_initiator = v->body, *pk_initiator = v->body + UTCP_PUBLIC_KEY_LEN;
    if (utcp_session_find(core, h->src, h->session))
        return UTCP_DROP_REPLAY;
    if (!rate_allows(core, h->src, now))
        return UTCP_DROP_RATE_LIMITED;
    uint8_t claimed[UTCP_CELLID_LEN];
    utcp_cellid(pk_initiator, claimed);
    if (memcmp(claimed, h->src, UTCP_CELLID_LEN) != 0)
        return UTCP_DROP_BAD_SIGNATURE;
    const struct utcp_identity *me = &core->config.identity;
    uint8_t e_secret[UTCP_KEY_LEN], th[UTCP_KEY_LEN], body[UTCP_WELCOME_BODY_LEN];
    utcp_responder_ephemeral(core->cookie_secret, h->src, h->session, e_initiator, e_secret);
    utcp_ephemeral_public(e_secret, body);
    sodium_memzero(e_secret, sizeof e_secret);
    memcpy(body + UTCP_PUBLIC_KEY_LEN, me->public_key, UTCP_PUBLIC_KEY_LEN);
    utcp_transcript(h->src, me->cellid, h->session, pk_initiator, me->public_key, e_initiator, body, th);
    if (!sign_transcript(core, CONTEXT_WELCOME, th, body + 2 * UTCP_PUBLIC_KEY_LEN))
        return UTCP_ACCEPTED; /* well formed, but this node cannot sign now: no answer */
    size_t n = handshake_frame(core, UTCP_TYPE_WELCOME, h->src, h->session, body, sizeof body, core->scratch);
    emit(core, h->src, core->scratch, n);
    return UTCP_ACCEPTED;
}

/* The responder's ephemeral secret behind `e_responder`, under the current or previous cookie. */
static bool cookie_matches(const struct utcp_core *core, const struct utcp_header *h, const uint8_t *e_initiator,
                           const uint8_t *e_responder, uint8_t secret[UTCP_KEY_LEN]) {
    const uint8_t *secrets[2] = {core->cookie_secret, core->cookie_has_previous ? core->cookie_previous : NULL};
    for (int i = 0; i < 2 && secrets[i]; i++) {
        uint8_t derived[UTCP_PUBLIC_KEY_LEN];
        utcp_responder_ephemeral(secrets[i], h->src, h->session, e_initiator, secret);
        utcp_ephemeral_public(secret, derived);
        if (sodium_memcmp(derived, e_responder, UTCP_PUBLIC_KEY_LEN) == 0)
            return true;
    }
    sodium_memzero(secret, UTCP_KEY_LEN);
    return false;
}

/* CONFIRM at the responder: the first moment it allocates anything. */
static enum utcp_drop on_confirm(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now,
                                 struct utcp_session **from) {
    const struct utcp_header *h = &v->header;
    const uint8_t *e_initiator = v->body, *e_responder = v->body + UTCP_PUBLIC_KEY_LEN;
    const uint8_t *pk_initiator = v->body + 2 * UTCP_PUBLIC_KEY_LEN, *signature = v->body + 3 * UTCP_PUBLIC_KEY_LEN;
    struct utcp_session *existing = utcp_session_find(core, h->src, h->session);
    if (existing) {
        /* our WINDOW was lost: the initiator waits for a sealed frame */
        if (!existing->initiator && existing->state == UTCP_ESTABLISHED) {
            uint8_t release[UTCP_RELEASE_LEN];
            utcp_put64(release, existing->release);
            utcp_send_control(core, existing, UTCP_TYPE_WINDOW, 0, release, sizeof release);
        }
        return UTCP_DROP_REPLAY;
    }
    if (!rate_allows(core, h->src, now))
        return UTCP_DROP_RATE_LIMITED;
    uint8_t e_secret[UTCP_KEY_LEN];
    if (!cookie_matches(core, h, e_initiator, e_responder, e_secret))
        return UTCP_DROP_BAD_COOKIE;
    const struct utcp_identity *me = &core->config.identity;
    uint8_t claimed[UTCP_CELLID_LEN], th[UTCP_KEY_LEN];
    utcp_cellid(pk_initiator, claimed);
    utcp_transcript(h->src, me->cellid, h->session, pk_initiator, me->public_key, e_initiator, e_responder, th);
    if (memcmp(claimed, h->src, UTCP_CELLID_LEN) != 0 ||
        !utcp_verify_transcript(pk_initiator, CONTEXT_CONFIRM, th, signature)) {
        sodium_memzero(e_secret, sizeof e_secret);
        return UTCP_DROP_BAD_SIGNATURE;
    }
    uint8_t key_i2r[UTCP_KEY_LEN], key_r2i[UTCP_KEY_LEN];
    bool keyed = utcp_session_keys(e_secret, e_initiator, th, key_i2r, key_r2i);
    sodium_memzero(e_secret, sizeof e_secret);
    if (!keyed)
        return UTCP_DROP_MALFORMED;
    struct utcp_session *s = utcp_session_claim(core);
    if (!s)
        return UTCP_DROP_NO_ROOM;
    s->initiator = false;
    s->id = h->session;
    memcpy(s->peer, h->src, UTCP_CELLID_LEN);
    memcpy(s->peer_public_key, pk_initiator, UTCP_PUBLIC_KEY_LEN);
    utcp_session_start(core, s, key_i2r, key_r2i, now);
    sodium_memzero(key_i2r, sizeof key_i2r);
    sodium_memzero(key_r2i, sizeof key_r2i);
    uint8_t release[UTCP_RELEASE_LEN] = {0};
    utcp_send_control(core, s, UTCP_TYPE_WINDOW, 0, release, sizeof release);
    *from = s;
    if (core->config.on_event)
        core->config.on_event(core->config.ctx, s, UTCP_EVENT_ESTABLISHED, 0);
    return UTCP_ACCEPTED;
}

/* WELCOME at the initiator: check the responder, make the keys, send the CONFIRM. */
static enum utcp_drop on_welcome(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now,
                                 struct utcp_session **from) {
    const struct utcp_header *h = &v->header;
    const uint8_t *e_responder = v->body, *pk_responder = v->body + UTCP_PUBLIC_KEY_LEN;
    const uint8_t *signature = v->body + 2 * UTCP_PUBLIC_KEY_LEN;
    struct utcp_session *s = utcp_session_find(core, h->src, h->session);
    if (!s || !s->initiator || s->state != UTCP_HELLO_SENT)
        return UTCP_DROP_NO_SESSION;
    const struct utcp_identity *me = &core->config.identity;
    uint8_t claimed[UTCP_CELLID_LEN], th[UTCP_KEY_LEN];
    utcp_cellid(pk_responder, claimed);
    utcp_transcript(me->cellid, h->src, h->session, me->public_key, pk_responder, s->ephemeral_public, e_responder,
                    th);
    if (memcmp(claimed, h->src, UTCP_CELLID_LEN) != 0 ||
        !utcp_verify_transcript(pk_responder, CONTEXT_WELCOME, th, signature))
        return UTCP_DROP_BAD_SIGNATURE;
    uint8_t key_i2r[UTCP_KEY_LEN], key_r2i[UTCP_KEY_LEN];
    if (!utcp_session_keys(s->ephemeral_secret, e_responder, th, key_i2r, key_r2i))
        return UTCP_DROP_MALFORMED;
    uint64_t sample = now - s->handshake_sent_at;
    memcpy(s->peer_public_key, pk_responder, UTCP_PUBLIC_KEY_LEN);
    uint8_t body[UTCP_CONFIRM_BODY_LEN];
    memcpy(body, s->ephemeral_public, UTCP_PUBLIC_KEY_LEN);
    memcpy(body + UTCP_PUBLIC_KEY_LEN, e_responder, UTCP_PUBLIC_KEY_LEN);
    memcpy(body + 2 * UTCP_PUBLIC_KEY_LEN, me->public_key, UTCP_PUBLIC_KEY_LEN);
    if (!sign_transcript(core, CONTEXT_CONFIRM, th, body + 3 * UTCP_PUBLIC_KEY_LEN)) {
        sodium_memzero(key_i2r, sizeof key_i2r);
        sodium_memzero(key_r2i, sizeof key_r2i);
        return UTCP_ACCEPTED; /* the HELLO is sent again; a later WELCOME may find the signer back */
    }
    utcp_session_start(core, s, key_i2r, key_r2i, now);
    sodium_memzero(key_i2r, sizeof key_i2r);
    sodium_memzero(key_r2i, sizeof key_r2i);
    s->srtt_us = sample ? sample : 1;
    s->state = UTCP_CONFIRM_SENT;
    s->handshake_len = (uint16_t)handshake_frame(core, UTCP_TYPE_CONFIRM, s->peer, s->id, body, sizeof body,
                                                 s->handshake_frame);
    s->handshake_tries = 0;
    send_hello(core, s, now); /* the stored frame is now the CONFIRM */
    *from = s;
    return UTCP_ACCEPTED;
}

enum utcp_drop utcp_handshake_receive(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now,
                                      struct utcp_session **from) {
    utcp_cookie_rotate(core, now);
    switch (v->header.type) {
    case UTCP_TYPE_HELLO:
        return on_hello(core, v, now);
    case UTCP_TYPE_CONFIRM:
        return on_confirm(core, v, now, from);
    default:
        return on_welcome(core, v, now, from);
    }
}

/* The initiator's HELLO or CONFIRM again until answered; given up after UTCP_HANDSHAKE_TRIES. */
void utcp_handshake_poll(struct utcp_core *core, struct utcp_session *s, uint64_t now) {
    if (now < s->handshake_retry_at)
        return;
    if (s->handshake_tries >= UTCP_HANDSHAKE_TRIES) {
        utcp_session_close(core, s, UTCP_RESET_TIMEOUT, s->state == UTCP_HELLO_SENT);
        return;
    }
    send_hello(core, s, now);
}
