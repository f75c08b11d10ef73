/*
 * Where a peer is on the wire (utcp/peer_macs.h, docs/utcp.md section 11): a learned MAC is
 * found by CellID, a move is reported once, a full table gives up its least recently learned
 * entry, and a frame's destination falls back to the source being answered, then broadcast.
 */
#include <string.h>

#include "check.h"
#include "peer_macs.h"

#define ENTRIES 3

static void cellid(uint8_t out[UTCP_CELLID_LEN], uint8_t n) { memset(out, n, UTCP_CELLID_LEN); }
static void mac(uint8_t out[UTCP_MAC_LEN], uint8_t n) {
    memset(out, 0, UTCP_MAC_LEN);
    out[0] = 0x02;
    out[5] = n;
}

int main(void) {
    check_suite = "utcp_peer_macs";
    struct utcp_peer_mac table[ENTRIES];
    memset(table, 0, sizeof table);
    uint8_t p[5][UTCP_CELLID_LEN], m[5][UTCP_MAC_LEN];
    for (uint8_t i = 0; i < 5; i++) {
        cellid(p[i], (uint8_t)(i + 1));
        mac(m[i], (uint8_t)(i + 1));
    }
    static const uint8_t broadcast[UTCP_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    CHECK("unknown_peer_not_found", utcp_peer_mac_find(table, ENTRIES, p[0]) == NULL);
    CHECK("unknown_peer_goes_broadcast",
          !memcmp(utcp_peer_mac_destination(table, ENTRIES, p[0], NULL, NULL), broadcast, UTCP_MAC_LEN));
    CHECK("answer_goes_to_the_source_being_received",
          utcp_peer_mac_destination(table, ENTRIES, p[0], p[0], m[4]) == m[4]);
    CHECK("another_peer_while_receiving_goes_broadcast",
          !memcmp(utcp_peer_mac_destination(table, ENTRIES, p[0], p[1], m[4]), broadcast, UTCP_MAC_LEN));

    CHECK("first_learn_is_no_move", !utcp_peer_mac_learn(table, ENTRIES, p[0], m[0], 10));
    const uint8_t *found = utcp_peer_mac_find(table, ENTRIES, p[0]);
    CHECK("learned_mac_found", found && !memcmp(found, m[0], UTCP_MAC_LEN));
    CHECK("learned_mac_is_the_destination",
          !memcmp(utcp_peer_mac_destination(table, ENTRIES, p[0], p[0], m[4]), m[0], UTCP_MAC_LEN));
    CHECK("same_mac_again_is_no_move", !utcp_peer_mac_learn(table, ENTRIES, p[0], m[0], 11));
    CHECK("new_mac_is_a_move", utcp_peer_mac_learn(table, ENTRIES, p[0], m[3], 12));
    found = utcp_peer_mac_find(table, ENTRIES, p[0]);
    CHECK("move_followed", found && !memcmp(found, m[3], UTCP_MAC_LEN));

    /* Fill the table (p0 at 12, p1 at 20, p2 at 30), refresh p0, then a fourth peer must take
     * p1's entry, the least recently learned. */
    utcp_peer_mac_learn(table, ENTRIES, p[1], m[1], 20);
    utcp_peer_mac_learn(table, ENTRIES, p[2], m[2], 30);
    utcp_peer_mac_learn(table, ENTRIES, p[0], m[3], 40);
    CHECK("full_table_new_peer_is_no_move", !utcp_peer_mac_learn(table, ENTRIES, p[3], m[0], 50));
    CHECK("least_recently_learned_replaced", utcp_peer_mac_find(table, ENTRIES, p[1]) == NULL);
    CHECK("others_kept", utcp_peer_mac_find(table, ENTRIES, p[0]) && utcp_peer_mac_find(table, ENTRIES, p[2]) &&
                             utcp_peer_mac_find(table, ENTRIES, p[3]));
    CHECK("empty_table_learns_nothing", !utcp_peer_mac_learn(table, 0, p[4], m[4], 60) &&
                                            utcp_peer_mac_find(table, 0, p[4]) == NULL);
    return check_exit();
}
