/*
 * The LWF service (lwf/service/): the portable core of lwf/ on NetSwitch port 2 (EtherType
 * 0x4C57), the node's identity, its peers, and AF_LWF sockets for apps over service links.
 * One fiber, one loop (lwfd.c): frames in -> receive checks -> reassembly -> sockets; app
 * requests -> frames out; timers (reassembly timeouts, solicited announces); counters to /Bus.
 *
 *   identity.c  the node's identity and signatures, asked of the signer (signer/): no secret here
 *   peers.c     the peer table (CellID -> key, pairwise key, MAC, window) and its /Bus view
 *   wire.c      frames in and out: sequence, ANNOUNCE, DATA with fragmentation, drop counters
 *   sockets.c   the socket protocol (nexus/sockproto.h) for AF_LWF datagrams
 */
#ifndef LWFD_H
#define LWFD_H

#include <stdbool.h>
#include <stdint.h>

#include "identity/signer_client.h" /* cellid_hex */
#include "lwf.h"

/* ---- identity.c ---- */
/* Makes *me from the signer's public key and CellID, its hooks asking the signer, and the first
 * sequence number (docs/lwf.md, section 8) above every one an earlier start of this service
 * used. Waits for a signer that is not up yet (30 s at most). false if there is none or it
 * refuses (the reason is printed). */
bool identity_load(struct lwf_node *me, const uint8_t mac[LWF_MAC_LEN], uint64_t *first_sequence);
/* The signer died or restarted since: nothing more can be signed by this instance. */
bool identity_lost(void);

/* ---- peers.c ---- */
#define PEERS_MAX 32

struct peer {
    struct lwf_peer core; /* what the receive checks need */
    bool used;
    uint64_t last_seen_ms;
    uint64_t frames_in, frames_out, drops;
    uint64_t solicit_answered_ms; /* rate limit: one answer per second */
    bool dirty;                   /* its /Bus view is stale */
};

struct peer *peer_find(const uint8_t cellid[LWF_CELLID_LEN]);
/* The lookup lwf_receive takes. */
struct lwf_peer *peer_lookup(void *table, const uint8_t cellid[LWF_CELLID_LEN]);
struct peer *peer_of(struct lwf_peer *core);
/* Adds a node proven by an ANNOUNCE; NULL if the table is full or its key is unusable. */
struct peer *peer_add(const struct lwf_node *me, const uint8_t public_key[LWF_PUBLIC_KEY_LEN],
                      const uint8_t mac[LWF_MAC_LEN], uint64_t sequence, uint64_t now_ms);
unsigned peer_count(void);
/* Writes the changed peers under /Bus/lwf/peers/<cellid>/. */
void peers_publish(void);

/* ---- wire.c ---- */
struct wire_counters {
    uint64_t rx_frames, tx_frames, tx_no_buffer, tx_messages;
    uint64_t drops[LWF_DROP_CAUSES];
    uint64_t announces_sent, announces_accepted;
    uint64_t delivered, no_socket, queue_full;
};
extern struct wire_counters wire_counters;

/* Binds the port; false without one. */
bool wire_start(uint8_t mac[LWF_MAC_LEN]);
void wire_set_node(const struct lwf_node *me, uint64_t first_sequence);
/* Broadcasts an ANNOUNCE asking every node to answer (at most once a second). */
void wire_solicit(uint64_t now_ms);
/* Takes up to a batch of received frames through the checks; returns how many. */
unsigned wire_poll(uint64_t now_ms);
/* Queues a message of len bytes (<= LWF_MESSAGE_MAX) for (dst, service) from src_service, every
 * frame signed if `sign` (fragments always are). 0,
 * -EHOSTUNREACH (unknown CellID: an ANNOUNCE is solicited), -EAGAIN (the send queue is full),
 * -EMSGSIZE. A message to this node itself is delivered locally. */
int wire_send(const uint8_t dst[LWF_CELLID_LEN], uint16_t service, uint16_t src_service, bool sign, const uint8_t *msg,
              uint32_t len, uint64_t now_ms);
/* Sends queued fragments as TX buffers allow, a bounded batch per call; returns the frames
 * sent. */
unsigned wire_flush_queue(void);
/* Room for one more message in the send queue. */
bool wire_can_send(void);
/* Hands the queued frames to the kernel. */
void wire_kick(void);
/* Reassembly timeouts. */
void wire_tick(uint64_t now_ms);
/* Reassembly slots holding part of a message (each is freed by its last fragment or timeout). */
unsigned wire_reassembly_busy(void);
/* Before sleeping: true if nothing waits on the port. */
bool wire_sleep_prepare(void);
int wire_channel(void);

/* ---- sockets.c ---- */
/* Maps the apps' links; how many. */
unsigned sockets_attach_node(const struct lwf_node *me);
/* A message arrived for `service`: queued on the socket bound to it. 0, -ENOENT (no socket),
 * -ENOBUFS (its queue is full). */
int sockets_deliver(uint16_t service, const uint8_t src[LWF_CELLID_LEN], uint16_t src_service, const uint8_t *msg,
                    uint32_t len);
/* The send queue has room again: sockets become writable. */
void sockets_writable(void);

#endif
