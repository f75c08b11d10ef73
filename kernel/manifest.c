#include "manifest.h"

#include "kernel.h"

/* The services of a normal boot. (`selftest` in bootargs starts kernel/selftest.c instead.) */
const struct manifest_entry boot_manifest[] = {
    {"hello", "hello", ""},
    {"uptime", "uptime", "1000"},
};
const unsigned boot_manifest_len = ARRAY_LEN(boot_manifest);
