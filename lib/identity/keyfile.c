#include "keyfile.h"

#include <string.h>

#define VERSION_AT (KEYFILE_MAGIC_LEN)
#define SEED_AT    (VERSION_AT + 1)
#define PUBLIC_AT  (SEED_AT + KEYFILE_SEED_LEN)

/* Zeroes through a volatile pointer so that the wipe of a refused secret is never optimised away. */
static void wipe(void *p, size_t n) {
    volatile uint8_t *b = p;
    while (n--)
        *b++ = 0;
}

static int check_layout(const uint8_t *buf, size_t len) {
    if (len < KEYFILE_MAGIC_LEN || memcmp(buf, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN) != 0)
        return KEYFILE_BAD_MAGIC;
    if (len <= VERSION_AT || buf[VERSION_AT] != KEYFILE_VERSION)
        return KEYFILE_BAD_VERSION;
    return len == KEYFILE_LEN ? KEYFILE_OK : KEYFILE_BAD_LENGTH;
}

int keyfile_read(const uint8_t *buf, size_t len, keyfile_derive_fn derive, struct keyfile *out) {
    uint8_t derived[KEYFILE_PUBLIC_LEN];
    int err = check_layout(buf, len);
    wipe(out, sizeof *out);
    if (err != KEYFILE_OK)
        return err;
    if (derive(derived, buf + SEED_AT) != 0)
        return KEYFILE_DERIVE_FAILED;
    if (memcmp(derived, buf + PUBLIC_AT, KEYFILE_PUBLIC_LEN) != 0)
        return KEYFILE_KEY_MISMATCH;
    memcpy(out->seed, buf + SEED_AT, KEYFILE_SEED_LEN);
    memcpy(out->public_key, buf + PUBLIC_AT, KEYFILE_PUBLIC_LEN);
    return KEYFILE_OK;
}

void keyfile_write(const struct keyfile *k, uint8_t out[KEYFILE_LEN]) {
    memcpy(out, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN);
    out[VERSION_AT] = KEYFILE_VERSION;
    memcpy(out + SEED_AT, k->seed, KEYFILE_SEED_LEN);
    memcpy(out + PUBLIC_AT, k->public_key, KEYFILE_PUBLIC_LEN);
}

static const char *const error_text[] = {
    [-KEYFILE_OK] = "ok",
    [-KEYFILE_BAD_MAGIC] = "not a Nexus key file (it does not start with \"" KEYFILE_MAGIC "\")",
    [-KEYFILE_BAD_VERSION] = "a key file version this build cannot read (it reads version 1)",
    [-KEYFILE_BAD_LENGTH] = "a version 1 key file is 73 bytes; this one is not (truncated or appended to?)",
    [-KEYFILE_DERIVE_FAILED] = "the public key could not be derived from the seed",
    [-KEYFILE_KEY_MISMATCH] = "the public key does not match the seed (a corrupted file?)",
};

const char *keyfile_strerror(int err) {
    if (err > 0 || err <= -(int)(sizeof error_text / sizeof error_text[0]))
        return "unknown key file error";
    return error_text[-err];
}
