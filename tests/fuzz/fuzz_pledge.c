/* libFuzzer target for kernel/pledge.c: any byte string (NUL-terminated copy) must parse without
 * a sanitizer report, and the answer must keep the contract (pledge.h):
 *   - a refusal is -EINVAL and leaves *out alone; a text of PLEDGE_TEXT_MAX bytes or more is refused;
 *   - an accepted mask lies within PROMISE_ALL, and pledge_format of it parses back to it;
 *   - pledge_format into a buffer of any small length (exact-size heap copy) writes nothing past
 *     it, stays NUL-terminated and writes a prefix of the untruncated text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pledge.h"
#include "fuzz_cstring.h"

#define UNTOUCHED 0xa5a5a5a5u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;
    uint32_t mask = UNTOUCHED;
    int rc = pledge_parse(s, &mask);
    if (rc == 0) {
        if (mask & ~PROMISE_ALL)
            abort();
        if (strlen(s) >= PLEDGE_TEXT_MAX)
            abort();
        char text[PLEDGE_TEXT_MAX];
        pledge_format(mask, text, sizeof text);
        if (strnlen(text, sizeof text) == sizeof text)
            abort();
        uint32_t again = UNTOUCHED;
        if (pledge_parse(text, &again) != 0 || again != mask)
            abort();
    } else if (rc != -EINVAL || mask != UNTOUCHED) {
        abort();
    }

    /* pledge_format of a mask taken from the input, into an exact-size buffer of 0..31 bytes. */
    if (size >= 5) {
        uint32_t m = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
        size_t len = data[0] % 32;
        char full[PLEDGE_TEXT_MAX];
        pledge_format(m, full, sizeof full);
        char *buf = malloc(len ? len : 1);
        if (buf) {
            pledge_format(m, buf, len);
            if (len) {
                size_t n = strnlen(buf, len);
                if (n == len || strncmp(buf, full, n) != 0)
                    abort();
            }
            free(buf);
        }
    }
    free(s);
    return 0;
}
