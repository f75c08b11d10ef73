/* The session table and the sealed receive path (docs/utcp.md section 7, steps 4-7): the checks
 * that need no key, then the AEAD with the key of the frame's epoch, and only then any change. */
#include <string.h>

#include <sodium.h>

#include "utcp.h"

struct utcp_session *utcp_session_find(struct utcp_core *core, const uint8_t peer[UTCP_CELLID_LEN], uint32_t id) {
    for (size_t i = 0; i < core->session_count; i++) {
        struct utcp_session *s = &core->sessions[i];
        if (s->state != UTCP_FREE && s->id == id && memcmp(s->peer, peer, UTCP_CELLID_LEN) == 0)
            return s;
    }
    return NULL;
}

/* A free session, wiped, keeping the memory the caller gave it. */
struct utcp_session *utcp_session_claim(struct utcp_core *core) {
    for (size_t i = 0; i < core->session_count; i++) {
        struct utcp_session *s = &core->sessions[i];
        if (s->state != UTCP_FREE)
            continue;
        struct utcp_slot *send_slots = s->send_slots, *recv_slots = s->recv_slots;
        uint32_t window = s->window;
        sodium_memzero(s, sizeof *s);
        s->send_slots = send_slots, s->recv_slots = recv_slots;
        s->send_capacity = s->window = window;
        for (uint32_t k = 0; k < window; k++)
            send_slots[k].sequence = recv_slots[k].sequence = 0;
        return s;
    }
    return NULL;
}

void utcp_session_start(struct utcp_core *core, struct utcp_session *s, const uint8_t key_i2r[UTCP_KEY_LEN],
                        const uint8_t key_r2i[UTCP_KEY_LEN], uint64_t now) {
    (void)core;
    memcpy(s->send_key, s->initiator ? key_i2r : key_r2i, UTCP_KEY_LEN);
    memcpy(s->recv_key, s->initiator ? key_r2i : key_i2r, UTCP_KEY_LEN);
    sodium_memzero(s->ephemeral_secret, sizeof s->ephemeral_secret);
    s->control_next = s->send_next = s->transmit_next = 1;
    s->peer_window = UTCP_INITIAL_PEER_WINDOW;
    s->cwnd = UTCP_INITIAL_CWND;
    s->ssthresh = UTCP_WINDOW_MAX;
    if (s->srtt_us == 0)
        s->srtt_us = UTCP_INITIAL_SRTT_US;
    s->heard_at = s->keepalive_at = now;
    s->state = UTCP_ESTABLISHED; /* the initiator's caller lowers it to CONFIRM_SENT */
}

struct utcp_stream *utcp_stream_get(struct utcp_session *s, uint16_t id, bool create) {
    struct utcp_stream *free_place = NULL;
    for (unsigned i = 0; i < UTCP_STREAMS_MAX; i++) {
        if (s->streams[i].id == id)
            return &s->streams[i];
        if (!free_place && s->streams[i].id == 0)
            free_place = &s->streams[i];
    }
    if (!create || !free_place || id == 0)
        return NULL;
    *free_place = (struct utcp_stream){.id = id};
    return free_place;
}

size_t utcp_seal_frame(struct utcp_core *core, struct utcp_session *s, uint8_t type, uint8_t flags,
                       uint16_t stream, uint64_t sequence, const uint8_t *plain, size_t len, uint8_t *out) {
    if (s->sealed_in_epoch == UTCP_REKEY_INTERVAL) {
        uint8_t next[UTCP_KEY_LEN];
        utcp_rekey(s->send_key, next);
        memcpy(s->send_key, next, UTCP_KEY_LEN);
        sodium_memzero(next, sizeof next);
        s->send_epoch++;
        s->sealed_in_epoch = 0;
        s->stats.send_epochs++;
    }
    struct utcp_header h = {.type = type, .flags = (uint8_t)(flags | ((s->send_epoch & 1) ? UTCP_FLAG_KEY_PHASE : 0)),
                            .session = s->id, .stream = stream, .length = (uint16_t)(len + UTCP_TAG_LEN),
                            .sequence = sequence, .window = s->window};
    memcpy(h.dst, s->peer, UTCP_CELLID_LEN);
    memcpy(h.src, core->config.identity.cellid, UTCP_CELLID_LEN);
    utcp_header_encode(&h, out);
    utcp_seal(s->send_key, utcp_space_of(type), out, plain, len);
    s->sealed_in_epoch++;
    return UTCP_HEADER_LEN + len + UTCP_TAG_LEN;
}

void utcp_send_control(struct utcp_core *core, struct utcp_session *s, uint8_t type, uint8_t flags,
                       const uint8_t *plain, size_t len) {
    size_t n = utcp_seal_frame(core, s, type, flags, 0, s->control_next++, plain, len, core->scratch);
    s->stats.frames_out++;
    core->config.emit(core->config.ctx, s->peer, core->scratch, n);
}

void utcp_session_close(struct utcp_core *core, struct utcp_session *s, int reason, bool silent) {
    if (!silent && s->state >= UTCP_CONFIRM_SENT) {
        uint8_t why = (uint8_t)reason;
        utcp_send_control(core, s, UTCP_TYPE_RESET, 0, &why, 1);
    }
    if (core->config.on_event)
        core->config.on_event(core->config.ctx, s, UTCP_EVENT_CLOSED, reason);
    sodium_memzero(s->send_key, sizeof s->send_key);
    sodium_memzero(s->recv_key, sizeof s->recv_key);
    sodium_memzero(s->recv_previous_key, sizeof s->recv_previous_key);
    sodium_memzero(s->ephemeral_secret, sizeof s->ephemeral_secret);
    s->state = UTCP_FREE;
}

