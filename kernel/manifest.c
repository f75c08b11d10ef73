#include "manifest.h"

#include <errno.h>
#include <string.h>

#include "kernel.h"
#include "nexus/syscall.h"
#include "pledge.h"

/* The network services every manifest runs. The Membrane holds NetSwitch port 0 (IPv4, ARP,
 * IPv6) and may publish into /Bus but not read it; apps that use sockets get a link to it and
 * the inet promise. The signer holds the node's key (the keyblob promise, given up once taken,
 * with rbus) and serves the sign promise to the LWF service alone, which holds port 2 (EtherType
 * 0x4C57) but no secret; AF_LWF apps get a link to it and the lwf promise: lwfecho answers on
 * LWF service 7, lwfping runs from the console (`run lwfping CELLID`). The UTCP service holds
 * port 1 (EtherType 0x88B5) and asks the signer for its handshake signatures; AF_UTCP apps get a
 * link to it and the utcp promise: utcpsink listens on stream 9, utcpcat and utcpget run from the
 * console, and httpd serves UTCP stream 80 beside TCP port 80 (a node's status page by CellID).
 * LWF's 64 KiB message buffers (four to receive, two to send), UTCP's sessions (384 KiB of
 * window each) and its connections (64 KiB each) come from the service's heap as they are
 * needed (lwf/service/, utcp/service/): heap:512 holds LWF's six, heap:4608 all eight UTCP
 * sessions and sixteen connections. */
#define MEMBRANE_SERVICE                                                                        \
    {.name = "membrane", .image = "membrane", .grants = "port:0 files:4 heap:160",              \
     .pledge = "stdio net inet rbus wbus", .serves = "inet", .send_area = 1,                    \
     .restart = RESTART_SERVICE}
#define NETWORK_SERVICES                                                                        \
    MEMBRANE_SERVICE,                                                                           \
    {.name = "httpd", .image = "httpd", .args = "80", .grants = "link:membrane area:membrane link:utcp", \
     .pledge = "stdio rbus inet utcp", .restart = RESTART_SERVICE},                             \
    {.name = "uptime", .image = "uptime", .args = "1000", .pledge = "stdio wbus", .restart = RESTART_SERVICE}, \
    {.name = "signer", .image = "signer", .pledge = "stdio rbus wbus keyblob sign",             \
     .serves = "sign", .restart = RESTART_SERVICE, .after_boot = 1},                            \
    {.name = "lwf", .image = "lwf", .grants = "port:2 link:signer heap:512",                   \
     .pledge = "stdio net lwf wbus sign", .serves = "lwf", .restart = RESTART_SERVICE,          \
     .after_boot = 1},                                                                          \
    {.name = "lwfecho", .image = "lwfecho", .grants = "link:lwf",                               \
     .pledge = "stdio lwf", .restart = RESTART_SERVICE, .after_boot = 1},                       \
    {.name = "utcp", .image = "utcp", .grants = "port:1 link:signer heap:4608",                \
     .pledge = "stdio net utcp wbus sign", .serves = "utcp", .restart = RESTART_SERVICE,        \
     .after_boot = 1},                                                                          \
    {.name = "utcpsink", .image = "utcpsink", .grants = "link:utcp",                            \
     .pledge = "stdio utcp", .restart = RESTART_SERVICE, .after_boot = 1}

/* The console's network apps, started by `run NAME ARGS`. Apart from the services because every
 * entry's links are made at boot and there are NEXUS_LINKS_MAX in all: the containment manifest,
 * whose own fibers hold links, leaves them out. */
#define NETWORK_CONSOLE_APPS                                                                    \
    {.name = "lwfping", .image = "lwfping", .grants = "link:lwf",                               \
     .pledge = "stdio lwf", .restart = RESTART_NEVER, .on_demand = 1},                          \
    {.name = "utcpcat", .image = "utcpcat", .grants = "link:utcp",                              \
     .pledge = "stdio utcp", .restart = RESTART_NEVER, .on_demand = 1},                         \
    {.name = "utcpget", .image = "utcpget", .grants = "link:utcp",                              \
     .pledge = "stdio utcp", .restart = RESTART_NEVER, .on_demand = 1}

