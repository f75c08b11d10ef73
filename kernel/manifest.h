/* Boot manifests: which images start as fibers, under what name, with which arguments, what
 * they are granted (channels, a NetSwitch port, links), what they promise, and what the
 * supervisor does when they end. */
#ifndef NEXUS_MANIFEST_H
#define NEXUS_MANIFEST_H

#include "restart_policy.h"

struct manifest_entry {
    const char *name;    /* fiber name, also its /Bus/fibers/<name> directory */
    const char *image;   /* embedded image (images.h) */
    const char *args;    /* argv[1..], space separated */
    const char *grants;  /* CSpace grants (cspace.h): "port:0", "link:membrane", "chan:3:r" */
    const char *pledge;  /* promises (pledge.h): "stdio rbus inet" */
    enum restart_kind restart; /* what the supervisor does when it fails (restart_policy.h) */
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

#endif
