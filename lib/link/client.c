/* The client half of the service link (client.h). */
#include "client.h"

#include <errno.h>
#include <string.h>

#include "nexus.h"

#define ATTACH_WAIT_NS NX_MS(5000)

uint32_t link_client_epoch(const struct link_client *c) {
    return c->hdr ? __atomic_load_n(&c->hdr->epoch, __ATOMIC_ACQUIRE) : 0;
}

uint32_t link_client_status_seq(const struct link_client *c) {
    return c->hdr ? __atomic_load_n(&c->hdr->status_seq, __ATOMIC_ACQUIRE) : 0;
}

uint32_t link_client_status(const struct link_client *c, int32_t sock) {
    if (!c->hdr || sock < 0 || sock >= NXS_SOCKETS)
        return 0;
    return __atomic_load_n(&c->hdr->status[sock], __ATOMIC_ACQUIRE);
}

int link_client_channel(const struct link_client *c) { return (int)c->info.wait_channel; }

static int find_link(struct link_client *c) {
    for (unsigned i = 0; nx_link_info(i, &c->info) == 0; i++) {
        if (!c->info.is_server && c->info.size >= NXS_LINK_BYTES && !strcmp(c->info.peer, c->service)) {
            c->base = (uint8_t *)c->info.va;
            c->hdr = (struct nxs_header *)c->base;
            ion_ring_attach(&c->requests, c->base + NXS_OFF_REQUESTS, NXS_RING_CAPACITY);
            ion_ring_attach(&c->completions, c->base + NXS_OFF_COMPLETIONS, NXS_RING_CAPACITY);
            return 0;
        }
    }
    return -ENETDOWN;
}

static int service_up(struct link_client *c) {
    return __atomic_load_n(&c->hdr->magic, __ATOMIC_ACQUIRE) == c->magic && link_client_epoch(c) != 0;
}

static int app_start_acknowledged(struct link_client *c) {
    return __atomic_load_n(&c->hdr->app_start_ack, __ATOMIC_ACQUIRE) == c->app_start;
}

/* Waits up to ATTACH_WAIT_NS for up(c) to hold, on our channel, while the service's fiber is
 * there to make it hold (it is starting). With none (it could not start, or is down between
 * restarts) the answer is ENETDOWN at once: waiting held the caller's whole loop 5 s per try,
 * and httpd, retrying its UTCP listener on a node whose UTCP service had no memory to start,
 * served HTTP in bursts between those waits (2.6 MB/s instead of 60 at -m 10M). */
static int wait_until(struct link_client *c, int (*up)(struct link_client *)) {
    uint64_t start = nx_clock_ns();
    while (!up(c)) {
        if (nx_clock_ns() - start > ATTACH_WAIT_NS || !link_client_peer_alive(c))
            return -ENETDOWN;
        nx_wait(link_client_channel(c), NX_MS(50));
    }
    return 0;
}

/* This app is new on the link (nexus/link.h, app_start): the service closes whatever an earlier
 * instance of it left open and empties the rings before we make our first call. */
static int announce_start(struct link_client *c) {
    c->app_start = __atomic_load_n(&c->hdr->app_start, __ATOMIC_ACQUIRE) + 1;
    if (c->app_start == 0)
        c->app_start = 1;
    __atomic_store_n(&c->hdr->app_start, c->app_start, __ATOMIC_RELEASE);
    nx_signal((int)c->info.peer_channel);
    return wait_until(c, app_start_acknowledged);
}

/* The reply to our post (nexus/link.h, the post slot) arrived: the slot is ours again; a send
 * that failed leaves its error for the socket's next call. */
static void post_answered(struct link_client *c) {
    struct nxs_msg reply;
    memcpy(&reply, c->base + NXS_OFF_MSGS + NXS_POST_SLOT * sizeof reply, sizeof reply);
    if (!c->post_busy || reply.tag != c->post_tag)
        return; /* not the post we wait for: one from before the service restarted */
    c->post_busy = 0;
    if (reply.result < 0 && reply.sock >= 0 && reply.sock < NXS_SOCKETS)
        c->post_error[reply.sock] = (uint8_t)(-reply.result < 256 ? -reply.result : EIO);
}

/* Takes the replies waiting on the completion ring while no call is in flight: our post's, and
 * leftovers of calls abandoned on an error, which are dropped. */
static void take_replies(struct link_client *c) {
    struct ion_desc d;
    while (ion_ring_dequeue(&c->completions, &d) == ION_RING_OK)
        if (d.handle == NXS_POST_SLOT)
            post_answered(c);
}

int link_client_ready(struct link_client *c) {
    if (!c->attached) {
        if (find_link(c) || wait_until(c, service_up) || announce_start(c))
            return -ENETDOWN;
        c->attached = 1;
    }
    if (wait_until(c, service_up))
        return -ENETDOWN;
    /* A new service instance started its rings empty: drop whatever our side remembers. */
    uint32_t e = link_client_epoch(c);
    if (e != c->epoch) {
        c->epoch = e;
        struct ion_desc d;
        while (ion_ring_dequeue(&c->completions, &d) == ION_RING_OK)
            ;
        c->post_busy = 0; /* its socket is gone with the service that had it */
        memset(c->post_error, 0, sizeof c->post_error);
    }
    return 0;
}

