/* Boot manifests: which images start as fibers, under what name, with which arguments, what
 * they are granted (channels, a NetSwitch port, links), what they promise, and what the
 * supervisor does when they end. */
#ifndef NEXUS_MANIFEST_H
#define NEXUS_MANIFEST_H

#include <stdint.h>

#include "restart_policy.h"

struct manifest_entry {
    const char *name;    /* fiber name, also its /Bus/fibers/<name> directory */
    const char *image;   /* embedded image (images.h) */
    const char *args;    /* argv[1..], space separated */
    const char *grants;  /* CSpace grants (cspace.h): "port:0", "link:membrane", "chan:3:r" */
    const char *pledge;  /* promises (pledge.h): "stdio rbus inet" */
    const char *serves;  /* a service's links: the one promise its clients need to use them
                            ("inet" for the Membrane's socket links); NULL if it serves none */
    enum restart_kind restart; /* what the supervisor does when it fails (restart_policy.h) */
    int on_demand;       /* not started at boot: the console's `run NAME ARGS` starts it */
    int after_boot;      /* started once the boot's first services let the CPU go idle (one per
                            idle moment, all within SUPERVISOR_DEFER_MAX_MS): nothing that
                            serves the first requests waits for its loading and startup */
    int send_area;       /* it sends apps' stream bytes from a send area (nexus/link.h; the
                            Membrane): a client granted area:NAME gets a link of
                            NEXUS_LINK_SEND_PAGES instead of NEXUS_LINK_PAGES */
    const char *restarts_with; /* restarted whenever this service (re)starts: for a program that
                                  binds its sockets once and cannot rebuild them after the
                                  Membrane behind them restarted (rinetd); NULL for none */
};

/* Entries are written with designated initialisers; tests/host/test_manifest.c parses every
 * entry's grants and pledge and checks names and policies, so a bad entry fails `make test`
 * rather than a boot. */
struct manifest {
    const char *name; /* chosen with bootargs manifest=<name>; the first is the default */
    const struct manifest_entry *entries;
    unsigned count;
};

extern const struct manifest manifests[];
extern const unsigned manifest_count;

/* The manifest called name ("" for the default), or NULL. */
const struct manifest *manifest_find(const char *name);
/* The promise a client of `server`'s links needs (its entry's `serves`, one promise). 0,
 * -ENOENT if m has no entry of that name, -EINVAL if it serves no links. */
int manifest_link_promise(const struct manifest *m, const char *server, uint32_t *promise);
/* The pages of a link to `server`: NEXUS_LINK_SEND_PAGES if the client asked for a send area
 * (area:SERVER) and the server's entry says send_area, else NEXUS_LINK_PAGES (test_manifest
 * refuses an area grant the server does not take). */
unsigned manifest_link_pages(const struct manifest *m, const char *server, int area);

#endif
