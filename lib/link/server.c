/* The server half of the service link (server.h). */
#include "server.h"

#include <errno.h>
#include <string.h>

#include "nexus.h"

struct link_conn {
    struct nexus_link_info info;
    uint8_t *base;
    struct nxs_header *hdr;
    struct ion_ring requests, completions;
    uint64_t dirty[NXS_SOCKETS / 64]; /* sockets whose status word may have changed, one bit each */
    int completed;      /* replies enqueued since the last flush */
    uint32_t app_start_seen;
};

static const struct link_service *service;
static struct link_conn links[NEXUS_LINKS_MAX];
static unsigned nlinks;
static struct link_server_stats stats;

static struct nxs_msg *slot_msg(struct link_conn *c, uint32_t slot) {
    return (struct nxs_msg *)(c->base + NXS_OFF_MSGS + slot * sizeof(struct nxs_msg));
}

uint8_t *link_server_base(unsigned link) { return links[link].base; }
uint32_t link_server_id(unsigned link) { return links[link].info.id; }
uint32_t link_server_size(unsigned link) { return links[link].info.size; }

uint8_t *link_server_slot_data(unsigned link, uint32_t slot) {
    if (slot == NXS_POST_SLOT)
        return links[link].base + NXS_OFF_POST_DATA;
    return links[link].base + NXS_OFF_DATA + slot * NXS_SLOT_DATA;
}

void link_server_touch(unsigned link, int k) { links[link].dirty[k / 64] |= 1ull << (k % 64); }

void link_server_complete(unsigned link, uint32_t slot, const struct nxs_msg *m) {
    struct link_conn *c = &links[link];
    memcpy(slot_msg(c, slot), m, sizeof *m);
    struct ion_desc d = {slot, 0, 0};
    if (ion_ring_enqueue(&c->completions, &d) != ION_RING_OK)
        stats.completions_lost++; /* the app let its own ring fill or broke it */
    stats.requests++;
    stats.errors += m->result < 0;
    /* A posted request's reply wakes nobody: its app does not wait for it (nexus/link.h). */
    c->completed |= slot != NXS_POST_SLOT;
}

static void handle_request(unsigned link, uint32_t slot) {
    struct nxs_msg m;
    memcpy(&m, slot_msg(&links[link], slot), sizeof m); /* the app can still write the slot: use the copy */
    long result = service->check(&m);
    if (result == 0 && slot == NXS_POST_SLOT) {
        result = service->check_post ? service->check_post(&m) : -EINVAL;
        stats.posts++;
    }
    if (result == 0)
        result = service->handle(link, slot, &m, link_server_slot_data(link, slot));
    if (result == LINK_DEFERRED)
        return;
    if (result < 0)
        m.len = 0;
    m.result = result;
    link_server_complete(link, slot, &m);
}

/* Both rings empty and every status word clear, for a new service or a new app. */
static void start_link_over(struct link_conn *c) {
    ion_ring_init(&c->requests, c->base + NXS_OFF_REQUESTS, NXS_RING_CAPACITY);
    ion_ring_init(&c->completions, c->base + NXS_OFF_COMPLETIONS, NXS_RING_CAPACITY);
    for (int k = 0; k < NXS_SOCKETS; k++)
        __atomic_store_n(&c->hdr->status[k], 0, __ATOMIC_RELAXED);
    memset(c->dirty, 0, sizeof c->dirty);
    __atomic_fetch_add(&c->hdr->status_seq, 1, __ATOMIC_RELEASE);
}

/* The link's app started again (nexus/link.h, app_start): the service releases whatever its
 * predecessor left, both rings start over, then the app hears it may call. */
static void restart_app_side(unsigned link, uint32_t start) {
    struct link_conn *c = &links[link];
    service->app_restarted(link);
    start_link_over(c);
    __atomic_store_n(&c->hdr->app_start_ack, start, __ATOMIC_RELEASE);
    stats.app_restarts++;
    nx_signal((int)c->info.peer_channel);
}

