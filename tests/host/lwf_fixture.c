/* The LWF host tests' shared setup (lwf_fixture.h). */
#include "lwf_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define VECTORS_MAX 64
#define POOL_BYTES  (32 * 1024)

struct named_vector {
    char name[48];
    const uint8_t *bytes;
    size_t len;
};

static struct named_vector vectors[VECTORS_MAX];
static size_t vector_count;
static uint8_t pool[POOL_BYTES];
static size_t pool_used;

struct lwf_node node_a, node_b, node_c;

static int hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Appends the hex digits of `hex` (up to the line's end) to the newest vector. */
static bool add_hex(const char *hex) {
    size_t digits = strcspn(hex, "\r\n");
    if (vector_count == 0 || digits % 2 || pool_used + digits / 2 > POOL_BYTES)
        return false;
    for (size_t i = 0; i < digits; i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        pool[pool_used++] = (uint8_t)(hi << 4 | lo);
    }
    vectors[vector_count - 1].len += digits / 2;
    return true;
}

/* A `name = hex` line starts a vector, an indented line continues it; false on anything else. */
static bool add_line(const char *line) {
    if (strncmp(line, "    ", 4) == 0)
        return add_hex(line + 4);
    char name[48];
    int value_at = 0;
    if (sscanf(line, "%47s = %n", name, &value_at) != 1 || value_at == 0 || vector_count == VECTORS_MAX)
        return false;
    struct named_vector *v = &vectors[vector_count++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->bytes = pool + pool_used;
    v->len = 0;
    return add_hex(line + value_at);
}

void fixture_node_from_seed(struct lwf_node *node, const uint8_t seed[32], const uint8_t mac[6]) {
    static struct lwf_local_key keys[8]; /* a node's key lives as long as the test */
    static size_t keys_used;
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, seed);
    lwf_node_init(node, &keys[keys_used++ % 8], secret_key, mac);
}

bool fixture_load(const char *datadir) {
    char path[512];
    char line[8192];
    snprintf(path, sizeof path, "%s/lwf_vectors.txt", datadir);
    FILE *f = fopen(path, "r");
    if (!f || sodium_init() < 0)
        return false;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f))
        if (line[0] != '#' && line[0] != '\n')
            ok = add_line(line);
    fclose(f);
    if (!ok)
        return false;
    static const uint8_t seed_c[32] = {0xC0, 0xFF, 0xEE};
    static const uint8_t mac_c[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0c};
    fixture_node_from_seed(&node_a, vector("seed_a", NULL), vector("mac_a", NULL));
    fixture_node_from_seed(&node_b, vector("seed_b", NULL), vector("mac_b", NULL));
    fixture_node_from_seed(&node_c, seed_c, mac_c);
    return true;
}

const uint8_t *vector(const char *name, size_t *len) {
    for (size_t i = 0; i < vector_count; i++) {
        if (strcmp(vectors[i].name, name) == 0) {
            if (len)
                *len = vectors[i].len;
            return vectors[i].bytes;
        }
    }
    printf("FAIL lwf.vector_present: no vector named %s\n", name);
    exit(1);
}

uint64_t vector_u64(const char *name) {
    size_t len;
    const uint8_t *p = vector(name, &len);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v << 8 | p[i];
    return v;
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
