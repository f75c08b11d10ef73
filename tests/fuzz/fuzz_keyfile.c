/* libFuzzer target for lib/identity/keyfile.c: any bytes must read without a sanitizer report;
 * an accepted file is exactly a version-1 file whose public key is the stand-in derivation of
 * its seed, and writing what was read gives the same bytes back; a refusal leaves the output
 * zeroed and has a sentence. (The stand-in derivation stands for Ed25519 here: the reader only
 * compares what it returns.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/keyfile.h"

static int stand_in_derive(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    for (int i = 0; i < KEYFILE_PUBLIC_LEN; i++)
        public_key[i] = (uint8_t)(seed[KEYFILE_SEED_LEN - 1 - i] ^ 0x5a);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1); /* exact size: a read past the end is reported */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct keyfile out;
    memset(&out, 0xee, sizeof out);
    int err = keyfile_read(copy, size, stand_in_derive, &out);
    if (err == KEYFILE_OK) {
        uint8_t again[KEYFILE_LEN];
        keyfile_write(&out, again);
        if (size != KEYFILE_LEN || memcmp(again, copy, KEYFILE_LEN) != 0)
            abort();
    } else {
        const uint8_t *b = (const uint8_t *)&out;
        for (size_t i = 0; i < sizeof out; i++)
            if (b[i])
                abort();
        if (!keyfile_strerror(err) || err >= 0)
            abort();
    }
    free(copy);
    return 0;
}