unsigned link_server_poll(void) {
    unsigned work = 0;
    for (unsigned i = 0; i < nlinks; i++) {
        struct link_conn *c = &links[i];
        struct ion_desc d;
        int r = ION_RING_OK;
        uint32_t start = __atomic_load_n(&c->hdr->app_start, __ATOMIC_ACQUIRE);
        if (start != c->app_start_seen) {
            c->app_start_seen = start;
            restart_app_side(i, start);
            work++;
        }
        /* At most one ring's worth per link and pass: an app that refills its ring as fast as
         * it is drained still lets the service's other work (and the CPU) have a turn. */
        unsigned budget = NXS_RING_CAPACITY;
        while (budget-- && (r = ion_ring_dequeue(&c->requests, &d)) == ION_RING_OK) {
            work++;
            if (d.handle > NXS_POST_SLOT) {
                stats.bad_slots++;
                continue;
            }
            handle_request(i, d.handle);
        }
        if (r == ION_RING_CORRUPT) {
            /* The app broke its own request ring: start it over empty. Its calls fail. */
            stats.bad_rings++;
            ion_ring_init(&c->requests, c->base + NXS_OFF_REQUESTS, NXS_RING_CAPACITY);
        }
    }
    return work;
}

void link_server_flush(void) {
    for (unsigned i = 0; i < nlinks; i++) {
        struct link_conn *c = &links[i];
        int changed = 0;
        for (unsigned w = 0; w < NXS_SOCKETS / 64; w++) {
            for (uint64_t dirty = c->dirty[w]; dirty; dirty &= dirty - 1) {
                int k = (int)(w * 64) + __builtin_ctzll(dirty);
                uint32_t ev = service->status(i, k);
                if (__atomic_load_n(&c->hdr->status[k], __ATOMIC_RELAXED) != ev) {
                    __atomic_store_n(&c->hdr->status[k], ev, __ATOMIC_RELAXED);
                    changed = 1;
                }
            }
            c->dirty[w] = 0;
        }
        if (changed)
            __atomic_fetch_add(&c->hdr->status_seq, 1, __ATOMIC_RELEASE);
        if (!changed && !c->completed)
            continue;
        c->completed = 0;
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* statuses before the flag: see nexus/link.h */
        if (__atomic_exchange_n(&c->hdr->app_waiting, 0, __ATOMIC_SEQ_CST))
            nx_signal((int)c->info.peer_channel);
    }
}

int link_server_sleep_prepare(void) {
    for (unsigned i = 0; i < nlinks; i++)
        if (!ion_ring_consumer_sleep_prepare(&links[i].requests))
            return 0;
    return 1;
}

uint64_t link_server_wait_mask(void) {
    uint64_t mask = 0;
    for (unsigned i = 0; i < nlinks; i++)
        mask |= 1ull << links[i].info.wait_channel;
    return mask;
}

unsigned link_server_attach(const struct link_service *svc) {
    service = svc;
    struct nexus_link_info info;
    for (unsigned i = 0; nlinks < NEXUS_LINKS_MAX && nx_link_info(i, &info) == 0; i++) {
        if (!info.is_server || info.size < NXS_LINK_BYTES)
            continue;
        struct link_conn *c = &links[nlinks++];
        c->info = info;
        c->base = (uint8_t *)info.va;
        c->hdr = (struct nxs_header *)(c->base + NXS_OFF_HEADER);
        start_link_over(c);
        c->hdr->magic = svc->magic;
        /* Whatever app is there now starts fresh with us: nothing to clean up. */
        c->app_start_seen = __atomic_load_n(&c->hdr->app_start, __ATOMIC_ACQUIRE);
        __atomic_store_n(&c->hdr->app_start_ack, c->app_start_seen, __ATOMIC_RELEASE);
        /* A new epoch tells the app that sockets of an earlier service are gone. */
        uint32_t epoch = c->hdr->epoch + 1;
        __atomic_store_n(&c->hdr->epoch, epoch ? epoch : 1, __ATOMIC_RELEASE);
        nx_signal((int)info.peer_channel);
    }
    return nlinks;
}

const struct link_server_stats *link_server_stats(void) { return &stats; }
