/*
 * The node's key file (docs/identity.md): what `make keygen` writes and what the signing fiber
 * takes from the kernel's key blob. Version 1 is exactly 73 bytes:
 *     0   8  magic "NEXUS-ID"
 *     8   1  version (1)
 *     9  32  Ed25519 seed (the secret)
 *    41  32  Ed25519 public key of that seed (a check: a reader refuses a file where it differs)
 * Portable C without crypto: the caller supplies the seed -> public key derivation (libsodium's
 * crypto_sign_seed_keypair on the host and in the guest), so the host tool, the guest service,
 * the unit test and the fuzz target share one reader.
 */
#ifndef NEXUS_IDENTITY_KEYFILE_H
#define NEXUS_IDENTITY_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_MAGIC       "NEXUS-ID"
#define KEYFILE_MAGIC_LEN   8
#define KEYFILE_VERSION     1
#define KEYFILE_SEED_LEN    32
#define KEYFILE_PUBLIC_LEN  32
#define KEYFILE_LEN         (KEYFILE_MAGIC_LEN + 1 + KEYFILE_SEED_LEN + KEYFILE_PUBLIC_LEN)

/* CellID = BLAKE2b, 16-byte digest, unkeyed, of this tag's ASCII bytes (no NUL) followed by the
 * 32-byte public key (pinned with the LWF spec, docs/identity.md). */
#define IDENTITY_CELLID_TAG "libertaria-cellid-v1"
#define IDENTITY_CELLID_LEN 16

struct keyfile {
    uint8_t seed[KEYFILE_SEED_LEN];
    uint8_t public_key[KEYFILE_PUBLIC_LEN];
};

enum keyfile_error {
    KEYFILE_OK = 0,
    KEYFILE_BAD_MAGIC = -1,     /* shorter than the magic, or another magic */
    KEYFILE_BAD_VERSION = -2,   /* a version this reader does not know (or none) */
    KEYFILE_BAD_LENGTH = -3,    /* version 1, but not KEYFILE_LEN bytes */
    KEYFILE_DERIVE_FAILED = -4, /* the derivation the caller gave failed */
    KEYFILE_KEY_MISMATCH = -5,  /* the public key is not the seed's */
};

/* Writes public_key from seed; 0 on success. */
typedef int (*keyfile_derive_fn)(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]);

/* Reads a key file of len bytes: KEYFILE_OK with *out filled, or a keyfile_error with *out
 * zeroed (no part of a refused secret is left in it). */
int keyfile_read(const uint8_t *buf, size_t len, keyfile_derive_fn derive, struct keyfile *out);

/* The version-1 file for k. */
void keyfile_write(const struct keyfile *k, uint8_t out[KEYFILE_LEN]);

/* A sentence for an error, e.g. "the public key does not match the seed (a corrupted file?)". */
const char *keyfile_strerror(int err);

#endif
