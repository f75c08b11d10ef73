/* The receiving half of a session (docs/utcp.md sections 8 and 10): frames above the release wait
 * in the receive slots until the gap below them fills; bytes reach the streams in sequence order;
 * only gaps are reported (NACK), and the release now and then (WINDOW). */
#include <string.h>

#include "utcp.h"

static struct utcp_slot *recv_slot(const struct utcp_session *s, uint64_t seq) {
    return &s->recv_slots[seq % s->window];
}

bool utcp_receiver_holds(const struct utcp_session *s, uint64_t sequence) {
    return recv_slot(s, sequence)->sequence == sequence;
}

static void send_window(struct utcp_core *core, struct utcp_session *s, uint8_t flags) {
    uint8_t release[UTCP_RELEASE_LEN];
    utcp_put64(release, s->release);
    utcp_send_control(core, s, UTCP_TYPE_WINDOW, flags, release, sizeof release);
    s->reported_release = s->release;
    s->stats.windows_out++;
}

/* A NACK of every missing frame in (release, upto], at most UTCP_NACK_RANGES_MAX ranges; false
 * when nothing is missing. */
static bool send_nack(struct utcp_core *core, struct utcp_session *s, uint64_t upto, uint8_t flags) {
    uint8_t body[UTCP_NACK_FIXED_LEN + UTCP_NACK_RANGES_MAX * UTCP_NACK_RANGE_LEN];
    uint16_t count = 0;
    if (upto > s->release + s->window)
        upto = s->release + s->window;
    for (uint64_t seq = s->release + 1; seq <= upto && count < UTCP_NACK_RANGES_MAX; seq++) {
        if (utcp_receiver_holds(s, seq))
            continue;
        uint64_t last = seq;
        while (last + 1 <= upto && !utcp_receiver_holds(s, last + 1))
            last++;
        uint8_t *range = body + UTCP_NACK_FIXED_LEN + (size_t)count++ * UTCP_NACK_RANGE_LEN;
        utcp_put64(range, seq);
        utcp_put64(range + 8, last);
        seq = last;
    }
    if (count == 0)
        return false;
    utcp_put64(body, s->release);
    body[8] = (uint8_t)(count >> 8);
    body[9] = (uint8_t)count;
    utcp_send_control(core, s, UTCP_TYPE_NACK, flags, body, UTCP_NACK_FIXED_LEN + (size_t)count * UTCP_NACK_RANGE_LEN);
    s->reported_release = s->release;
    s->stats.nacks_out++;
    return true;
}

/* Hands frame release + 1 to its stream; false when the session closed meanwhile or the
 * stream's reader has no room for it (the frame waits: the release, and with it the sender,
 * stays where it is). */
static bool deliver(struct utcp_core *core, struct utcp_session *s, struct utcp_slot *slot) {
    struct utcp_stream *st = utcp_stream_get(s, slot->stream, true);
    if (!st || st->fin_in) { /* a 17th stream, or DATA after FIN: section 10 */
        utcp_session_close(core, s, UTCP_RESET_ERROR, false);
        return false;
    }
    if (slot->type == UTCP_TYPE_DATA && core->config.room &&
        core->config.room(core->config.ctx, s, st->id) < slot->len)
        return false;
    slot->sequence = 0;
    s->release++;
    if (slot->type == UTCP_TYPE_FIN) {
        st->fin_in = true;
        if (core->config.on_fin)
            core->config.on_fin(core->config.ctx, s, st->id);
    } else {
        st->bytes_in += slot->len;
        if (core->config.on_data)
            core->config.on_data(core->config.ctx, s, st->id, slot->bytes, slot->len);
    }
    return s->state != UTCP_FREE;
}

bool utcp_receiver_take(struct utcp_core *core, struct utcp_session *s, const struct utcp_header *h,
                        const uint8_t *plain, size_t len, uint64_t now) {
    struct utcp_slot *slot = recv_slot(s, h->sequence);
    slot->sequence = h->sequence;
    slot->type = h->type;
    slot->stream = h->stream;
    slot->len = (uint16_t)len;
    memcpy(slot->bytes, plain, len);
    /* a frame beyond the next one expected opens a gap no NACK reported yet: report it soon,
     * not at the repeat of an earlier NACK */
    bool opens_gap = h->sequence > s->highest_held + 1;
    if (h->sequence > s->highest_held)
        s->highest_held = h->sequence;
    uint64_t due = now + UTCP_NACK_DELAY_US;
    if (h->sequence > s->release + 1 && (s->nack_at == 0 || (opens_gap && due < s->nack_at)))
        s->nack_at = due;
    return utcp_receiver_deliver(core, s);
}

bool utcp_receiver_deliver(struct utcp_core *core, struct utcp_session *s) {
    while (utcp_receiver_holds(s, s->release + 1))
        if (!deliver(core, s, recv_slot(s, s->release + 1)))
            return s->state != UTCP_FREE;
    if (s->release >= s->highest_held)
        s->nack_at = 0;
    if (s->release - s->reported_release >= s->window / 4)
        send_window(core, s, 0);
    return true;
}

void utcp_receiver_sync(struct utcp_core *core, struct utcp_session *s, uint64_t highest) {
    /* REPLY: the sender takes its round-trip sample from this answer only. A request for the
     * release (0) is answered with the release alone: the frames sent with it, reordered, may
     * still be on their way, and real gaps have their own NACK a millisecond after they open. */
    if (highest == 0 || !send_nack(core, s, highest, UTCP_FLAG_REPLY))
        send_window(core, s, UTCP_FLAG_REPLY);
}

uint64_t utcp_receiver_poll(struct utcp_core *core, struct utcp_session *s, uint64_t now) {
    if (s->nack_at == 0)
        return UINT64_MAX;
    if (now >= s->nack_at)
        s->nack_at = send_nack(core, s, s->highest_held, 0) ? now + UTCP_NACK_REPEAT_US : 0;
    return s->nack_at ? s->nack_at : UINT64_MAX;
}
