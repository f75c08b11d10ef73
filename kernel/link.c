/*
 * Links between a client fiber and a server fiber (link.h). The pages are allocated once, at
 * link creation, and belong to the kernel: both address spaces map them with the shared bit, so
 * neither side's death frees them, and a restarted fiber maps the same pages again. Where they
 * appear (kernel/memlayout.h): a client sees its n-th link (in creation order) at
 * LINK_CLIENT_VA + n * LINK_SPAN; a server sees its k-th at LINK_SERVER_VA + k * LINK_SPAN.
 */
#include "link.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "cspace.h"
#include "fiber.h"
#include "kernel.h"
#include "mem.h"
#include "memlayout.h"
#include "nexus/syscall.h"
#include "riscv.h"
#include "vm.h"

struct link {
    char client[FIBER_NAME_MAX];
    char server[FIBER_NAME_MAX];
    unsigned client_rights;
    uint32_t promise; /* pledge.h: what both ends need to use its channels */
    void *pages;      /* npages contiguous pages */
    unsigned npages;  /* NEXUS_LINK_PAGES, or NEXUS_LINK_SEND_PAGES with a send area */
};

static struct link links[NEXUS_LINKS_MAX];
static unsigned nlinks;

static unsigned links_of(const char *name, int as_server);

int link_create(const char *client, const char *server, unsigned client_rights, uint32_t promise, unsigned pages) {
    if (strlen(client) >= FIBER_NAME_MAX || strlen(server) >= FIBER_NAME_MAX || !strcmp(client, server) ||
        !client_rights || (client_rights & ~CAP_RW) || !promise || (promise & (promise - 1)) ||
        (pages != NEXUS_LINK_PAGES && pages != NEXUS_LINK_SEND_PAGES))
        return -EINVAL;
    for (unsigned i = 0; i < nlinks; i++)
        if (!strcmp(links[i].client, client) && !strcmp(links[i].server, server))
            return -EEXIST;
    if (nlinks == NEXUS_LINKS_MAX || links_of(client, 0) == NEXUS_CLIENT_LINKS_MAX)
        return -ENOSPC;
    struct link *l = &links[nlinks];
    l->pages = page_alloc(pages);
    if (!l->pages)
        return -ENOMEM;
    l->npages = pages;
    strcpy(l->client, client);
    strcpy(l->server, server);
    l->client_rights = client_rights;
    l->promise = promise;
    char key[BUS_PATH_MAX];
    snprintf(key, sizeof key, "/Bus/links/%u", nlinks);
    bus_setf(BUS_OWNER_KERNEL, key, "%s -> %s%s", client, server, client_rights & CAP_WRITE ? "" : " (read-only)");
    return (int)nlinks++;
}

/* Whether `name` is link l's server (or client). */
static int is_end(const struct link *l, const char *name, int as_server) {
    return strcmp(as_server ? l->server : l->client, name) == 0;
}

static uint64_t link_va(int as_server, unsigned n) {
    return (as_server ? LINK_SERVER_VA : LINK_CLIENT_VA) + (uint64_t)n * LINK_SPAN;
}

/* Each end waits on its own channel and signals the other's (nexus/syscall.h channel plan). */
static unsigned own_channel(int as_server, unsigned id) {
    return as_server ? NEXUS_LINK_SERVER_CHANNEL(id) : NEXUS_LINK_CLIENT_CHANNEL(id);
}

static unsigned peer_channel(int as_server, unsigned id) { return own_channel(!as_server, id); }

/* Grants one end of link id its direction's rights on the two channels and maps the pages:
 * readable always, writable only with WRITE (a page cannot be write-only). A server holds both
 * rights on its end; a client what its grant said. */
static int attach_one(struct fiber *f, const struct link *l, unsigned id, int as_server, uint64_t va) {
    unsigned rights = as_server ? CAP_RW : l->client_rights;
    int err = cspace_grant_link_end(&f->caps, own_channel(as_server, id), peer_channel(as_server, id), rights);
    if (err)
        return err;
    uint64_t perm = PTE_R | (rights & CAP_WRITE ? PTE_W : 0);
    return vm_user_map_shared(f->pt, va, (uint64_t)l->pages, l->npages, perm) ? -ENOMEM : 0;
}

/* One pass per end over the links by name, at the fiber's start; link_info reads the ids kept.
 * Looking a link up by name at each call (a scan of every link for each of a fiber's links)
 * was ~45 k of the 0.36 M guest instructions between a Membrane's fault and its successor
 * taking frames. The links are all made at boot, before their fibers start. */
int link_attach(struct fiber *f) {
    f->nserved_links = f->nclient_links = 0;
    for (int as_server = 0; as_server < 2; as_server++) {
        uint8_t *ids = as_server ? f->served_links : f->client_links;
        uint8_t *n = as_server ? &f->nserved_links : &f->nclient_links;
        unsigned most = as_server ? NEXUS_LINKS_MAX : NEXUS_CLIENT_LINKS_MAX;
        for (unsigned id = 0; id < nlinks; id++) {
            if (!is_end(&links[id], f->name, as_server))
                continue;
            if (*n == most) /* link_create keeps to these bounds */
                return -ENOSPC;
            int err = attach_one(f, &links[id], id, as_server, link_va(as_server, *n));
            if (err)
                return err;
            ids[(*n)++] = (uint8_t)id;
        }
    }
    return 0;
}

static unsigned links_of(const char *name, int as_server) {
    unsigned n = 0;
    for (unsigned i = 0; i < nlinks; i++)
        n += is_end(&links[i], name, as_server);
    return n;
}

int link_info(const struct fiber *f, unsigned index, struct nexus_link_info *out, uint32_t *promise) {
    /* Index order: the links this fiber serves, then those it is a client of. */
    int as_server = index < f->nserved_links;
    unsigned n = as_server ? index : index - f->nserved_links;
    if (!as_server && n >= f->nclient_links)
        return -ENOENT;
    unsigned id = as_server ? f->served_links[n] : f->client_links[n];
    const struct link *l = &links[id];
    memset(out, 0, sizeof *out);
    out->va = link_va(as_server, n);
    out->size = l->npages * PAGE_SIZE;
    out->id = id;
    out->is_server = (uint32_t)as_server;
    out->wait_channel = own_channel(as_server, id);
    out->peer_channel = peer_channel(as_server, id);
    const char *peer = as_server ? l->client : l->server;
    snprintf(out->peer, sizeof out->peer, "%s", peer);
    out->peer_alive = fiber_by_name(peer) != NULL;
    *promise = l->promise;
    return 0;
}

uint64_t link_server_span(const struct fiber *server, uint32_t id, uint64_t off, uint32_t len) {
    if (id >= nlinks || !server || strcmp(links[id].server, server->name) != 0 || len == 0 ||
        off > links[id].npages * PAGE_SIZE || len > links[id].npages * PAGE_SIZE - off)
        return 0;
    return (uint64_t)links[id].pages + off;
}

uint32_t link_channel_promise(unsigned channel) {
    for (unsigned id = 0; id < nlinks; id++)
        if (channel == own_channel(0, id) || channel == own_channel(1, id))
            return links[id].promise;
    return 0;
}
