/*
 * lwf-node's node: a Linux host speaking LWF (docs/lwf.md) through the same portable core as the
 * guest's LWF service (lwf/), on a wire that is one UDP socket on 127.0.0.1 carrying one raw
 * Ethernet frame per datagram, exactly as QEMU's `-netdev dgram` does (docs/wirepeer.md). So the
 * host node is one more port of the wire peer's relay, or can face a single QEMU NIC directly.
 *
 *   node.c      identity, the socket, the peer table (same rules as lwf/service/peers.c: proven
 *               by a signed ANNOUNCE, never evicted), ANNOUNCE/solicit, receive checks,
 *               reassembly, messages out (fragmented above one frame), drop counters
 *   utcp_node.c UTCP (docs/utcp.md) on the same port with the same identity: the core of
 *               utcp/, Ethernet framing, each peer's MAC (utcp_node.h)
 *   utcp_cat.c  UTCP streams checked end to end: the client (utcp-cat) and the sink
 *               (utcp-sink), the protocol of the guest's utcpcat and utcpsink
 *   main.c      the command line: serve, ping, send, recv, utcp-cat, utcp-sink; the echo
 *               service (7)
 *
 * The name says LWF because LWF came first; the node speaks both protocols of the wire, each
 * EtherType to its own receiver (node_add_protocol). Single-threaded: everything happens in
 * node_poll(), called from main's loop.
 */
#ifndef LWF_NODE_H
#define LWF_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lwf.h"

#define NODE_PEERS_MAX 32          /* as the guest's service: a full table refuses newcomers */
#define NODE_REASSEMBLY_SLOTS 4    /* docs/lwf.md, section 7 */
#define NODE_REASSEMBLY_PER_PEER 2

/* Why a datagram was dropped before or after the core's checks: the core's causes (enum
 * lwf_drop) first, then the host's own. node_drop_name() gives each its counter name. */
enum node_drop {
    NODE_DROP_OTHER_ETHERTYPE = LWF_DROP_CAUSES, /* no protocol here speaks it, or shorter than a header */
    NODE_DROP_OTHER_MAC,                 /* unicast to another NIC (the relay floods) */
    NODE_DROP_STRAY,                     /* a datagram from an address other than the wire's */
    NODE_DROP_PEER_TABLE_FULL,           /* a proven ANNOUNCE from a newcomer with no room */
    NODE_DROP_NO_SERVICE,                /* a message for a service nobody here serves */
    NODE_DROP_CAUSES,
};

struct node_peer {
    struct lwf_peer core;
    uint64_t last_seen_ms, frames_in, frames_out, drops;
    uint64_t answered_ms; /* one solicit answer per second */
};

/* A message delivered to the program: valid during the call only. */
struct node_message {
    const uint8_t *src;
    uint16_t service, src_service;
    const uint8_t *data;
    size_t len;
};

struct node;
/* Returns true if the program took the message (else it counts as no_service). */
typedef bool (*node_deliver_fn)(struct node *n, const struct node_message *m, void *ctx);
typedef void (*node_peer_fn)(struct node *n, const struct node_peer *p, void *ctx);

/* A protocol's receiver: a whole Ethernet frame of its EtherType, for this NIC. */
typedef void (*node_frame_fn)(struct node *n, const uint8_t *eth, size_t len, void *ctx);
#define NODE_PROTOCOLS_MAX 2 /* LWF, UTCP */

struct node_protocol {
    uint16_t ethertype;
    node_frame_fn take;
    void *ctx;
};

struct node_counters {
    uint64_t rx_frames, tx_frames, tx_messages, tx_errors;
    uint64_t announces_sent, announces_accepted, delivered;
    uint64_t drops[NODE_DROP_CAUSES];
};

struct node {
    struct lwf_node me;
    struct lwf_local_key key;     /* the host node signs with its own key (me's hooks) */
    bool persistent;              /* the identity came from a key file */
    int fd;
    uint16_t remote_port;
    uint64_t next_sequence;
    uint32_t next_message_id;
    uint64_t last_solicit_ms;
    struct node_peer peers[NODE_PEERS_MAX];
    unsigned npeers;
    struct lwf_reassembly reassembly;
    struct lwf_reassembly_slot slots[NODE_REASSEMBLY_SLOTS];
    uint8_t buffers[NODE_REASSEMBLY_SLOTS][LWF_MESSAGE_MAX];
    struct node_counters counters;
    struct node_protocol protocols[NODE_PROTOCOLS_MAX];
    unsigned nprotocols;
    node_deliver_fn deliver;
    node_peer_fn new_peer;
    void *ctx;
};

uint64_t node_now_ms(void);
uint64_t node_now_us(void);
const char *node_drop_name(enum node_drop cause);
void node_cellid_hex(const uint8_t cellid[LWF_CELLID_LEN], char out[2 * LWF_CELLID_LEN + 1]);
bool node_parse_cellid(const char *text, uint8_t cellid[LWF_CELLID_LEN]);
bool node_parse_mac(const char *text, uint8_t mac[LWF_MAC_LEN]);

/* Loads the identity (key_path: a key file from nexus-keygen; NULL: an ephemeral key), binds
 * 127.0.0.1:local_port and sends to 127.0.0.1:remote_port. mac NULL: 02 followed by the
 * CellID's first five bytes (locally administered, stable for a key file). false with the
 * reason on stderr. */
bool node_open(struct node *n, const char *key_path, const uint8_t *mac, uint16_t local_port,
               uint16_t remote_port);
void node_close(struct node *n);

/* Broadcasts an ANNOUNCE with solicit: every node answers with its own (at most once a second
 * unless forced). */
void node_solicit(struct node *n, bool force);
/* Frames of `ethertype` for this NIC go to take() (LWF's own receiver is the first); false
 * when the table is full. */
bool node_add_protocol(struct node *n, uint16_t ethertype, node_frame_fn take, void *ctx);
/* Sends one Ethernet frame to the wire; false when the socket refused it (counted). */
bool node_transmit(struct node *n, const uint8_t *frame, size_t len);
/* Waits up to timeout_us for frames, takes every one that is there, expires reassembly. */
void node_poll(struct node *n, uint64_t timeout_us);
struct node_peer *node_peer(struct node *n, const uint8_t cellid[LWF_CELLID_LEN]);
/* Sends a message (<= LWF_MESSAGE_MAX) to a known peer: 0, or -errno (EHOSTUNREACH: unknown
 * CellID, an ANNOUNCE is solicited; EMSGSIZE; EIO: the socket refused a frame). */
int node_send(struct node *n, const uint8_t dst[LWF_CELLID_LEN], uint16_t service, uint16_t src_service,
              const uint8_t *msg, size_t len);
/* One line of counters and one of drops by cause, machine-readable (key=value). */
void node_print_counters(const struct node *n, FILE *out);

#endif
