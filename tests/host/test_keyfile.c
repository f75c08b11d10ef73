/* lib/identity/keyfile.c: the key file's layout, each refusal, and that a refused secret is not
 * left in the output. The seed -> public key derivation is a stand-in here (the real one,
 * Ed25519 through libsodium, is checked by tests/tools/test_keygen.py against python3-nacl). */
#include <string.h>

#include "check.h"
#include "identity/keyfile.h"

/* Not a signature scheme: a fixed, seed-dependent mapping the reader cannot tell from one. */
static int stand_in_derive(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    for (int i = 0; i < KEYFILE_PUBLIC_LEN; i++)
        public_key[i] = (uint8_t)(seed[KEYFILE_SEED_LEN - 1 - i] ^ 0x5a);
    return 0;
}

static int failing_derive(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    (void)public_key, (void)seed;
    return -1;
}

static int all_zero(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Reads buf with the stand-in over an output full of garbage; the error, and whether a refusal
 * left the output zeroed. */
static int read_garbled(const uint8_t *buf, size_t len, keyfile_derive_fn derive, int *zeroed) {
    struct keyfile out;
    memset(&out, 0xee, sizeof out);
    int err = keyfile_read(buf, len, derive, &out);
    *zeroed = all_zero(&out, sizeof out);
    return err;
}

int main(void) {
    check_suite = "keyfile";
    struct keyfile k, back;
    uint8_t file[KEYFILE_LEN + 1], bad[KEYFILE_LEN + 1];
    int zeroed;
    for (int i = 0; i < KEYFILE_SEED_LEN; i++)
        k.seed[i] = (uint8_t)i;
    stand_in_derive(k.public_key, k.seed);
    keyfile_write(&k, file);

    CHECK("length_is_73", KEYFILE_LEN == 73);
    CHECK("layout_magic_version", memcmp(file, "NEXUS-ID", 8) == 0 && file[8] == 1);
    CHECK("layout_seed_then_public", memcmp(file + 9, k.seed, 32) == 0 && memcmp(file + 41, k.public_key, 32) == 0);
    CHECK("round_trip", keyfile_read(file, KEYFILE_LEN, stand_in_derive, &back) == KEYFILE_OK &&
                            memcmp(&back, &k, sizeof k) == 0);

    memcpy(bad, file, KEYFILE_LEN);
    bad[0] = 'n';
    CHECK("bad_magic_refused", read_garbled(bad, KEYFILE_LEN, stand_in_derive, &zeroed) == KEYFILE_BAD_MAGIC && zeroed);
    CHECK("empty_refused", read_garbled(file, 0, stand_in_derive, &zeroed) == KEYFILE_BAD_MAGIC && zeroed);
    CHECK("magic_only_refused", read_garbled(file, 8, stand_in_derive, &zeroed) == KEYFILE_BAD_VERSION && zeroed);
    memcpy(bad, file, KEYFILE_LEN);
    bad[8] = 2;
    CHECK("version_2_refused", read_garbled(bad, KEYFILE_LEN, stand_in_derive, &zeroed) == KEYFILE_BAD_VERSION && zeroed);
    bad[8] = 0;
    CHECK("version_0_refused", read_garbled(bad, KEYFILE_LEN, stand_in_derive, &zeroed) == KEYFILE_BAD_VERSION && zeroed);
    CHECK("truncated_refused", read_garbled(file, KEYFILE_LEN - 1, stand_in_derive, &zeroed) == KEYFILE_BAD_LENGTH && zeroed);
    file[KEYFILE_LEN] = 0;
    CHECK("appended_refused", read_garbled(file, KEYFILE_LEN + 1, stand_in_derive, &zeroed) == KEYFILE_BAD_LENGTH && zeroed);
    int every_flip_refused = 1;
    for (size_t at = 9; at < KEYFILE_LEN; at++) { /* any seed or public key byte */
        memcpy(bad, file, KEYFILE_LEN);
        bad[at] ^= 0x01;
        every_flip_refused &= read_garbled(bad, KEYFILE_LEN, stand_in_derive, &zeroed) == KEYFILE_KEY_MISMATCH && zeroed;
    }
    CHECK("any_key_bit_flip_is_a_mismatch", every_flip_refused);
    CHECK("derive_failure_refused", read_garbled(file, KEYFILE_LEN, failing_derive, &zeroed) == KEYFILE_DERIVE_FAILED && zeroed);

    CHECK("strerror_mismatch", strstr(keyfile_strerror(KEYFILE_KEY_MISMATCH), "does not match the seed") != NULL);
    CHECK("strerror_magic", strstr(keyfile_strerror(KEYFILE_BAD_MAGIC), "not a Nexus key file") != NULL);
    CHECK("strerror_unknown", strcmp(keyfile_strerror(-99), "unknown key file error") == 0 &&
                                  strcmp(keyfile_strerror(3), "unknown key file error") == 0);
    return check_exit();
}
