/*
 * The node's key pair (docs/identity.md). The kernel holds the key file the user booted with
 * (`make run IDENTITY=node.key`, handed over through -initrd) as an opaque blob that only a fiber
 * with the keyblob promise can take, once. This fiber takes it, derives the key pair, wipes the
 * copy, and gives the promise up. Without a blob it makes an ephemeral key from the entropy
 * syscall (virtio-rng), and /Bus/lwf/identity says so. The secret stays in this fiber's memory;
 * /Bus gets the CellID and the public key only.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "identity/keyfile.h"
#include "lwfd.h"
#include "nexus.h"

void cellid_hex(const uint8_t cellid[LWF_CELLID_LEN], char out[2 * LWF_CELLID_LEN + 1]) {
    for (unsigned i = 0; i < LWF_CELLID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", cellid[i]);
}

static int derive_public(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
    int err = crypto_sign_seed_keypair(public_key, secret, seed);
    sodium_memzero(secret, sizeof secret);
    return err;
}

/* The key file from the kernel's blob into secret[] (libsodium's seed || public key): 1 taken,
 * 0 there is none, -1 there is one but it is not a key file (said on the console). */
static int take_key_file(uint8_t secret[LWF_SECRET_KEY_LEN]) {
    uint8_t blob[KEYFILE_LEN + 1]; /* one more: a longer blob is not a key file */
    long n = nx_keyblob_take(blob, sizeof blob);
    if (n == -ENOENT)
        return 0;
    if (n < 0) {
        printf("lwf: the boot key blob could not be taken (error %ld)\n", -n);
        return -1;
    }
    struct keyfile k;
    int err = keyfile_read(blob, (size_t)n, derive_public, &k);
    sodium_memzero(blob, sizeof blob);
    if (err != KEYFILE_OK) {
        printf("lwf: the boot key blob is not a key file: %s\n", keyfile_strerror(err));
        return -1;
    }
    uint8_t public_key[LWF_PUBLIC_KEY_LEN];
    crypto_sign_seed_keypair(public_key, secret, k.seed);
    sodium_memzero(&k, sizeof k);
    return 1;
}

static void publish_hex(const char *key, const uint8_t *bytes, unsigned len) {
    char text[2 * LWF_PUBLIC_KEY_LEN + 1];
    for (unsigned i = 0; i < len; i++)
        snprintf(text + 2 * i, 3, "%02x", bytes[i]);
    nx_bus_set(key, text);
}

bool identity_load(struct lwf_node *me, const uint8_t mac[LWF_MAC_LEN]) {
    uint8_t secret[LWF_SECRET_KEY_LEN], public_key[LWF_PUBLIC_KEY_LEN];
    int taken = take_key_file(secret);
    const char *kind = "persistent: the key file given at boot";
    if (taken <= 0) {
        /* A bad key file is not replaced silently by a key nobody asked for: the node runs
         * with an ephemeral identity, but says why. */
        kind = taken < 0 ? "ephemeral: the key file given at boot was refused" : "ephemeral: no key file given at boot";
        if (crypto_sign_keypair(public_key, secret) != 0) {
            printf("lwf: cannot make a key pair (no entropy source?)\n");
            return false;
        }
    }
    nx_pledge("stdio net lwf wbus"); /* the blob is taken: the promise is not needed again */
    lwf_node_init(me, secret, mac);
    sodium_memzero(secret, sizeof secret);
    char cellid[2 * LWF_CELLID_LEN + 1];
    cellid_hex(me->cellid, cellid);
    nx_bus_set("/Bus/net/cellid", cellid);
    publish_hex("/Bus/lwf/public_key", me->public_key, LWF_PUBLIC_KEY_LEN);
    nx_bus_set("/Bus/lwf/identity", kind);
    printf("lwf: CellID %s (%s)\n", cellid, kind);
    return true;
}
