#include "ipv4_prefix.h"

/* One decimal number in [0, max] at *s (advanced past it), before `end`. */
static int number(const char **s, const char *end, unsigned max, unsigned *out) {
    unsigned v = 0, digits = 0;
    while (*s < end && **s >= '0' && **s <= '9' && digits < 3) {
        v = v * 10 + (unsigned)(**s - '0');
        (*s)++;
        digits++;
    }
    if (!digits || v > max)
        return -1;
    *out = v;
    return 0;
}

int ipv4_prefix_parse(const char *s, size_t len, uint32_t *addr, uint32_t *mask) {
    const char *end = s + len;
    uint32_t a = 0;
    unsigned part, prefix;
    for (int i = 0; i < 4; i++) {
        if (number(&s, end, 255, &part) != 0 || s >= end || *s++ != (i < 3 ? '.' : '/'))
            return -1;
        a = a << 8 | part;
    }
    if (number(&s, end, 32, &prefix) != 0 || prefix == 0 || s != end)
        return -1;
    *addr = a;
    *mask = (uint32_t)(0xffffffffull << (32 - prefix));
    return 0;
}
