/*
 * Unsigned numbers as decimal text, for the values the Membrane publishes under /Bus: ~80 of
 * them every 100 ms, and snprintf's general machinery for each was most of a round's cost.
 */
#ifndef NEXUS_DECIMAL_H
#define NEXUS_DECIMAL_H

#include <stdint.h>

#define DECIMAL_MAX 21 /* 2^64 - 1 is 20 digits, and the NUL */

/* Writes v's digits at the end of out and returns where they start. */
static inline const char *decimal(uint64_t v, char out[DECIMAL_MAX]) {
    char *p = out + DECIMAL_MAX - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

#endif
