/* The peers' MACs as last learned (peer_macs.h). */
#include "peer_macs.h"

#include <string.h>

static int index_of(const struct utcp_peer_mac *table, unsigned count, const uint8_t peer[UTCP_CELLID_LEN]) {
    for (unsigned i = 0; i < count; i++)
        if (table[i].used && !memcmp(table[i].cellid, peer, UTCP_CELLID_LEN))
            return (int)i;
    return -1;
}

const uint8_t *utcp_peer_mac_find(const struct utcp_peer_mac *table, unsigned count,
                                  const uint8_t peer[UTCP_CELLID_LEN]) {
    int i = index_of(table, count, peer);
    return i >= 0 ? table[i].mac : NULL;
}

bool utcp_peer_mac_learn(struct utcp_peer_mac *table, unsigned count, const uint8_t peer[UTCP_CELLID_LEN],
                         const uint8_t mac[UTCP_MAC_LEN], uint64_t now) {
    if (count == 0)
        return false;
    int i = index_of(table, count, peer);
    bool moved = i >= 0 && memcmp(table[i].mac, mac, UTCP_MAC_LEN) != 0;
    if (i < 0) {
        i = 0;
        for (unsigned j = 1; j < count && table[i].used; j++)
            if (!table[j].used || table[j].learned_at < table[i].learned_at)
                i = (int)j;
        table[i].used = true;
        memcpy(table[i].cellid, peer, UTCP_CELLID_LEN);
    }
    memcpy(table[i].mac, mac, UTCP_MAC_LEN);
    table[i].learned_at = now;
    return moved;
}

const uint8_t *utcp_peer_mac_destination(const struct utcp_peer_mac *table, unsigned count,
                                         const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *receiving_peer,
                                         const uint8_t *receiving_from) {
    static const uint8_t broadcast[UTCP_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *mac = utcp_peer_mac_find(table, count, peer);
    if (mac)
        return mac;
    if (receiving_peer && !memcmp(receiving_peer, peer, UTCP_CELLID_LEN))
        return receiving_from;
    return broadcast;
}
