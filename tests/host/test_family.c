/* Host tests for libnexus's table of socket families (lib/libnexus/family.c). */
#include <sys/socket.h>

#include <string.h>

#include "check.h"
#include "libnexus/libnexus.h"

static int backends;
static struct link_client *last;

static void count(struct link_client *b, void *arg) {
    (void)arg;
    backends++;
    last = b;
}

int main(void) {
    check_suite = "family";
    const struct nxl_family *inet = nxl_family(AF_INET), *inet6 = nxl_family(AF_INET6);
    CHECK("inet_known", inet && inet->domain == AF_INET && inet->backend);
    CHECK("inet_to_membrane", inet && inet->backend && !strcmp(inet->backend->service, "membrane"));
    CHECK("inet6_same_backend", inet6 && inet && inet6->backend == inet->backend);
    CHECK("membrane_speaks_sockets", inet && inet->backend && inet->backend->magic == NXS_MAGIC);
    const struct nxl_family *lwf = nxl_family(AF_LWF);
    CHECK("lwf_to_lwf_service", lwf && lwf->backend && !strcmp(lwf->backend->service, "lwf") &&
                                    lwf->backend->magic == NXS_MAGIC && lwf->backend != inet->backend);
    const struct nxl_family *utcp = nxl_family(AF_UTCP);
    CHECK("utcp_to_utcp_service", utcp && utcp->backend && !strcmp(utcp->backend->service, "utcp") &&
                                      utcp->backend->magic == NXS_MAGIC && utcp->backend != lwf->backend &&
                                      utcp->backend != inet->backend);
    const struct nxl_family *unix_family = nxl_family(AF_UNIX);
    CHECK("unix_served_in_the_app", unix_family && unix_family->domain == AF_UNIX && !unix_family->backend &&
                                        unix_family->local == &nxl_unix);
    CHECK("services_not_local", inet && !inet->local && lwf && !lwf->local && utcp && !utcp->local);
    CHECK("own_families_not_linux_values", AF_LWF > 46 && AF_UTCP > 46 && AF_LWF != AF_UTCP);
    CHECK("unspec_unknown", nxl_family(AF_UNSPEC) == NULL);
    CHECK("negative_unknown", nxl_family(-1) == NULL);
    CHECK("large_unknown", nxl_family(0x10000) == NULL);
    nxl_each_backend(count, NULL);
    CHECK("each_backend_once", backends == 3 && utcp && last == utcp->backend);
    return check_exit();
}
