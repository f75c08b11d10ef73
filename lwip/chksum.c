/* The Internet checksum, 8 bytes at a time (chksum.h). */
#include "chksum.h"

typedef uint16_t __attribute__((may_alias)) u16_alias;
typedef uint64_t __attribute__((may_alias)) u64_alias;

/* a + b with the carry out of bit 63 added back in (ones' complement addition). */
static inline uint64_t add_carry(uint64_t a, uint64_t b) {
    a += b;
    return a + (a < b);
}

uint16_t membrane_chksum(const void *data, int len) {
    const uint8_t *p = data;
    uint64_t sum = 0, carries = 0;
    /* From an odd address the words pair each byte with the next one's neighbour: sum from
     * the next even address with the first byte as a high half, and swap the result's bytes
     * at the end (RFC 1071's byte-order independence). */
    int odd = (uintptr_t)p & 1;
    if (odd && len > 0) {
        sum = (uint64_t)*p++ << 8;
        len--;
    }
    while (((uintptr_t)p & 7) && len > 1) {
        sum += *(const u16_alias *)p;
        p += 2;
        len -= 2;
    }
    const u64_alias *w = (const u64_alias *)p;
    for (; len >= 32; len -= 32, w += 4) {
        uint64_t a = w[0], b = w[1], c = w[2], d = w[3];
        sum += a;
        carries += sum < a;
        sum += b;
        carries += sum < b;
        sum += c;
        carries += sum < c;
        sum += d;
        carries += sum < d;
    }
    for (; len >= 8; len -= 8, w++) {
        sum += *w;
        carries += sum < *w;
    }
    sum = add_carry(sum, carries);
    p = (const uint8_t *)w;
    for (; len > 1; len -= 2, p += 2)
        sum = add_carry(sum, *(const u16_alias *)p);
    if (len > 0)
        sum = add_carry(sum, *p); /* the last byte is a word's low half (little-endian) */
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    if (odd)
        sum = ((sum & 0xff) << 8) | (sum >> 8);
    return (uint16_t)sum;
}