/* The services of a normal boot. (In the test kernel, `selftest` or `nettest` in bootargs start
 * kernel/selftest.c instead.) Those marked after_boot start once the others let the CPU idle
 * (manifest.h): the Membrane and httpd serve first. The signer (an Ed25519 key made at its start
 * when no key file is given) and UTCP come after, in this order, one per idle moment: at boot they
 * took ~2.8 M guest instructions ahead of httpd's first accept (docs/architecture.md, "Boot
 * sequence"); httpd's UTCP listener is retried until UTCP is up (apps/httpd/httpd.c).
 * rinetd 0.73, Debian's, unmodified (apps/rinetd/): its config is built into its image as
 * /etc/rinetd.conf; it binds once, so it restarts with the Membrane.
 * mosquitto 2.0.11's broker, Debian's, unmodified (apps/mosquitto/), likewise: its listener
 * binds once, and it keeps no state across its restart (no persistence). */
static const struct manifest_entry default_entries[] = {
    {.name = "hello", .image = "hello", .grants = "files:4",
     .pledge = "stdio", .restart = RESTART_NEVER},
    NETWORK_SERVICES,
    NETWORK_CONSOLE_APPS,
    {.name = "rinetd", .image = "rinetd", .args = "-f -c /etc/rinetd.conf", .grants = "link:membrane heap:1024",
     .pledge = "stdio inet", .restart = RESTART_SERVICE, .restarts_with = "membrane", .after_boot = 1},
    {.name = "mosquitto", .image = "mosquitto", .args = "-c /etc/mosquitto/mosquitto.conf",
     .grants = "link:membrane heap:4096", .pledge = "stdio inet", .restart = RESTART_SERVICE,
     .restarts_with = "membrane", .after_boot = 1},
    /* POSIX tee on demand: `run tee FILE`, then `attach tee` gives it the console as its input. */
    {.name = "tee", .image = "tee", .grants = "files:16", .pledge = "stdio", .restart = RESTART_NEVER,
     .on_demand = 1},
#ifdef NEXUS_TEST_BUILD
    /* curl 7.88.1, Debian's, unmodified, HTTP only: `run curl URL ...` from the console; -o writes
     * into its file area (`cat curl/NAME`). In the test kernel only: building it takes minutes
     * (Makefile), and `make run` boots the product kernel straight after a clone. */
    {.name = "curl", .image = "curl", .grants = "link:membrane heap:4096 files:1024",
     .pledge = "stdio inet", .restart = RESTART_NEVER, .on_demand = 1},
#endif
};

#ifdef NEXUS_TEST_BUILD
/* Test builds only (tests/e2e/run_qemu_containment.py): the default services plus fibers that
 * break the rules on purpose. Each capcheck mode prints what it observed; the kernel's log and
 * /Bus say how it ended. */
static const struct manifest_entry containment_entries[] = {
    NETWORK_SERVICES,
    /* socket() without the inet promise: killed at the syscall gate. */
    {.name = "noinet", .image = "capcheck", .args = "socket", .grants = "link:membrane",
     .pledge = "stdio", .restart = RESTART_NEVER},
    /* A link held with READ only: the request ring is mapped read-only, the first enqueue faults. */
    {.name = "rolink", .image = "capcheck", .args = "socket", .grants = "link:membrane:r",
     .pledge = "stdio inet", .restart = RESTART_NEVER},
    /* Holds a link to the Membrane but not inet: tries to widen its pledge, then to use the link. */
    {.name = "widen", .image = "capcheck", .args = "widen", .grants = "chan:7 link:membrane",
     .pledge = "stdio rbus", .restart = RESTART_NEVER},
    /* Signals and waits on channels it was not granted. */
    {.name = "nocap", .image = "capcheck", .args = "channels", .grants = "chan:5:r",
     .pledge = "stdio", .restart = RESTART_NEVER},
    /* Waits and signals on the two ends of its link: only its own end is READ, the Membrane's WRITE. */
    {.name = "linkends", .image = "capcheck", .args = "linkends", .grants = "link:membrane",
     .pledge = "stdio inet", .restart = RESTART_NEVER},
    /* Crashes holding a listener; its restart must be able to listen on the same port. */
    {.name = "relisten", .image = "capcheck", .args = "relisten", .grants = "link:membrane",
     .pledge = "stdio rbus inet", .restart = RESTART_FRAGILE},
    /* Holds sockets across the first Membrane crash, then checks they fail and new ones work. */
    {.name = "survivor", .image = "capcheck", .args = "survivor", .grants = "link:membrane",
     .pledge = "stdio inet", .restart = RESTART_NEVER},
    /* Crashes 50 ms after each start: the supervisor gives up after 3 crashes in 10 s. */
    {.name = "crasher", .image = "capcheck", .args = "crash 50",
     .pledge = "stdio", .restart = RESTART_FRAGILE},
    /* Serves links that need the lwf promise, and a client of it and of the Membrane: each link
     * takes its own promise. */
    {.name = "lwfserver", .image = "capcheck", .args = "serve",
     .pledge = "stdio lwf", .serves = "lwf", .restart = RESTART_NEVER},
    {.name = "twolinks", .image = "capcheck", .args = "twolinks", .grants = "link:membrane link:lwfserver",
     .pledge = "stdio inet lwf", .restart = RESTART_NEVER},
    /* Started only by the console's `run runme argv ...`. */
    {.name = "runme", .image = "capcheck", .args = "argv from the manifest",
     .pledge = "stdio", .restart = RESTART_NEVER, .on_demand = 1},
};
#endif

