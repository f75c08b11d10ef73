/*
 * What the LWF host tests share: the test vectors of docs/lwf.md (tests/host/data/lwf_vectors.txt,
 * written by tools/lwf_vectors.py, not by lwf/), the two nodes they are made from, a third node the
 * vectors do not know, and a small peer table for lwf_receive.
 */
#ifndef LWF_FIXTURE_H
#define LWF_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "lwf.h"

/* Reads <datadir>/lwf_vectors.txt and makes nodes a, b (the vectors' seeds) and c; false on error. */
bool fixture_load(const char *datadir);

/* The bytes of vector `name`; exits the test with a FAIL line if it is missing. */
const uint8_t *vector(const char *name, size_t *len);
uint64_t vector_u64(const char *name);

extern struct lwf_node node_a, node_b, node_c;

/* A node from a 32-byte Ed25519 seed (libsodium's crypto_sign_seed_keypair) and its MAC. */
void fixture_node_from_seed(struct lwf_node *node, const uint8_t seed[32], const uint8_t mac[6]);

struct peer_table {
    struct lwf_peer peers[4];
    size_t count;
};

struct lwf_peer *table_lookup(void *table, const uint8_t cellid[LWF_CELLID_LEN]);
/* Adds `who` as a peer of `me`, its window starting at `sequence`. */
struct lwf_peer *table_add(struct peer_table *t, const struct lwf_node *me, const struct lwf_node *who,
                           uint64_t sequence);

/* A heap copy of exactly `len` bytes, so ASan sees any read past the frame. */
uint8_t *exact_copy(const uint8_t *data, size_t len);

#endif
