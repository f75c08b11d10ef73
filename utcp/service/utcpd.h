/*
 * The UTCP service (utcp/service/): the portable core of utcp/ on NetSwitch port 1 (EtherType
 * 0x88B5), AF_UTCP stream sockets for apps over service links, counters under /Bus/utcp/. One
 * fiber, one loop (utcpd.c): frames in -> utcp_receive -> streams -> sockets; app requests ->
 * utcp_send -> frames out through the core's emit; the core's timers; counters to /Bus.
 *
 *   identity.c  the node's public key and CellID, and handshake signatures, asked of the signer
 *   wire.c      the port, Ethernet framing, each peer's MAC, the core and its callbacks
 *   sockets.c   the socket protocol (nexus/sockproto.h) for AF_UTCP streams: one session per
 *               connection, its stream number the address's
 *   bus.c       /Bus/utcp/: counters, drops by cause, sessions
 */
#ifndef UTCPD_H
#define UTCPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/signer_client.h" /* cellid_hex */
#include "utcp.h"

#define UTCPD_SESSIONS 8   /* connections at once: each is a session with its own window, its
                              * memory taken from the heap when needed (wire.c) */
#define UTCPD_WINDOW 128   /* frames per direction of a session (2 x 128 x 1.5 KiB each) */
#define UTCPD_MAC_LEN 6

/* ---- identity.c ---- */
/* The signer's public key and CellID into *id (secret_key stays zero). Waits for a signer that
 * is not up yet (30 s at most); false if there is none or it refuses (the reason is printed). */
bool identity_load(struct utcp_identity *id);
/* The core's sign hook: UTCP_SIGNATURE_TAG || message, signed by the signer. */
bool identity_sign(void *ctx, const uint8_t *message, size_t len, uint8_t signature[UTCP_SIGNATURE_LEN]);
/* The signer died or restarted since: nothing more can be signed by this instance. */
bool identity_lost(void);

/* ---- wire.c ---- */
struct wire_counters {
    uint64_t rx_frames, tx_frames, tx_no_buffer, rx_not_utcp;
    uint64_t handshakes_started, sessions_established, sessions_closed, mac_changes;
    uint64_t session_memory_refused; /* a spare session's slots found no heap */
};
extern struct wire_counters wire_counters;
extern struct utcp_core core;

/* Binds the port, starts the core with `id`; false without a port. */
bool wire_start(const struct utcp_identity *id, uint64_t now_us);
/* Takes up to a batch of received frames through the core; returns how many. */
unsigned wire_poll(uint64_t now_us);
/* Runs the core's timers; returns when they want to run again. */
uint64_t wire_timers(uint64_t now_us);
/* Keeps a free session ready: gives the core one more from the heap when all are in use. */
void wire_spare_session(void);
/* Sessions the core has (with their memory), in use or not. */
unsigned wire_sessions_ready(void);
void wire_kick(void);
bool wire_sleep_prepare(void);
int wire_channel(void);
/* The MAC frames to `peer` go to (broadcast until one of its frames was accepted). */
const uint8_t *wire_peer_mac(const uint8_t peer[UTCP_CELLID_LEN]);
uint64_t now_us(void);

/* ---- sockets.c (the core's stream callbacks land here) ---- */
unsigned sockets_attach(void);
void sockets_on_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len);
void sockets_on_fin(void *ctx, struct utcp_session *s, uint16_t stream);
size_t sockets_room(void *ctx, struct utcp_session *s, uint16_t stream);
void sockets_on_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason);
/* After the core ran: sockets whose session can take more bytes become writable. */
void sockets_refresh(void);
unsigned sockets_connections(void);
/* Sessions reset because their first stream frame found no listener. */
uint64_t sockets_refused(void);

/* ---- bus.c ---- */
void bus_publish(void);

#endif
