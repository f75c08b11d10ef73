#include "manifest.h"

#include "kernel.h"

/* The services of a normal boot. (`selftest` or `nettest` in bootargs start kernel/selftest.c
 * instead.) The Membrane holds NetSwitch port 0 (IPv4, ARP, IPv6); apps that use sockets get a
 * link to it. */
const struct manifest_entry boot_manifest[] = {
    {"hello", "hello", "", MANIFEST_NO_PORT, NULL},
    {"membrane", "membrane", "", 0, NULL},
    {"httpd", "httpd", "80", MANIFEST_NO_PORT, "membrane"},
    {"uptime", "uptime", "1000", MANIFEST_NO_PORT, NULL},
};
const unsigned boot_manifest_len = ARRAY_LEN(boot_manifest);
