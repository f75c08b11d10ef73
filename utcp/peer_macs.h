/*
 * Where a peer is on the wire (docs/utcp.md, section 11): the Ethernet source MAC of the last
 * frame the core accepted from it, per CellID, in a table the caller owns. A forged source never
 * moves an entry, because only frames that passed every check are learned from. Portable, as
 * the core: the UTCP service and the host node share it.
 */
#ifndef UTCP_PEER_MACS_H
#define UTCP_PEER_MACS_H

#include <stdbool.h>
#include <stdint.h>

#include "utcp.h"

#define UTCP_MAC_LEN 6

struct utcp_peer_mac {
    bool used;
    uint8_t cellid[UTCP_CELLID_LEN];
    uint8_t mac[UTCP_MAC_LEN];
    uint64_t learned_at;
};

/* The MAC last learned for peer, or NULL. */
const uint8_t *utcp_peer_mac_find(const struct utcp_peer_mac *table, unsigned count,
                                  const uint8_t peer[UTCP_CELLID_LEN]);

/* Learns peer's MAC at time now; a new peer takes a free entry or the least recently learned
 * one. True if the peer was known at another MAC (it moved). */
bool utcp_peer_mac_learn(struct utcp_peer_mac *table, unsigned count, const uint8_t peer[UTCP_CELLID_LEN],
                         const uint8_t mac[UTCP_MAC_LEN], uint64_t now);

/* Where a frame for peer goes: its learned MAC; else, while a frame from peer is being received
 * (receiving_peer, its CellID; receiving_from, its source MAC), that frame's source, which is how
 * a handshake is answered; else broadcast (the first HELLO to a node not yet heard). */
const uint8_t *utcp_peer_mac_destination(const struct utcp_peer_mac *table, unsigned count,
                                         const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *receiving_peer,
                                         const uint8_t *receiving_from);

#endif
