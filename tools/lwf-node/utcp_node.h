/*
 * UTCP on the host node (docs/utcp.md, "The host node"): the portable core of utcp/, compiled
 * natively, on the node's wire port (node.h) with the node's own key, so its CellID is the one
 * LWF knows it by. A Nexus node reaches it as it reaches another Nexus node.
 *
 *   utcp_node.c  the core, its frames in (the node's UTCP receiver) and out (Ethernet in front),
 *                each peer's MAC as its accepted frames tell (as the guest's utcp/service/wire.c)
 *   utcp_cat.c   streams checked end to end, the protocol of apps/utcpcat/streamsum.h: a
 *                client like utcpcat and a sink like utcpsink
 *
 * The core's stream callbacks go to utcp_cat.c, which the core's `ctx` does not need: one node,
 * one core per process.
 */
#ifndef UTCP_NODE_H
#define UTCP_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "node.h"
#include "utcp.h"

#define UTCP_NODE_SESSIONS 8 /* as the guest's service: a connection is a session */
#define UTCP_NODE_WINDOW 256 /* frames per direction of a session: twice the guest's, the host has room */

struct utcp_node_counters {
    uint64_t rx_frames, tx_frames, tx_errors, mac_changes;
    uint64_t sessions_established, sessions_closed;
};

extern struct utcp_core utcp_node_core;
extern struct utcp_node_counters utcp_node_counters;

/* Starts the core with the node's identity and takes the node's UTCP frames. */
void utcp_node_start(struct node *n);
/* Runs the core's timers; returns when they want to run again (microseconds, node_now_us). */
uint64_t utcp_node_timers(uint64_t now_us);
/* One line of counters and one of the core's drops by cause (key=value). */
void utcp_node_print_counters(FILE *out);

/* ---- utcp_cat.c: the core's callbacks ---- */
void utcp_cat_on_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len);
void utcp_cat_on_fin(void *ctx, struct utcp_session *s, uint16_t stream);
void utcp_cat_on_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason);

/* ---- utcp_cat.c: the two commands ---- */
/* Listens on `stream`: every session whose first stream frame names it is served as utcpsink
 * serves. */
void utcp_cat_listen(uint16_t stream);
/* Opens `parallel` connections to (peer, stream), each sending `bytes` and asking `back`;
 * false when no session was free. */
bool utcp_cat_connect(const uint8_t peer[UTCP_CELLID_LEN], uint16_t stream, uint64_t bytes, uint64_t back,
                      unsigned parallel, uint64_t now_us);
/* Moves the connections' bytes into the core, ends what is done, prints each connection's line
 * when it ends; returns how many client connections are still running. */
unsigned utcp_cat_pump(uint64_t now_us);
/* The client connections' verdict: true when every one ended intact. */
bool utcp_cat_intact(void);

#endif
