/*
 * The peer table: every node proven by a signed ANNOUNCE (docs/lwf.md, section 9), with what
 * the receive checks need (key, pairwise key, MAC, replay window) and what the operator sees
 * under /Bus/lwf/peers/<cellid>/: mac, last_seen_ms, frames_in, frames_out, drops. A peer is
 * never evicted: a full table refuses new nodes (counted), so a flood of forged identities
 * cannot push out the real ones.
 */
#include <stdio.h>
#include <string.h>

#include "lwfd.h"
#include "nexus.h"

static struct peer peers[PEERS_MAX];
static unsigned npeers;

struct peer *peer_find(const uint8_t cellid[LWF_CELLID_LEN]) {
    for (unsigned i = 0; i < npeers; i++)
        if (!memcmp(peers[i].core.cellid, cellid, LWF_CELLID_LEN))
            return &peers[i];
    return NULL;
}

struct lwf_peer *peer_lookup(void *table, const uint8_t cellid[LWF_CELLID_LEN]) {
    (void)table;
    struct peer *p = peer_find(cellid);
    return p ? &p->core : NULL;
}

struct peer *peer_of(struct lwf_peer *core) {
    return (struct peer *)((uint8_t *)core - offsetof(struct peer, core));
}

struct peer *peer_add(const struct lwf_node *me, const uint8_t public_key[LWF_PUBLIC_KEY_LEN],
                      const uint8_t mac[LWF_MAC_LEN], uint64_t sequence, uint64_t now_ms) {
    if (npeers == PEERS_MAX)
        return NULL;
    struct peer *p = &peers[npeers];
    memset(p, 0, sizeof *p);
    if (!lwf_peer_init(&p->core, me, public_key, mac, sequence))
        return NULL;
    p->used = true;
    p->last_seen_ms = now_ms;
    p->dirty = true;
    npeers++;
    return p;
}

unsigned peer_count(void) { return npeers; }

void peers_publish(void) {
    for (unsigned i = 0; i < npeers; i++) {
        struct peer *p = &peers[i];
        if (!p->dirty)
            continue;
        p->dirty = false;
        char id[2 * LWF_CELLID_LEN + 1], key[96], value[32];
        cellid_hex(p->core.cellid, id);
        const uint8_t *m = p->core.mac;
        const struct {
            const char *name;
            uint64_t value;
        } counts[] = {
            {"last_seen_ms", p->last_seen_ms},
            {"frames_in", p->frames_in},
            {"frames_out", p->frames_out},
            {"drops", p->drops},
        };
        snprintf(key, sizeof key, "/Bus/lwf/peers/%s/mac", id);
        snprintf(value, sizeof value, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        nx_bus_set(key, value);
        for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            snprintf(key, sizeof key, "/Bus/lwf/peers/%s/%s", id, counts[c].name);
            snprintf(value, sizeof value, "%llu", (unsigned long long)counts[c].value);
            nx_bus_set(key, value);
        }
    }
}
