/*
 * The node's key pair (docs/identity.md). The kernel holds the key file the user booted with
 * (`make run IDENTITY=node.key`, handed over through -initrd) as an opaque blob that only a fiber
 * with the keyblob promise can take, once: this one. It derives the key pair, wipes the copy and
 * gives the promise up. Without a blob it makes an ephemeral key from the entropy syscall
 * (virtio-rng), and /Bus/lwf/identity says so. The secret stays in this fiber's memory for its
 * whole life; /Bus gets the CellID and the public key only.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "identity/keyfile.h"
#include "nexus.h"
#include "signer.h"

#define AFTER_TAKE_PLEDGE "stdio wbus sign" /* the blob is taken: keyblob and rbus go */

static int derive_public(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
    int err = crypto_sign_seed_keypair(public_key, secret, seed);
    sodium_memzero(secret, sizeof secret);
    return err;
}

/* The blob is gone: because this signer ran before and took it (a restart), or because none
 * was given. The kernel's /Bus/boot/keyblob tells which. */
static uint8_t kind_without_blob(void) {
    char state[32] = "";
    nx_bus_get("/Bus/boot/keyblob", state, sizeof state);
    return strncmp(state, "taken", 5) == 0 ? SIGN_KIND_EPHEMERAL_RESTARTED : SIGN_KIND_EPHEMERAL_NO_FILE;
}

/* The key file from the kernel's blob into secret[] (libsodium's seed || public key): the kind
 * it makes, 0 when there is no blob to take. */
static uint8_t take_key_file(uint8_t secret[LWF_SECRET_KEY_LEN]) {
    uint8_t blob[KEYFILE_LEN + 1]; /* one more: a longer blob is not a key file */
    long n = nx_keyblob_take(blob, sizeof blob);
    if (n == -ENOENT)
        return 0;
    if (n < 0) {
        printf("signer: the boot key blob could not be taken (error %ld)\n", -n);
        return SIGN_KIND_EPHEMERAL_REFUSED;
    }
    struct keyfile k;
    int err = keyfile_read(blob, (size_t)n, derive_public, &k);
    sodium_memzero(blob, sizeof blob);
    if (err != KEYFILE_OK) {
        printf("signer: the boot key blob is not a key file: %s\n", keyfile_strerror(err));
        return SIGN_KIND_EPHEMERAL_REFUSED;
    }
    uint8_t public_key[LWF_PUBLIC_KEY_LEN];
    crypto_sign_seed_keypair(public_key, secret, k.seed);
    sodium_memzero(&k, sizeof k);
    return SIGN_KIND_PERSISTENT;
}

static void publish_hex(const char *key, const uint8_t *bytes, unsigned len) {
    char text[2 * LWF_PUBLIC_KEY_LEN + 1];
    for (unsigned i = 0; i < len; i++)
        snprintf(text + 2 * i, 3, "%02x", bytes[i]);
    nx_bus_set(key, text);
}

bool keys_load(struct signer_keys *k) {
    uint8_t taken = take_key_file(k->secret_key);
    k->kind = taken ? taken : kind_without_blob();
    nx_pledge(AFTER_TAKE_PLEDGE);
    /* A bad key file is not replaced silently by a key nobody asked for: the node runs with an
     * ephemeral identity, but says why. */
    if (k->kind != SIGN_KIND_PERSISTENT && crypto_sign_keypair(k->public_key, k->secret_key) != 0) {
        printf("signer: cannot make a key pair (no entropy source?)\n");
        return false;
    }
    crypto_sign_ed25519_sk_to_pk(k->public_key, k->secret_key);
    lwf_cellid(k->public_key, k->cellid);
    publish_hex("/Bus/net/cellid", k->cellid, LWF_CELLID_LEN);
    publish_hex("/Bus/lwf/public_key", k->public_key, LWF_PUBLIC_KEY_LEN);
    nx_bus_set("/Bus/lwf/identity", sign_kind_text(k->kind));
    return true;
}
