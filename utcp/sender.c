/* The sending half of a session (docs/utcp.md sections 8-9): sealed frames wait in the send slots
 * until the peer releases them; new frames leave within the peer's window and the congestion
 * window, paced; NACKed frames leave again byte for byte; an idle tail is probed with SYNC. */
#include <string.h>

#include "utcp.h"

/* How far a late poll may catch up on the pacing schedule: bursts stay under a millisecond's worth. */
#define PACING_SLACK_US 1000u

static struct utcp_slot *send_slot(struct utcp_session *s, uint64_t seq) {
    return &s->send_slots[seq % s->send_capacity];
}

uint32_t utcp_send_room(const struct utcp_session *s) {
    if (s->state < UTCP_CONFIRM_SENT)
        return 0;
    return s->send_capacity - (uint32_t)(s->send_next - 1 - s->peer_release);
}

static bool queue_frame(struct utcp_core *core, struct utcp_session *s, uint8_t type, uint16_t stream,
                        const uint8_t *plain, size_t len) {
    if (utcp_send_room(s) == 0)
        return false;
    struct utcp_slot *slot = send_slot(s, s->send_next);
    slot->len = (uint16_t)utcp_seal_frame(core, s, type, 0, stream, s->send_next, plain, len, slot->bytes);
    slot->sequence = s->send_next++;
    slot->type = type;
    slot->stream = stream;
    slot->transmissions = 0;
    return true;
}

static void transmit(struct utcp_core *core, struct utcp_session *s, struct utcp_slot *slot, uint64_t now) {
    slot->sent_at = now;
    if (slot->transmissions < UINT8_MAX)
        slot->transmissions++;
    s->stats.frames_out++;
    core->config.emit(core->config.ctx, s->peer, slot->bytes, slot->len);
}

static uint64_t send_limit(const struct utcp_session *s) {
    uint32_t allowed = s->peer_window < s->cwnd ? s->peer_window : s->cwnd;
    return s->peer_release + allowed;
}

/* A SYNC unanswered for four round trips (and 10 ms) is taken for lost, it or its answer; that
 * answer may still come, late, and be taken for the next SYNC's: the next answer is no sample. */
static uint64_t sync_expiry(const struct utcp_session *s) {
    return s->sync_sent_at + 4 * s->srtt_us + UTCP_SYNC_EXPIRY_US;
}

static void sync_expire(struct utcp_session *s, uint64_t now) {
    if (s->sync_sent_at && now > sync_expiry(s)) {
        s->sync_sent_at = 0;
        s->sync_ambiguous = true;
    }
}

/* A SYNC naming `highest` probes the tail; one naming 0 only asks for the release. One SYNC at a
 * time: a REPLY does not say which SYNC it answers, and with two on their way the answer to one
 * would be taken for the other's and the round trip would look far shorter or longer than it is
 * (Karn). The callers send none while one is unanswered. */
static void send_sync(struct utcp_core *core, struct utcp_session *s, uint64_t highest_sent, uint64_t now) {
    uint8_t highest[UTCP_RELEASE_LEN];
    utcp_put64(highest, highest_sent);
    utcp_send_control(core, s, UTCP_TYPE_SYNC, 0, highest, sizeof highest);
    s->stats.syncs_out++;
    s->sync_sent_at = now;
}

/* New frames, as many as the windows and the pacing allow. */
static void pump(struct utcp_core *core, struct utcp_session *s, uint64_t now) {
    if (s->state != UTCP_ESTABLISHED)
        return;
    uint64_t gap = s->srtt_us / s->cwnd;
    if (s->next_send_at + PACING_SLACK_US < now)
        s->next_send_at = now - PACING_SLACK_US;
    bool sent = false;
    while (s->transmit_next < s->send_next && s->transmit_next <= send_limit(s) && s->next_send_at <= now) {
        s->progress_at = now; /* the probe clock runs from the last new frame */
        transmit(core, s, send_slot(s, s->transmit_next++), now);
        s->next_send_at += gap;
        sent = true;
    }
    /* held by a window with more to send: ask for the release now rather than wait for the
     * receiver's quarter-window report or the probe timer. Not a tail probe: the last frames
     * are still on their way and must not be reported missing. */
    if (!sent || s->transmit_next == s->send_next || s->transmit_next <= send_limit(s))
        return;
    sync_expire(s, now);
    if (!s->sync_sent_at)
        send_sync(core, s, 0, now);
}

