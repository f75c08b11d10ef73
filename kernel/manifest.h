/* Boot manifests: which images start as fibers, under what name, with which arguments, and
 * what they are wired to. */
#ifndef NEXUS_MANIFEST_H
#define NEXUS_MANIFEST_H

#define MANIFEST_NO_PORT (-1)

struct manifest_entry {
    const char *name;   /* fiber name, also its /Bus/fibers/<name> directory */
    const char *image;  /* embedded image (images.h) */
    const char *args;   /* argv[1..], space separated */
    int net_port;       /* NetSwitch port it holds (route.c), or MANIFEST_NO_PORT */
    const char *link_to; /* server fiber it gets a link to (link.h), or NULL */
};

extern const struct manifest_entry boot_manifest[];
extern const unsigned boot_manifest_len;

#endif
