/* libnexus: the app's end of its link to the Membrane (libnexus.h, membrane/sockproto.h). */
#include <errno.h>
#include <string.h>

#include "ion_ring.h"
#include "libnexus.h"
#include "nexus.h"

#define ATTACH_WAIT_NS NX_MS(5000)
#define LIVENESS_PERIOD_NS NX_MS(500)

static struct {
    int attached;
    struct nexus_link_info info;
    uint8_t *base;
    struct nxs_header *hdr;
    struct ion_ring requests, completions;
    uint32_t epoch; /* the Membrane our rings were last synchronised with */
    uint32_t app_start; /* what we announced in the header's app_start */
    int in_call;    /* a reply may arrive on the completion ring */
    uint32_t tag;
} link;

uint32_t nxl_epoch(void) { return link.hdr ? __atomic_load_n(&link.hdr->epoch, __ATOMIC_ACQUIRE) : 0; }
uint32_t nxl_status_seq(void) { return __atomic_load_n(&link.hdr->status_seq, __ATOMIC_ACQUIRE); }

uint32_t nxl_status(int32_t sock) {
    if (!link.hdr || sock < 0 || sock >= NXS_SOCKETS)
        return 0;
    return __atomic_load_n(&link.hdr->status[sock], __ATOMIC_ACQUIRE);
}

static int find_link(void) {
    for (unsigned i = 0; nx_link_info(i, &link.info) == 0; i++) {
        if (!link.info.is_server && link.info.size >= NXS_LINK_BYTES) {
            link.base = (uint8_t *)link.info.va;
            link.hdr = (struct nxs_header *)link.base;
            ion_ring_attach(&link.requests, link.base + NXS_OFF_REQUESTS, NXS_RING_CAPACITY);
            ion_ring_attach(&link.completions, link.base + NXS_OFF_COMPLETIONS, NXS_RING_CAPACITY);
            return 0;
        }
    }
    return -ENETDOWN;
}

static int membrane_up(void) {
    return __atomic_load_n(&link.hdr->magic, __ATOMIC_ACQUIRE) == NXS_MAGIC && nxl_epoch() != 0;
}

/* Waits up to ATTACH_WAIT_NS for up() to hold, on our channel. */
static int wait_until(int (*up)(void)) {
    uint64_t start = nx_clock_ns();
    while (!up()) {
        if (nx_clock_ns() - start > ATTACH_WAIT_NS)
            return -ENETDOWN;
        nx_wait((int)link.info.wait_channel, NX_MS(50));
    }
    return 0;
}

static int app_start_acknowledged(void) {
    return __atomic_load_n(&link.hdr->app_start_ack, __ATOMIC_ACQUIRE) == link.app_start;
}

/* This app is new on the link (sockproto.h, app_start): the Membrane closes whatever an earlier
 * instance of it left open and empties the rings before we make our first call. */
static int announce_start(void) {
    link.app_start = __atomic_load_n(&link.hdr->app_start, __ATOMIC_ACQUIRE) + 1;
    if (link.app_start == 0)
        link.app_start = 1;
    __atomic_store_n(&link.hdr->app_start, link.app_start, __ATOMIC_RELEASE);
    nx_signal((int)link.info.peer_channel);
    return wait_until(app_start_acknowledged);
}

int nxl_ready(void) {
    if (!link.attached) {
        if (find_link() || wait_until(membrane_up) || announce_start())
            return -ENETDOWN;
        link.attached = 1;
    }
    if (wait_until(membrane_up))
        return -ENETDOWN;
    /* A new Membrane started its rings empty: drop whatever our side remembers. */
    uint32_t e = nxl_epoch();
    if (e != link.epoch) {
        link.epoch = e;
        struct ion_desc d;
        while (ion_ring_dequeue(&link.completions, &d) == ION_RING_OK)
            ;
    }
    return 0;
}

static int peer_alive(void) {
    struct nexus_link_info info;
    for (unsigned i = 0; nx_link_info(i, &info) == 0; i++)
        if (info.id == link.info.id)
            return info.peer_alive;
    return 0;
}

int nxl_wait_change(uint32_t seen, uint64_t timeout_ns) {
    uint64_t start = nx_clock_ns();
    for (;;) {
        __atomic_store_n(&link.hdr->app_waiting, 1, __ATOMIC_SEQ_CST);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (nxl_status_seq() != seen)
            return 0;
        /* Outside a call, a reply is a leftover (of a call abandoned on an error): drop it, or
         * the caller would see "something changed" forever and never sleep. */
        struct ion_desc stray;
        while (!link.in_call && ion_ring_dequeue(&link.completions, &stray) == ION_RING_OK)
            ;
        if (ion_ring_count(&link.completions))
            return 0;
        if (nxl_epoch() != link.epoch)
            return -ECONNRESET;
        uint64_t waited = nx_clock_ns() - start;
        if (timeout_ns != UINT64_MAX && waited >= timeout_ns)
            return -ETIMEDOUT;
        uint64_t slice = LIVENESS_PERIOD_NS;
        if (timeout_ns != UINT64_MAX && timeout_ns - waited < slice)
            slice = timeout_ns - waited;
        if (nx_wait((int)link.info.wait_channel, slice) == 0)
            return 0;
        if (!peer_alive() || nxl_epoch() != link.epoch)
            return -ECONNRESET;
    }
}

long nxl_call(struct nxs_msg *m, const void *in, uint32_t in_len, void *out, uint32_t out_room) {
    int err = nxl_ready();
    if (err)
        return err;
    if (in_len > NXS_SLOT_DATA)
        return -EINVAL;
    const uint32_t slot = 0; /* one call at a time: an app is one fiber */
    struct nxs_msg *shared = (struct nxs_msg *)(link.base + NXS_OFF_MSGS + slot * sizeof *m);
    uint8_t *data = link.base + NXS_OFF_DATA + slot * NXS_SLOT_DATA;
    if (in_len)
        memcpy(data, in, in_len);
    m->tag = ++link.tag;
    memcpy(shared, m, sizeof *m);
    struct ion_desc d = {slot, 0, 0};
    if (ion_ring_enqueue(&link.requests, &d) != ION_RING_OK)
        return -EIO; /* our own ring is full or broken: a leftover of a dead Membrane */
    if (ion_ring_producer_should_wake(&link.requests))
        nx_signal((int)link.info.peer_channel);
    for (;;) {
        uint32_t seen = nxl_status_seq();
        struct ion_desc c;
        while (ion_ring_dequeue(&link.completions, &c) == ION_RING_OK) {
            if (c.handle != slot)
                continue;
            struct nxs_msg reply;
            memcpy(&reply, shared, sizeof reply);
            if (reply.tag != m->tag)
                continue; /* a stale reply from before an error */
            *m = reply;
            uint32_t n = reply.len < out_room ? reply.len : out_room;
            if (n > NXS_SLOT_DATA)
                n = NXS_SLOT_DATA;
            if (n && out)
                memcpy(out, data, n);
            m->len = n;
            if (m->addr_len > NXS_ADDR_MAX)
                m->addr_len = NXS_ADDR_MAX;
            return (long)reply.result;
        }
        link.in_call = 1;
        err = nxl_wait_change(seen, UINT64_MAX);
        link.in_call = 0;
        if (err)
            return err;
    }
}
