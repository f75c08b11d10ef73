/* The ends of a lane (unix_lane.h). */
#include "unix_lane.h"

#include <string.h>

static uint32_t *flag(uint8_t *lane, uint32_t off) { return (uint32_t *)(void *)(lane + off); }

static uint8_t *buffer(uint8_t *lane, uint32_t handle) {
    return lane + UNIX_LANE_OFF_BUFS + (size_t)handle * UNIX_LANE_BUF_BYTES;
}

void unix_lane_init(void *lane) {
    uint8_t *l = lane;
    memset(l, 0, UNIX_LANE_OFF_BUFS);
    struct ion_ring active, free;
    ion_ring_init(&active, l + UNIX_LANE_OFF_ACTIVE, UNIX_LANE_BUFS);
    ion_ring_init(&free, l + UNIX_LANE_OFF_FREE, UNIX_LANE_BUFS);
    for (uint32_t h = 0; h < UNIX_LANE_BUFS; h++) {
        struct ion_desc d = {h, 0, 0};
        ion_ring_enqueue(&free, &d);
    }
}

void unix_lane_writer_attach(struct unix_lane_writer *w, void *lane) {
    memset(w, 0, sizeof *w);
    w->lane = lane;
    w->claimed = -1;
    ion_ring_attach(&w->active, w->lane + UNIX_LANE_OFF_ACTIVE, UNIX_LANE_BUFS);
    ion_ring_attach(&w->free, w->lane + UNIX_LANE_OFF_FREE, UNIX_LANE_BUFS);
}

void unix_lane_reader_attach(struct unix_lane_reader *r, void *lane) {
    memset(r, 0, sizeof *r);
    r->lane = lane;
    ion_ring_attach(&r->active, r->lane + UNIX_LANE_OFF_ACTIVE, UNIX_LANE_BUFS);
    ion_ring_attach(&r->free, r->lane + UNIX_LANE_OFF_FREE, UNIX_LANE_BUFS);
}

/* ---- writer ---- */

uint8_t *unix_lane_claim(struct unix_lane_writer *w) {
    if (w->broken)
        return NULL;
    if (w->claimed < 0) {
        struct ion_desc d;
        int r = ion_ring_dequeue(&w->free, &d);
        if (r == ION_RING_EMPTY)
            return NULL;
        if (r != ION_RING_OK || d.handle >= UNIX_LANE_BUFS) {
            w->broken = 1;
            return NULL;
        }
        w->claimed = (int32_t)d.handle;
    }
    return buffer(w->lane, (uint32_t)w->claimed);
}

int unix_lane_post(struct unix_lane_writer *w, uint32_t len) {
    if (w->claimed < 0 || len > UNIX_LANE_BUF_BYTES)
        return -1;
    struct ion_desc d = {(uint32_t)w->claimed, 0, (uint16_t)len};
    if (ion_ring_enqueue(&w->active, &d) != ION_RING_OK) {
        w->broken = 1; /* every buffer fits the ring: a full ring is the reader's doing */
        return -1;
    }
    w->claimed = -1;
    return 0;
}

int unix_lane_writable(struct unix_lane_writer *w) { return unix_lane_claim(w) != NULL; }

void unix_lane_shut_writer(struct unix_lane_writer *w) {
    __atomic_store_n(flag(w->lane, UNIX_LANE_OFF_WRITER_SHUT), 1u, __ATOMIC_RELEASE);
}

int unix_lane_reader_shut(const struct unix_lane_writer *w) {
    return __atomic_load_n(flag(w->lane, UNIX_LANE_OFF_READER_SHUT), __ATOMIC_ACQUIRE) != 0;
}

/* ---- reader ---- */

void unix_lane_collect(struct unix_lane_reader *r) {
    while (!r->broken && r->count < UNIX_LANE_BUFS) {
        struct ion_desc d;
        int got = ion_ring_dequeue(&r->active, &d);
        if (got == ION_RING_EMPTY)
            return;
        if (got != ION_RING_OK || d.handle >= UNIX_LANE_BUFS || d.offset != 0 || d.length > UNIX_LANE_BUF_BYTES) {
            r->broken = 1;
            return;
        }
        r->queue[(r->first + r->count++) % UNIX_LANE_BUFS] = d;
    }
}

uint32_t unix_lane_queued(struct unix_lane_reader *r) {
    unix_lane_collect(r);
    return r->count;
}

size_t unix_lane_queued_bytes(struct unix_lane_reader *r) {
    size_t n = 0;
    uint32_t len;
    for (uint32_t i = 0; unix_lane_piece(r, i, &len); i++)
        n += len;
    return n;
}

const uint8_t *unix_lane_piece(struct unix_lane_reader *r, uint32_t i, uint32_t *len) {
    if (i == 0)
        unix_lane_collect(r);
    if (i >= r->count)
        return NULL;
    const struct ion_desc *d = &r->queue[(r->first + i) % UNIX_LANE_BUFS];
    uint32_t skip = i == 0 ? r->offset : 0;
    *len = d->length - skip;
    return buffer(r->lane, d->handle) + skip;
}

void unix_lane_drop_first(struct unix_lane_reader *r) {
    unix_lane_collect(r);
    if (!r->count)
        return;
    struct ion_desc back = {r->queue[r->first].handle, 0, 0};
    if (ion_ring_enqueue(&r->free, &back) != ION_RING_OK)
        r->broken = 1; /* the free ring holds every buffer: full means the writer broke it */
    r->first = (r->first + 1) % UNIX_LANE_BUFS;
    r->count--;
    r->offset = 0;
}

void unix_lane_consume(struct unix_lane_reader *r, size_t n) {
    uint32_t len;
    while (unix_lane_piece(r, 0, &len) && (n >= len)) {
        n -= len;
        unix_lane_drop_first(r);
        if (r->broken)
            return;
    }
    if (r->count)
        r->offset += (uint32_t)n; /* n < the first buffer's unread bytes here */
}

int unix_lane_writer_shut(const struct unix_lane_reader *r) {
    return __atomic_load_n(flag(r->lane, UNIX_LANE_OFF_WRITER_SHUT), __ATOMIC_ACQUIRE) != 0;
}

int unix_lane_at_end(struct unix_lane_reader *r) {
    /* The writer posts before it shuts: seeing the flag first, then an empty ring, is the end. */
    return unix_lane_writer_shut(r) && unix_lane_queued(r) == 0;
}

void unix_lane_shut_reader(struct unix_lane_reader *r) {
    __atomic_store_n(flag(r->lane, UNIX_LANE_OFF_READER_SHUT), 1u, __ATOMIC_RELEASE);
}
