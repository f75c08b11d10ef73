/* For fuzz targets whose input is a script of records (an op byte, then its arguments): reading
 * the input piece by piece, and the check that stops the run on a broken rule (abort, which
 * libFuzzer and the replay driver both report as a crash). */
#ifndef NEXUS_FUZZ_RECORDS_H
#define NEXUS_FUZZ_RECORDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(cond)  \
    do {               \
        if (!(cond))   \
            abort();   \
    } while (0)

struct input {
    const uint8_t *p;
    size_t left;
};

/* Copies the next n bytes to out: 1, or 0 (and nothing taken) if fewer are left. */
static inline int take(struct input *in, void *out, size_t n) {
    if (in->left < n)
        return 0;
    memcpy(out, in->p, n);
    in->p += n;
    in->left -= n;
    return 1;
}

#endif
