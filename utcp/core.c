/* The entry points of the UTCP core: init, receive (steps 1-3, then the handshake or the session
 * path), poll (every timer of every session), and the counts a service publishes. */
#include <string.h>

#include "utcp.h"

void utcp_init(struct utcp_core *core, const struct utcp_config *config, struct utcp_session *sessions,
               size_t session_count, struct utcp_slot *slots, uint32_t window, uint64_t now) {
    memset(core, 0, sizeof *core);
    core->config = *config;
    core->sessions = sessions;
    for (size_t i = 0; i < session_count; i++)
        utcp_session_add(core, slots + 2 * i * window, window);
    config->random(config->ctx, core->cookie_secret, UTCP_KEY_LEN);
    core->cookie_since = now;
    utcp_rate_init(core, now);
}

void utcp_session_add(struct utcp_core *core, struct utcp_slot *slots, uint32_t window) {
    struct utcp_session *s = &core->sessions[core->session_count++];
    memset(s, 0, sizeof *s);
    s->send_slots = slots;
    s->recv_slots = slots + window;
    s->send_capacity = s->window = window;
}

enum utcp_drop utcp_receive(struct utcp_core *core, const uint8_t *frame, size_t len, uint64_t now,
                            struct utcp_session **from) {
    struct utcp_frame_view view;
    *from = NULL;
    enum utcp_drop drop = utcp_frame_parse(frame, len, core->config.identity.cellid, &view);
    if (drop == UTCP_ACCEPTED)
        drop = view.header.type <= UTCP_TYPE_CONFIRM ? utcp_handshake_receive(core, &view, now, from)
                                                     : utcp_session_receive(core, &view, now, from);
    core->drops[drop]++;
    return drop;
}

static uint64_t earlier(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Liveness of an established session: a PING after a quiet spell, closed after a long one. */
static uint64_t keepalive(struct utcp_core *core, struct utcp_session *s, uint64_t now) {
    if (now - s->heard_at >= UTCP_IDLE_TIMEOUT_US) {
        utcp_session_close(core, s, UTCP_RESET_TIMEOUT, false);
        return UINT64_MAX;
    }
    if (now - s->heard_at >= UTCP_KEEPALIVE_US && now >= s->keepalive_at) {
        uint8_t token[UTCP_RELEASE_LEN];
        utcp_put64(token, now);
        utcp_send_control(core, s, UTCP_TYPE_PING, 0, token, sizeof token);
        s->keepalive_at = now + UTCP_KEEPALIVE_US;
    }
    uint64_t ping_due = s->heard_at + UTCP_KEEPALIVE_US;
    if (s->keepalive_at > ping_due)
        ping_due = s->keepalive_at;
    return earlier(s->heard_at + UTCP_IDLE_TIMEOUT_US, ping_due);
}

uint64_t utcp_poll(struct utcp_core *core, uint64_t now) {
    utcp_cookie_rotate(core, now);
    uint64_t deadline = core->cookie_since + UTCP_COOKIE_LIFETIME_US;
    for (size_t i = 0; i < core->session_count; i++) {
        struct utcp_session *s = &core->sessions[i];
        if (s->state == UTCP_HELLO_SENT || s->state == UTCP_CONFIRM_SENT) {
            utcp_handshake_poll(core, s, now);
            if (s->state == UTCP_HELLO_SENT || s->state == UTCP_CONFIRM_SENT)
                deadline = earlier(deadline, s->handshake_retry_at);
        }
        if (s->state != UTCP_ESTABLISHED)
            continue;
        uint64_t next = keepalive(core, s, now);
        if (s->state == UTCP_ESTABLISHED)
            next = earlier(next, utcp_receiver_poll(core, s, now));
        if (s->state == UTCP_ESTABLISHED)
            next = earlier(next, utcp_sender_poll(core, s, now));
        deadline = earlier(deadline, next);
    }
    return deadline;
}

void utcp_address_changed(struct utcp_core *core, uint64_t now) {
    for (size_t i = 0; i < core->session_count; i++) {
        struct utcp_session *s = &core->sessions[i];
        if (s->state != UTCP_ESTABLISHED)
            continue;
        uint8_t token[UTCP_RELEASE_LEN];
        utcp_put64(token, now);
        utcp_send_control(core, s, UTCP_TYPE_PING, 0, token, sizeof token);
    }
}

size_t utcp_sessions_in_use(const struct utcp_core *core) {
    size_t n = 0;
    for (size_t i = 0; i < core->session_count; i++)
        n += core->sessions[i].state != UTCP_FREE;
    return n;
}