/* Step 5: the sequence against the space's window, without changing it. */
static enum utcp_drop sequence_check(const struct utcp_session *s, const struct utcp_header *h) {
    uint64_t seq = h->sequence;
    if (utcp_space_of(h->type) == UTCP_SPACE_STREAM) {
        if (seq <= s->release || utcp_receiver_holds(s, seq))
            return UTCP_DROP_REPLAY;
        return seq - s->release > s->window ? UTCP_DROP_OUT_OF_WINDOW : UTCP_ACCEPTED;
    }
    if (seq > s->control_highest)
        return UTCP_ACCEPTED;
    uint64_t age = s->control_highest - seq;
    if (age >= UTCP_CONTROL_REPLAY_WINDOW || (s->control_seen >> age) & 1)
        return UTCP_DROP_REPLAY;
    return UTCP_ACCEPTED;
}

static void control_window_take(struct utcp_session *s, uint64_t seq) {
    if (seq > s->control_highest) {
        uint64_t shift = seq - s->control_highest;
        s->control_seen = shift >= 64 ? 0 : s->control_seen << shift;
        s->control_highest = seq;
        s->control_seen |= 1;
    } else {
        s->control_seen |= 1ull << (s->control_highest - seq);
    }
}

/* Step 6: the key of the frame's epoch. *advance: the frame opened with the next epoch's key. */
static bool open_in_epoch(struct utcp_core *core, const struct utcp_session *s, const struct utcp_frame_view *v,
                          uint8_t next[UTCP_KEY_LEN], bool *advance) {
    uint32_t space = utcp_space_of(v->header.type);
    bool phase = (v->header.flags & UTCP_FLAG_KEY_PHASE) != 0;
    *advance = false;
    if (phase == (bool)(s->recv_epoch & 1))
        return utcp_open(s->recv_key, space, v, core->plain);
    if (s->recv_has_previous && utcp_open(s->recv_previous_key, space, v, core->plain))
        return true;
    utcp_rekey(s->recv_key, next);
    return *advance = utcp_open(next, space, v, core->plain);
}

/* What the plaintext must hold beyond its length, checked before it acts. */
static bool plaintext_valid(const struct utcp_header *h, const uint8_t *plain, size_t len, struct utcp_nack *nack) {
    if (h->type == UTCP_TYPE_NACK)
        return utcp_nack_parse(plain, len, nack);
    if (h->type == UTCP_TYPE_RESET)
        return plain[0] <= UTCP_RESET_TIMEOUT;
    return true;
}

enum utcp_drop utcp_session_receive(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now,
                                    struct utcp_session **from) {
    const struct utcp_header *h = &v->header;
    struct utcp_session *s = utcp_session_find(core, h->src, h->session);
    if (!s || s->state < UTCP_CONFIRM_SENT)
        return UTCP_DROP_NO_SESSION;
    enum utcp_drop drop = sequence_check(s, h);
    if (drop != UTCP_ACCEPTED)
        return drop;
    uint8_t next[UTCP_KEY_LEN];
    bool advance;
    if (!open_in_epoch(core, s, v, next, &advance))
        return UTCP_DROP_AEAD;
    size_t len = h->length - UTCP_TAG_LEN;
    struct utcp_nack nack;
    if (!plaintext_valid(h, core->plain, len, &nack))
        return UTCP_DROP_MALFORMED;

    /* step 7: the frame is authentic and fresh */
    if (advance) {
        memcpy(s->recv_previous_key, s->recv_key, UTCP_KEY_LEN);
        memcpy(s->recv_key, next, UTCP_KEY_LEN);
        s->recv_epoch++;
        s->recv_has_previous = true;
    }
    sodium_memzero(next, sizeof next);
    if (utcp_space_of(h->type) == UTCP_SPACE_CONTROL)
        control_window_take(s, h->sequence);
    s->heard_at = now;
    s->stats.frames_in++;
    s->peer_window = h->window;
    *from = s;
    if (s->state == UTCP_CONFIRM_SENT) {
        s->state = UTCP_ESTABLISHED;
        if (core->config.on_event)
            core->config.on_event(core->config.ctx, s, UTCP_EVENT_ESTABLISHED, 0);
        if (s->state != UTCP_ESTABLISHED) /* closed by the callback */
            return *from = NULL, UTCP_ACCEPTED;
    }
    switch (h->type) {
    case UTCP_TYPE_DATA:
    case UTCP_TYPE_FIN:
        if (!utcp_receiver_take(core, s, h, core->plain, len, now))
            *from = NULL;
        break;
    case UTCP_TYPE_NACK:
        utcp_sender_nack(core, s, &nack, h->flags & UTCP_FLAG_REPLY, now);
        break;
    case UTCP_TYPE_WINDOW:
        utcp_sender_release(core, s, utcp_get64(core->plain), h->flags & UTCP_FLAG_REPLY, now);
        break;
    case UTCP_TYPE_SYNC:
        utcp_receiver_sync(core, s, utcp_get64(core->plain));
        break;
    case UTCP_TYPE_RESET:
        utcp_session_close(core, s, core->plain[0], true);
        *from = NULL;
        break;
    case UTCP_TYPE_PING:
        if (!(h->flags & UTCP_FLAG_REPLY))
            utcp_send_control(core, s, UTCP_TYPE_PING, UTCP_FLAG_REPLY, core->plain, UTCP_RELEASE_LEN);
        break;
    }
    return UTCP_ACCEPTED;
}
