#include "manifest.h"

#include <string.h>

#include "kernel.h"

/* The services of a normal boot. (`selftest` or `nettest` in bootargs start kernel/selftest.c
 * instead.) The Membrane holds NetSwitch port 0 (IPv4, ARP, IPv6) and may publish into /Bus but
 * not read it; apps that use sockets get a link to it and the inet promise. */
static const struct manifest_entry default_entries[] = {
    {"hello", "hello", "", "", "stdio", "never"},
    {"membrane", "membrane", "", "port:0", "stdio net inet wbus", "service"},
    {"httpd", "httpd", "80", "link:membrane", "stdio rbus inet", "service"},
    {"uptime", "uptime", "1000", "", "stdio wbus", "service"},
};

#ifdef NEXUS_TEST_BUILD
/* Test builds only (tests/e2e/run_qemu_containment.py): the default services plus fibers that
 * break the rules on purpose. Each capcheck mode prints what it observed; the kernel's log and
 * /Bus say how it ended. */
static const struct manifest_entry containment_entries[] = {
    {"membrane", "membrane", "", "port:0", "stdio net inet wbus", "service"},
    {"httpd", "httpd", "80", "link:membrane", "stdio rbus inet", "service"},
    {"uptime", "uptime", "1000", "", "stdio wbus", "service"},
    /* socket() without the inet promise: killed at the syscall gate. */
    {"noinet", "capcheck", "socket", "link:membrane", "stdio", "never"},
    /* A link held with READ only: the request ring is mapped read-only, the first enqueue faults. */
    {"rolink", "capcheck", "socket", "link:membrane:r", "stdio inet", "never"},
    /* Tries to widen its pledge, then to use what it gave up. */
    {"widen", "capcheck", "widen", "chan:7", "stdio rbus", "never"},
    /* Signals and waits on channels it was not granted. */
    {"nocap", "capcheck", "channels", "chan:5:r", "stdio", "never"},
    /* Crashes holding a listener; its restart must be able to listen on the same port. */
    {"relisten", "capcheck", "relisten", "link:membrane", "stdio rbus inet", "fragile"},
    /* Holds sockets across the first Membrane crash, then checks they fail and new ones work. */
    {"survivor", "capcheck", "survivor", "link:membrane", "stdio inet", "never"},
    /* Crashes 50 ms after each start: the supervisor gives up after 3 crashes in 10 s. */
    {"crasher", "capcheck", "crash 50", "", "stdio", "fragile"},
};
#endif

const struct manifest manifests[] = {
    {"default", default_entries, ARRAY_LEN(default_entries)},
#ifdef NEXUS_TEST_BUILD
    {"containment", containment_entries, ARRAY_LEN(containment_entries)},
#endif
};
const unsigned manifest_count = ARRAY_LEN(manifests);

const struct manifest *manifest_find(const char *name) {
    if (!name[0])
        return &manifests[0];
    for (unsigned i = 0; i < manifest_count; i++)
        if (!strcmp(manifests[i].name, name))
            return &manifests[i];
    return NULL;
}