/* The stream the session may still send on (made on first use), or NULL: the session is not
 * ready, the stream table is full, or the stream's FIN is out. */
static struct utcp_stream *open_stream_of(struct utcp_session *s, uint16_t stream) {
    struct utcp_stream *st = s->state >= UTCP_CONFIRM_SENT ? utcp_stream_get(s, stream, true) : NULL;
    return st && !st->fin_out ? st : NULL;
}

size_t utcp_send(struct utcp_core *core, struct utcp_session *s, uint16_t stream, const uint8_t *data,
                 size_t len, uint64_t now) {
    struct utcp_stream *st = open_stream_of(s, stream);
    if (!st)
        return 0;
    size_t taken = 0;
    while (taken < len) {
        size_t chunk = len - taken < UTCP_PLAINTEXT_MAX ? len - taken : UTCP_PLAINTEXT_MAX;
        if (!queue_frame(core, s, UTCP_TYPE_DATA, stream, data + taken, chunk))
            break;
        taken += chunk;
    }
    st->bytes_out += taken;
    pump(core, s, now);
    return taken;
}

bool utcp_open_stream(struct utcp_core *core, struct utcp_session *s, uint16_t stream, uint64_t now) {
    struct utcp_stream *st = open_stream_of(s, stream);
    if (!st || st->bytes_out || !queue_frame(core, s, UTCP_TYPE_DATA, stream, NULL, 0))
        return false;
    pump(core, s, now);
    return true;
}

bool utcp_finish(struct utcp_core *core, struct utcp_session *s, uint16_t stream, uint64_t now) {
    struct utcp_stream *st = open_stream_of(s, stream);
    if (!st || !queue_frame(core, s, UTCP_TYPE_FIN, stream, NULL, 0))
        return false;
    st->fin_out = true;
    pump(core, s, now);
    return true;
}

/* Feedback from the receiver; one that answers our SYNC (REPLY) is a round-trip sample. */
static void heard_back(struct utcp_session *s, bool reply, uint64_t now) {
    if (reply && s->sync_sent_at && !s->sync_ambiguous) {
        uint64_t sample = now - s->sync_sent_at;
        s->srtt_us = (7 * s->srtt_us + (sample ? sample : 1)) / 8;
        if (s->srtt_us == 0)
            s->srtt_us = 1;
    }
    if (reply) { /* the SYNC's answer, or the late one an expiry allowed for */
        s->sync_sent_at = 0;
        s->sync_ambiguous = false;
    }
    s->progress_at = now;
    s->sync_tries = 0;
}

void utcp_sender_release(struct utcp_core *core, struct utcp_session *s, uint64_t release, bool reply,
                         uint64_t now) {
    heard_back(s, reply, now);
    if (release > s->transmit_next - 1) /* a release of frames never sent says nothing */
        release = s->transmit_next - 1;
    if (release <= s->peer_release) {
        pump(core, s, now);
        return;
    }
    uint64_t released = release - s->peer_release;
    for (uint64_t seq = s->peer_release + 1; seq <= release; seq++)
        send_slot(s, seq)->sequence = 0;
    s->peer_release = release;
    if (s->cwnd < s->ssthresh) {
        s->cwnd += (uint32_t)released;
    } else {
        s->cwnd_credit += (uint32_t)released;
        while (s->cwnd_credit >= s->cwnd) {
            s->cwnd_credit -= s->cwnd;
            s->cwnd++;
        }
    }
    if (s->cwnd > UTCP_WINDOW_MAX)
        s->cwnd = UTCP_WINDOW_MAX;
    pump(core, s, now);
}