int link_client_peer_alive(const struct link_client *c) {
    struct nexus_link_info info;
    for (unsigned i = 0; nx_link_info(i, &info) == 0; i++)
        if (info.id == c->info.id)
            return info.peer_alive;
    return 0;
}

int link_client_prepare_wait(struct link_client *c, uint32_t seen) {
    __atomic_store_n(&c->hdr->app_waiting, 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (link_client_status_seq(c) != seen)
        return 1;
    /* Outside a call, a reply is our post's or a leftover (of a call abandoned on an error):
     * take it, or the caller would see "something changed" forever and never sleep. */
    if (!c->in_call)
        take_replies(c);
    if (ion_ring_count(&c->completions))
        return 1;
    return link_client_epoch(c) != c->epoch ? -ECONNRESET : 0;
}

int link_client_wait_change(struct link_client *c, uint32_t seen, uint64_t timeout_ns) {
    uint64_t start = nx_clock_ns();
    for (;;) {
        int r = link_client_prepare_wait(c, seen);
        if (r)
            return r < 0 ? r : 0;
        uint64_t waited = nx_clock_ns() - start;
        if (timeout_ns != UINT64_MAX && waited >= timeout_ns)
            return -ETIMEDOUT;
        uint64_t slice = LINK_CLIENT_LIVENESS_NS;
        if (timeout_ns != UINT64_MAX && timeout_ns - waited < slice)
            slice = timeout_ns - waited;
        if (nx_wait(link_client_channel(c), slice) == 0)
            return 0;
        if (!link_client_peer_alive(c) || link_client_epoch(c) != c->epoch)
            return -ECONNRESET;
    }
}

uint8_t *link_client_data(struct link_client *c) {
    return c->attached ? c->base + NXS_OFF_DATA : NULL; /* slot 0's: see link_client_call */
}

uint8_t *link_client_send_area(struct link_client *c, uint64_t *held) {
    if (!c->attached || c->info.size < NXS_LINK_SEND_BYTES)
        return NULL; /* whatever the header says: the area would lie past this link's pages */
    const struct nxs_header *hdr = (const struct nxs_header *)(c->base + NXS_OFF_HEADER);
    if (!__atomic_load_n(&hdr->send_area, __ATOMIC_ACQUIRE))
        return NULL;
    *held = __atomic_load_n(&hdr->send_held, __ATOMIC_ACQUIRE);
    if (c->post_busy)
        *held |= c->post_chunks; /* the service holds them once it has taken the post */
    return c->base + NXS_OFF_SEND;
}

long link_client_call(struct link_client *c, struct nxs_msg *m, const void *in, uint32_t in_len, void *out,
                      uint32_t out_room) {
    int err = link_client_ready(c);
    if (err)
        return err;
    if (in_len > NXS_SLOT_DATA)
        return -EINVAL;
    const uint32_t slot = 0; /* one call at a time: an app is one fiber */
    struct nxs_msg *shared = (struct nxs_msg *)(c->base + NXS_OFF_MSGS + slot * sizeof *m);
    uint8_t *data = c->base + NXS_OFF_DATA + slot * NXS_SLOT_DATA;
    if (in_len && in)
        memcpy(data, in, in_len);
    m->tag = ++c->tag;
    memcpy(shared, m, sizeof *m);
    struct ion_desc d = {slot, 0, 0};
    if (ion_ring_enqueue(&c->requests, &d) != ION_RING_OK)
        return -EIO; /* our own ring is full or broken: a leftover of a dead service */
    if (ion_ring_producer_should_wake(&c->requests))
        nx_signal((int)c->info.peer_channel);
    for (;;) {
        uint32_t seen = link_client_status_seq(c);
        struct ion_desc done;
        while (ion_ring_dequeue(&c->completions, &done) == ION_RING_OK) {
            if (done.handle == NXS_POST_SLOT)
                post_answered(c);
            if (done.handle != slot)
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
        c->in_call = 1;
        err = link_client_wait_change(c, seen, UINT64_MAX);
        c->in_call = 0;
        if (err)
            return err;
    }
}

int link_client_can_post(struct link_client *c) {
    if (!c->attached)
        return 0;
    if (c->post_busy && !c->in_call)
        take_replies(c);
    return !c->post_busy;
}

long link_client_post(struct link_client *c, struct nxs_msg *m, const void *in, uint32_t in_len, uint64_t chunks) {
    if (!link_client_can_post(c))
        return -EBUSY;
    if (in_len > NXS_POST_DATA)
        return -EINVAL;
    memcpy(c->base + NXS_OFF_POST_DATA, in, in_len);
    m->tag = ++c->tag;
    memcpy(c->base + NXS_OFF_MSGS + NXS_POST_SLOT * sizeof *m, m, sizeof *m);
    struct ion_desc d = {NXS_POST_SLOT, 0, 0};
    if (ion_ring_enqueue(&c->requests, &d) != ION_RING_OK)
        return -EIO;
    c->post_busy = 1;
    c->post_tag = m->tag;
    c->post_chunks = chunks;
    if (ion_ring_producer_should_wake(&c->requests))
        nx_signal((int)c->info.peer_channel);
    return 0;
}

int link_client_post_error(struct link_client *c, int32_t sock) {
    if (sock < 0 || sock >= NXS_SOCKETS || !c->post_error[sock])
        return 0;
    int err = c->post_error[sock];
    c->post_error[sock] = 0;
    return -err;
}
