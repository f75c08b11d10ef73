/* The LWF host tests' shared setup (lwf_fixture.h). */
#include "lwf_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vector_file.h"

struct lwf_node node_a, node_b, node_c;

void fixture_node_from_seed(struct lwf_node *node, const uint8_t seed[32], const uint8_t mac[6]) {
    static struct lwf_local_key keys[8]; /* a node's key lives as long as the test */
    static size_t keys_used;
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, seed);
    lwf_node_init(node, &keys[keys_used++ % 8], secret_key, mac);
}

bool fixture_load(const char *datadir) {
    char path[512];
    snprintf(path, sizeof path, "%s/lwf_vectors.txt", datadir);
    if (!vector_file_load(path) || sodium_init() < 0)
        return false;
    static const uint8_t seed_c[32] = {0xC0, 0xFF, 0xEE};
    static const uint8_t mac_c[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0c};
    fixture_node_from_seed(&node_a, vector("seed_a", NULL), vector("mac_a", NULL));
    fixture_node_from_seed(&node_b, vector("seed_b", NULL), vector("mac_b", NULL));
    fixture_node_from_seed(&node_c, seed_c, mac_c);
    return true;
}

const uint8_t *vector(const char *name, size_t *len) {
    return vector_bytes(name, len);
}

uint64_t vector_u64(const char *name) {
    return vector_number(name);
}

struct lwf_peer *table_lookup(void *table, const uint8_t cellid[LWF_CELLID_LEN]) {
    struct peer_table *t = table;
    for (size_t i = 0; i < t->count; i++)
        if (memcmp(t->peers[i].cellid, cellid, LWF_CELLID_LEN) == 0)
            return &t->peers[i];
    return NULL;
}

struct lwf_peer *table_add(struct peer_table *t, const struct lwf_node *me, const struct lwf_node *who,
                           uint64_t sequence) {
    struct lwf_peer *p = &t->peers[t->count];
    if (t->count == sizeof t->peers / sizeof t->peers[0] ||
        !lwf_peer_init(p, me, who->public_key, who->mac, sequence))
        return NULL;
    t->count++;
    return p;
}

uint8_t *exact_copy(const uint8_t *data, size_t len) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    if (len)
        memcpy(copy, data, len);
    return copy;
}