#ifdef NEXUS_TEST_BUILD
/* Test builds only (tests/qemu/run_keyblob.py boots it with -initrd KEYFILE): a fiber without
 * the keyblob promise asks first and is killed; the taker gets the blob once. */
static const struct manifest_entry keyblob_entries[] = {
    {.name = "thief", .image = "probe", .args = "keyblob-steal", .pledge = "stdio", .restart = RESTART_NEVER},
    {.name = "taker", .image = "probe", .args = "keyblob-take", .pledge = "stdio rbus keyblob",
     .restart = RESTART_NEVER},
};
#endif

#ifdef NEXUS_TEST_BUILD
/* Test builds only (tests/e2e/run_qemu_lwf.py): the default services, whose LWF service faults on
 * demand in this build, and lwfsend, which the test runs to send it the trigger. */
static const struct manifest_entry lwf_entries[] = {
    NETWORK_SERVICES,
    NETWORK_CONSOLE_APPS,
    {.name = "lwfsend", .image = "lwfsend", .grants = "link:lwf", .pledge = "stdio lwf",
     .restart = RESTART_NEVER, .on_demand = 1},
};
#endif

/* What serving HTTP takes and nothing more: build/nexus-serving.elf embeds these two images
 * alone and boots this manifest (`make run IMAGE=serving`); the full image boots it with
 * manifest=serving. httpd has no UTCP link here: its UTCP listener says once that the service
 * is missing and keeps serving TCP. */
static const struct manifest_entry serving_entries[] = {
    MEMBRANE_SERVICE,
    {.name = "httpd", .image = "httpd", .args = "80", .grants = "link:membrane area:membrane",
     .pledge = "stdio rbus inet", .restart = RESTART_SERVICE},
};

/* The manifest a boot without manifest=NAME runs: the build names it (the Makefile's serving
 * image boots "serving"). */
#ifndef NEXUS_BOOT_MANIFEST
#define NEXUS_BOOT_MANIFEST "default"
#endif

const struct manifest manifests[] = {
    {"default", default_entries, ARRAY_LEN(default_entries)},
    {"serving", serving_entries, ARRAY_LEN(serving_entries)},
#ifdef NEXUS_TEST_BUILD
    {"containment", containment_entries, ARRAY_LEN(containment_entries)},
    {"keyblob", keyblob_entries, ARRAY_LEN(keyblob_entries)},
    {"lwf", lwf_entries, ARRAY_LEN(lwf_entries)},
#endif
};
const unsigned manifest_count = ARRAY_LEN(manifests);

const struct manifest *manifest_find(const char *name) {
    if (!name[0])
        name = NEXUS_BOOT_MANIFEST;
    for (unsigned i = 0; i < manifest_count; i++)
        if (!strcmp(manifests[i].name, name))
            return &manifests[i];
    return NULL;
}

unsigned manifest_link_pages(const struct manifest *m, const char *server, int area) {
    for (unsigned i = 0; area && i < m->count; i++)
        if (!strcmp(m->entries[i].name, server))
            return m->entries[i].send_area ? NEXUS_LINK_SEND_PAGES : NEXUS_LINK_PAGES;
    return NEXUS_LINK_PAGES;
}

int manifest_link_promise(const struct manifest *m, const char *server, uint32_t *promise) {
    for (unsigned i = 0; i < m->count; i++) {
        const struct manifest_entry *e = &m->entries[i];
        if (strcmp(e->name, server) != 0)
            continue;
        uint32_t p;
        if (!e->serves || pledge_parse(e->serves, &p) != 0 || !p || (p & (p - 1)))
            return -EINVAL;
        *promise = p;
        return 0;
    }
    return -ENOENT;
}
