/*
 * The UTCP core on the host node's wire (utcp_node.h). The rules are the guest service's
 * (docs/utcp.md, "The UTCP service", finding a peer): frames to a peer go to its MAC as last
 * learned from a frame the core accepted into a session; before that, an answer made while one
 * of its frames is being received (the WELCOME) goes to that frame's source, and anything else
 * (the HELLO and its retries) to the Ethernet broadcast address.
 */
#include "utcp_node.h"

#include "peer_macs.h"

#include <sodium.h>
#include <string.h>

#define PEER_MACS 16

struct utcp_core utcp_node_core;
struct utcp_node_counters utcp_node_counters;

static struct node *wire;
static struct utcp_session sessions[UTCP_NODE_SESSIONS];
static struct utcp_slot slots[2 * UTCP_NODE_SESSIONS * UTCP_NODE_WINDOW];

static struct utcp_peer_mac peer_macs[PEER_MACS];

/* The frame utcp_receive is working on: answers made meanwhile go to its source. */
static const uint8_t *receiving_from, *receiving_peer;

/* A peer's MAC from an accepted frame (utcp/peer_macs.h). */
static void learn_mac(const uint8_t peer[UTCP_CELLID_LEN], const uint8_t mac[LWF_MAC_LEN], uint64_t now) {
    if (utcp_peer_mac_learn(peer_macs, PEER_MACS, peer, mac, now))
        utcp_node_counters.mac_changes++;
}

static const uint8_t *destination(const uint8_t peer[UTCP_CELLID_LEN]) {
    return utcp_peer_mac_destination(peer_macs, PEER_MACS, peer, receiving_peer, receiving_from);
}

static void emit(void *ctx, const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *frame, size_t len) {
    (void)ctx;
    uint8_t eth[UTCP_ETH_HEADER_LEN + UTCP_FRAME_MAX];
    if (len > UTCP_FRAME_MAX)
        return;
    memcpy(eth, destination(peer), LWF_MAC_LEN);
    memcpy(eth + LWF_MAC_LEN, wire->me.mac, LWF_MAC_LEN);
    eth[12] = UTCP_ETHERTYPE >> 8;
    eth[13] = UTCP_ETHERTYPE & 0xff;
    memcpy(eth + UTCP_ETH_HEADER_LEN, frame, len);
    if (node_transmit(wire, eth, UTCP_ETH_HEADER_LEN + len))
        utcp_node_counters.tx_frames++;
    else
        utcp_node_counters.tx_errors++; /* lost like a frame on the wire: NACK or SYNC recovers it */
}

static void random_bytes(void *ctx, uint8_t *out, size_t len) {
    (void)ctx;
    randombytes_buf(out, len);
}

static void on_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason) {
    if (event == UTCP_EVENT_ESTABLISHED)
        utcp_node_counters.sessions_established++;
    else
        utcp_node_counters.sessions_closed++;
    utcp_cat_on_event(ctx, s, event, reason);
}

static void receive(struct node *n, const uint8_t *eth, size_t len, void *ctx) {
    (void)n, (void)ctx;
    const uint8_t *frame = eth + UTCP_ETH_HEADER_LEN;
    size_t frame_len = len - UTCP_ETH_HEADER_LEN;
    uint64_t now = node_now_us();
    utcp_node_counters.rx_frames++;
    receiving_from = eth + LWF_MAC_LEN;
    receiving_peer = frame_len >= UTCP_OFF_SRC + UTCP_CELLID_LEN ? frame + UTCP_OFF_SRC : NULL;
    struct utcp_session *from;
    if (utcp_receive(&utcp_node_core, frame, frame_len, now, &from) == UTCP_ACCEPTED && from &&
        from->state != UTCP_FREE)
        learn_mac(from->peer, receiving_from, now);
    receiving_from = receiving_peer = NULL;
}

void utcp_node_start(struct node *n) {
    _Static_assert(UTCP_CELLID_LEN == LWF_CELLID_LEN && UTCP_SECRET_KEY_LEN == LWF_SECRET_KEY_LEN,
                   "one key, one CellID for both protocols");
    wire = n;
    struct utcp_config config = {
        .emit = emit,
        .random = random_bytes,
        .on_data = utcp_cat_on_data,
        .on_fin = utcp_cat_on_fin,
        .on_event = on_event,
        /* .sign NULL: the core signs with the secret key this process holds anyway for LWF;
         * .room NULL: utcp_cat.c takes every byte as it comes (it only checks them) */
    };
    utcp_identity_init(&config.identity, n->key.secret_key);
    utcp_init(&utcp_node_core, &config, sessions, UTCP_NODE_SESSIONS, slots, UTCP_NODE_WINDOW, node_now_us());
    sodium_memzero(&config, sizeof config);
    node_add_protocol(n, UTCP_ETHERTYPE, receive, NULL);
}

uint64_t utcp_node_timers(uint64_t now) { return utcp_poll(&utcp_node_core, now); }

void utcp_node_print_counters(FILE *out) {
    const struct utcp_node_counters *c = &utcp_node_counters;
    fprintf(out,
            "utcp counters rx_frames=%llu tx_frames=%llu tx_errors=%llu sessions_established=%llu "
            "sessions_closed=%llu peer_mac_changes=%llu\n",
            (unsigned long long)c->rx_frames, (unsigned long long)c->tx_frames, (unsigned long long)c->tx_errors,
            (unsigned long long)c->sessions_established, (unsigned long long)c->sessions_closed,
            (unsigned long long)c->mac_changes);
    fprintf(out, "utcp drops");
    for (unsigned cause = 1; cause < UTCP_DROP_CAUSES; cause++)
        fprintf(out, " %s=%llu", utcp_drop_name((enum utcp_drop)cause),
                (unsigned long long)utcp_node_core.drops[cause]);
    fprintf(out, "\n");
    fflush(out);
}
