/*
 * /Bus/utcp/: the service's counters, every drop by cause (/Bus/utcp/drops/<cause>, the core's
 * counts), and one entry per session slot (/Bus/utcp/sessions/<i>/peer and .../state). Only
 * changed values are written; the key count is fixed (the kernel allows a fiber 64 keys).
 */
#include <stdio.h>
#include <string.h>

#include "link/server.h"
#include "nexus.h"
#include "utcpd.h"

#define KEY_MAX 64
#define VALUE_MAX 96

static const char *const state_names[] = {
    [UTCP_FREE] = "free",
    [UTCP_HELLO_SENT] = "hello-sent",
    [UTCP_CONFIRM_SENT] = "confirm-sent",
    [UTCP_ESTABLISHED] = "established",
};

/* The last value written under each key this file owns, in the order it writes them. */
static char shown[2 * UTCPD_SESSIONS + 32 + UTCP_DROP_CAUSES][VALUE_MAX];

static void put(unsigned *slot, const char *key, const char *value) {
    if (strcmp(shown[*slot], value)) {
        snprintf(shown[*slot], VALUE_MAX, "%s", value);
        nx_bus_set(key, value);
    }
    (*slot)++;
}

static void put_count(unsigned *slot, const char *key, uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    put(slot, key, text);
}

static void publish_session(unsigned *slot, unsigned i, const struct utcp_session *s) {
    char key[KEY_MAX], value[VALUE_MAX];
    char peer[2 * UTCP_CELLID_LEN + 1] = "-";
    if (s->state != UTCP_FREE)
        cellid_hex(s->peer, peer);
    snprintf(key, sizeof key, "/Bus/utcp/sessions/%u/peer", i);
    put(slot, key, peer);
    snprintf(key, sizeof key, "/Bus/utcp/sessions/%u/state", i);
    if (s->state == UTCP_ESTABLISHED)
        snprintf(value, sizeof value, "established srtt_us=%llu cwnd=%u out=%llu in=%llu resent=%llu nacks=%llu",
                 (unsigned long long)s->srtt_us, s->cwnd, (unsigned long long)s->stats.frames_out,
                 (unsigned long long)s->stats.frames_in, (unsigned long long)s->stats.retransmissions,
                 (unsigned long long)s->stats.nacks_in);
    else
        snprintf(value, sizeof value, "%s", state_names[s->state]);
    put(slot, key, value);
}

void bus_publish(void) {
    const struct wire_counters *w = &wire_counters;
    const struct link_server_stats *l = link_server_stats();
    const struct {
        const char *key;
        uint64_t value;
    } counters[] = {
        {"/Bus/utcp/rx_frames", w->rx_frames},
        {"/Bus/utcp/tx_frames", w->tx_frames},
        {"/Bus/utcp/tx_no_buffer", w->tx_no_buffer},
        {"/Bus/utcp/rx_not_utcp", w->rx_not_utcp},
        {"/Bus/utcp/handshakes_started", w->handshakes_started},
        {"/Bus/utcp/sessions_established", w->sessions_established},
        {"/Bus/utcp/sessions_closed", w->sessions_closed},
        {"/Bus/utcp/sessions_in_use", utcp_sessions_in_use(&core)},
        {"/Bus/utcp/sessions_ready", wire_sessions_ready()},
        {"/Bus/utcp/session_memory_refused", wire_counters.session_memory_refused},
        {"/Bus/utcp/connections", sockets_connections()},
        {"/Bus/utcp/refused", sockets_refused()},
        {"/Bus/utcp/peer_mac_changes", w->mac_changes},
        {"/Bus/utcp/socket_requests", l->requests},
        {"/Bus/utcp/socket_errors", l->errors},
    };
    unsigned slot = 0;
    for (unsigned i = 0; i < sizeof counters / sizeof counters[0]; i++)
        put_count(&slot, counters[i].key, counters[i].value);
    char key[KEY_MAX];
    for (unsigned c = 1; c < UTCP_DROP_CAUSES; c++) {
        snprintf(key, sizeof key, "/Bus/utcp/drops/%s", utcp_drop_name((enum utcp_drop)c));
        put_count(&slot, key, core.drops[c]);
    }
    for (unsigned i = 0; i < core.session_count; i++)
        publish_session(&slot, i, &core.sessions[i]);
}