/* The congestion window times num / den (at least UTCP_MIN_CWND), at most once per round trip. */
static void cut_window(struct utcp_session *s, uint32_t num, uint32_t den, uint64_t now) {
    if (s->last_cut_at != 0 && now - s->last_cut_at < s->srtt_us)
        return;
    s->cwnd = s->cwnd * num / den > UTCP_MIN_CWND ? s->cwnd * num / den : UTCP_MIN_CWND;
    s->ssthresh = s->cwnd;
    s->cwnd_credit = 0;
    s->last_cut_at = now;
    s->loss_round_count = 0;
    s->stats.congestion_cuts++;
}

/* Random loss is not congestion: the window is cut (to 3/4, at most once per round trip) only
 * when more than an eighth of a round trip's frames were lost for the first time. A loss of a
 * retransmission is no new sign at all. */
static void congestion_response(struct utcp_session *s, uint32_t first_losses, uint64_t now) {
    if (now - s->loss_round_at >= s->srtt_us) {
        s->loss_round_at = now;
        s->loss_round_count = 0;
    }
    s->loss_round_count += first_losses;
    if (s->loss_round_count > s->cwnd / 8)
        cut_window(s, 3, 4, now);
}

void utcp_sender_nack(struct utcp_core *core, struct utcp_session *s, const struct utcp_nack *nack, bool reply,
                      uint64_t now) {
    s->stats.nacks_in++;
    utcp_sender_release(core, s, nack->release, reply, now);
    uint32_t first_losses = 0;
    for (uint16_t i = 0; i < nack->count; i++) {
        uint64_t first, last;
        utcp_nack_range(nack, i, &first, &last);
        if (first <= s->peer_release)
            first = s->peer_release + 1;
        if (last >= s->transmit_next)
            last = s->transmit_next - 1;
        for (uint64_t seq = first; seq <= last; seq++) {
            struct utcp_slot *slot = send_slot(s, seq);
            /* a NACK reflects the receiver half a round trip ago: a copy resent less than a
             * round trip ago may simply not have arrived yet. A frame sent once goes again at
             * once: the receiver names it only a millisecond after a later frame arrived (or
             * answering a tail probe, a round trip after the last frame left) */
            if (slot->sequence != seq || (slot->transmissions > 1 && now - slot->sent_at < s->srtt_us))
                continue;
            first_losses += slot->transmissions == 1;
            transmit(core, s, slot, now);
            s->stats.retransmissions++;
        }
    }
    congestion_response(s, first_losses, now);
}

static uint64_t earlier(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t utcp_sender_poll(struct utcp_core *core, struct utcp_session *s, uint64_t now) {
    pump(core, s, now);
    uint64_t deadline = UINT64_MAX;
    if (s->transmit_next < s->send_next && s->transmit_next <= send_limit(s))
        deadline = s->next_send_at;
    if (s->transmit_next - 1 == s->peer_release)
        return deadline;
    /* unreleased frames and silence: probe the tail */
    uint64_t probe = s->srtt_us + s->srtt_us / 4;
    if (probe < UTCP_SYNC_MIN_US)
        probe = UTCP_SYNC_MIN_US;
    uint64_t due = s->progress_at + (probe << s->sync_tries);
    if (now >= due) {
        /* a SYNC on its way is answered as a probe would be; probes beside it would make
         * every answer ambiguous while the round trip is underestimated, and it would never
         * be corrected */
        sync_expire(s, now);
        if (s->sync_sent_at)
            return earlier(deadline, sync_expiry(s) + 1);
        /* 8 doublings of a few-ms round trip are a second or two: a peer whose CPU stalls that
         * long (a guest its host did not run) is not dead, so the last wait repeats until the
         * peer has also been silent for UTCP_PROBE_SILENCE_US */
        if (s->sync_tries >= UTCP_SYNC_TRIES && now - s->heard_at >= UTCP_PROBE_SILENCE_US) {
            utcp_session_close(core, s, UTCP_RESET_TIMEOUT, false);
            return UINT64_MAX;
        }
        send_sync(core, s, s->transmit_next - 1, now);
        s->stats.probes_out++;
        if (s->sync_tries < UTCP_SYNC_TRIES)
            s->sync_tries++;
        s->progress_at = now;
        due = now + (probe << s->sync_tries);
    }
    return earlier(deadline, due);
}
