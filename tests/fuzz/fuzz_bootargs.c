/* libFuzzer target for kernel/bootargs.c: any byte string (NUL-terminated copy) must parse
 * without a sanitizer report, and what it accepts must lie within the documented bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootargs.h"
#include "fuzz_cstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;
    struct bootargs a;
    bootargs_parse(s, &a);
    if (a.watchdog_ms && (a.watchdog_ms < BOOTARGS_WATCHDOG_MS_MIN || a.watchdog_ms > BOOTARGS_WATCHDOG_MS_MAX))
        abort();
    if (strnlen(a.first_error, sizeof a.first_error) == sizeof a.first_error)
        abort();
    free(s);
    return 0;
}
