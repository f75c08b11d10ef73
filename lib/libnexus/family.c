/*
 * The socket families libnexus knows and the backend of each (libnexus.h). Adding a family is
 * a row here; a family served by a new service fiber also needs that fiber's link in the boot
 * manifest (docs/architecture.md, "Adding a service").
 */
#include <stddef.h>
#include <sys/socket.h>

#include "libnexus.h"

static struct link_client membrane = {.service = "membrane", .magic = NXS_MAGIC};
static struct link_client lwf = {.service = "lwf", .magic = NXS_MAGIC};
static struct link_client utcp = {.service = "utcp", .magic = NXS_MAGIC};

static const struct nxl_family families[] = {
    {AF_INET, "inet", &membrane, NULL, 1, 1},
    {AF_INET6, "inet6", &membrane, NULL, 1, 1},
    {AF_LWF, "lwf", &lwf, NULL, 0, 0},    /* the LWF service: Libertaria Wire Frames between CellIDs */
    {AF_UTCP, "utcp", &utcp, NULL, 0, 0}, /* the UTCP service: reliable streams between CellIDs */
    {AF_UNIX, "unix", NULL, &nxl_unix, 0, 0}, /* the Chimera bridge: lanes of shared memory (unix.c) */
};

const struct nxl_family *nxl_family(int domain) {
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (families[i].domain == domain)
            return &families[i];
    return NULL;
}

void nxl_each_backend(void (*fn)(struct link_client *backend, void *arg), void *arg) {
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        struct link_client *b = families[i].backend;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = families[j].backend == b;
        if (b && !seen)
            fn(b, arg);
    }
}
