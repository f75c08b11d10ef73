/* Boot manifests: which images start as fibers, under what name, with which arguments. */
#ifndef NEXUS_MANIFEST_H
#define NEXUS_MANIFEST_H

struct manifest_entry {
    const char *name;  /* fiber name, also its /Bus/fibers/<name> directory */
    const char *image; /* embedded image (images.h) */
    const char *args;  /* argv[1..], space separated */
};

extern const struct manifest_entry boot_manifest[];
extern const unsigned boot_manifest_len;

#endif
