/* For fuzz targets whose parser takes a C string: the input as an exact-size NUL-terminated heap
 * copy (so ASan sees any read past the NUL), or NULL if out of memory. The caller frees it. */
#ifndef NEXUS_FUZZ_CSTRING_H
#define NEXUS_FUZZ_CSTRING_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
