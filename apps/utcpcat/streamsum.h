/*
 * What utcpcat and utcpsink agree on. A connection starts with the client's 8-byte request (the
 * bytes it wants back, big-endian); then each side sends its bytes (a pattern from a seed, so
 * nothing needs storing) and ends its direction; the sink, having read to the end, appends a
 * 16-byte trailer: the bytes it received and their checksum, so the client compares them with
 * what it sent. Checksums are FNV-1a 64 over the stream's bytes.
 */
#ifndef UTCP_STREAMSUM_H
#define UTCP_STREAMSUM_H

#include <stddef.h>
#include <stdint.h>

#define STREAMSUM_REQUEST_LEN 8
#define STREAMSUM_TRAILER_LEN 16
#define STREAMSUM_FNV_START 0xcbf29ce484222325ull
#define STREAMSUM_SEED_OUT 0x243f6a8885a308d3ull  /* the client's bytes */
#define STREAMSUM_SEED_BACK 0x13198a2e03707344ull /* the sink's bytes */

static inline uint64_t streamsum_add(uint64_t sum, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++)
        sum = (sum ^ data[i]) * 0x100000001b3ull;
    return sum;
}

/* The next len bytes of the pattern seeded by *state (xorshift64, never 0). */
static inline void streamsum_fill(uint64_t *state, uint8_t *out, size_t len) {
    for (size_t i = 0; i < len; i++) {
        uint64_t x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        out[i] = (uint8_t)x;
    }
}

static inline void streamsum_put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t streamsum_get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#endif
