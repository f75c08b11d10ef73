/*
 * Frames in and out on NetSwitch port 1 (lib/port/port.h) through the portable core (utcp/).
 * In: every frame goes through utcp_receive, the spec's checks in order (docs/utcp.md, section
 * 7); the core counts each drop by cause, which bus.c publishes. Out: the core's emit callback
 * puts the Ethernet header in front of each frame it seals.
 *
 * Finding a peer: a node knows another by CellID alone. Until a frame of that peer passed every
 * check, frames to it go to the Ethernet broadcast address (in practice the HELLO and its
 * retries): every other node drops them at step 2 (unknown_destination) after reading 20 bytes,
 * and the one addressed answers from its own MAC. An answer made while a frame is being received
 * (a WELCOME, a repeated WINDOW) goes back to that frame's source MAC without remembering it, so
 * a forged source only redirects its own answer. A MAC is remembered only from a frame the core
 * accepted into a session (section 11), so a peer that moves is followed by its next frame.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nexus.h"
#include "port/port.h"
#include "peer_macs.h"
#include "utcpd.h"

#define RX_BATCH 32 /* frames per pass: a flood is handled in bounded batches */
#define PEER_MACS 16

struct wire_counters wire_counters;
struct utcp_core core;

static struct port port;
static uint8_t own_mac[UTCPD_MAC_LEN];

/* A session's slots (2 x UTCPD_WINDOW frames, 384 KiB) come from the heap when it is needed:
 * the service keeps one session more than are in use, up to UTCPD_SESSIONS, so a handshake
 * always finds one unless memory ran out. All eight were 3 MiB of bss, three quarters of what
 * a node's services took at start, most of it for connections that never came. */
static struct utcp_session sessions[UTCPD_SESSIONS];

static struct utcp_peer_mac peer_macs[PEER_MACS];

/* The frame utcp_receive is working on: answers made meanwhile go to its source. */
static const uint8_t *receiving_from;
static const uint8_t *receiving_peer;

uint64_t now_us(void) { return nx_clock_ns() / 1000u; }

const uint8_t *wire_peer_mac(const uint8_t peer[UTCP_CELLID_LEN]) {
    return utcp_peer_mac_find(peer_macs, PEER_MACS, peer);
}

static void learn_mac(const uint8_t peer[UTCP_CELLID_LEN], const uint8_t mac[UTCPD_MAC_LEN], uint64_t now) {
    if (utcp_peer_mac_learn(peer_macs, PEER_MACS, peer, mac, now))
        wire_counters.mac_changes++;
}

static const uint8_t *destination(const uint8_t peer[UTCP_CELLID_LEN]) {
    return utcp_peer_mac_destination(peer_macs, PEER_MACS, peer, receiving_peer, receiving_from);
}

static void emit(void *ctx, const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *frame, size_t len) {
    (void)ctx;
    uint32_t handle;
    if (len + UTCP_ETH_HEADER_LEN > port.info.buf_size || port_tx_take(&port, &handle) != 0) {
        wire_counters.tx_no_buffer++; /* lost like a frame on the wire: NACK or SYNC recovers it */
        return;
    }
    uint8_t *out = port_buffer(&port, handle);
    memcpy(out, destination(peer), UTCPD_MAC_LEN);
    memcpy(out + UTCPD_MAC_LEN, own_mac, UTCPD_MAC_LEN);
    out[12] = UTCP_ETHERTYPE >> 8;
    out[13] = UTCP_ETHERTYPE & 0xff;
    memcpy(out + UTCP_ETH_HEADER_LEN, frame, len);
    port_send(&port, handle, (uint16_t)(len + UTCP_ETH_HEADER_LEN));
    wire_counters.tx_frames++;
}

static void random_bytes(void *ctx, uint8_t *out, size_t len) {
    (void)ctx;
    randombytes_buf(out, len);
}

bool wire_start(const struct utcp_identity *id, uint64_t now) {
    if (port_attach(&port) != 0)
        return false;
    memcpy(own_mac, port.info.mac, UTCPD_MAC_LEN);
    struct utcp_config config = {
        .identity = *id,
        .emit = emit,
        .random = random_bytes,
        .sign = identity_sign,
        .on_data = sockets_on_data,
        .on_fin = sockets_on_fin,
        .room = sockets_room,
        .on_event = sockets_on_event,
    };
    utcp_init(&core, &config, sessions, 0, NULL, UTCPD_WINDOW, now);
    wire_spare_session();
    return true;
}

void wire_spare_session(void) {
    if (core.session_count == UTCPD_SESSIONS || utcp_sessions_in_use(&core) < core.session_count)
        return;
    struct utcp_slot *slots = malloc(2 * UTCPD_WINDOW * sizeof *slots);
    if (!slots) { /* a handshake finds no session (drops/no_room) until one ends */
        wire_counters.session_memory_refused++;
        return;
    }
    utcp_session_add(&core, slots, UTCPD_WINDOW);
}

unsigned wire_sessions_ready(void) { return (unsigned)core.session_count; }

int wire_channel(void) { return port_channel(&port); }
bool wire_sleep_prepare(void) { return port_sleep_prepare(&port); }
void wire_kick(void) { port_flush(&port); }

static void receive_one(const uint8_t *eth, size_t len, uint64_t now) {
    wire_counters.rx_frames++;
    if (len < UTCP_ETH_HEADER_LEN || eth[12] != (UTCP_ETHERTYPE >> 8) || eth[13] != (UTCP_ETHERTYPE & 0xff)) {
        wire_counters.rx_not_utcp++;
        return;
    }
    const uint8_t *frame = eth + UTCP_ETH_HEADER_LEN;
    size_t frame_len = len - UTCP_ETH_HEADER_LEN;
    receiving_from = eth + UTCPD_MAC_LEN;
    receiving_peer = frame_len >= UTCP_OFF_SRC + UTCP_CELLID_LEN ? frame + UTCP_OFF_SRC : NULL;
    struct utcp_session *from;
    enum utcp_drop drop = utcp_receive(&core, frame, frame_len, now, &from);
    if (drop == UTCP_ACCEPTED && from && from->state != UTCP_FREE)
        learn_mac(from->peer, receiving_from, now);
    receiving_from = receiving_peer = NULL;
}

unsigned wire_poll(uint64_t now) {
    struct ion_desc d[RX_BATCH];
    uint32_t n = port_receive(&port, d, RX_BATCH);
    for (uint32_t i = 0; i < n; i++) {
        receive_one(port_buffer(&port, d[i].handle) + d[i].offset, d[i].length, now);
        port_return(&port, d[i].handle); /* the core copied what it keeps */
    }
    return n;
}

uint64_t wire_timers(uint64_t now) { return utcp_poll(&core, now); }
