/*
 * Fragments back into messages (docs/lwf.md, section 7). The memory is the caller's and fixed:
 * n slots of 64 KiB. Fragment i of a message lands at byte 1024 i of its slot, so any order works
 * and nothing is copied twice. A slot is taken by the first fragment of a message, freed when the
 * last one is in (delivery) or when it is older than the timeout; newcomers never evict, and one
 * peer holds at most per_peer_max slots, so a busy peer cannot starve the others.
 */
#include <string.h>

#include "lwf.h"

void lwf_reassembly_init(struct lwf_reassembly *r, struct lwf_reassembly_slot *slots, size_t n,
                         uint8_t *buffers, size_t per_peer_max) {
    r->slots = slots;
    r->slot_count = n;
    r->per_peer_max = per_peer_max;
    r->timeout_ms = LWF_REASSEMBLY_TIMEOUT_MS;
    for (size_t i = 0; i < n; i++)
        slots[i] = (struct lwf_reassembly_slot){.buffer = buffers + i * LWF_MESSAGE_MAX};
}

static struct lwf_reassembly_slot *slot_of(struct lwf_reassembly *r, const struct lwf_header *h) {
    for (size_t i = 0; i < r->slot_count; i++) {
        struct lwf_reassembly_slot *s = &r->slots[i];
        if (s->busy && s->message_id == h->message_id && memcmp(s->src, h->src, LWF_CELLID_LEN) == 0)
            return s;
    }
    return NULL;
}

/* A free slot for a new message from h->src, or NULL when none may be taken. */
static struct lwf_reassembly_slot *slot_take(struct lwf_reassembly *r, const struct lwf_header *h,
                                             uint64_t now_ms) {
    struct lwf_reassembly_slot *free_slot = NULL;
    size_t held_by_sender = 0;
    for (size_t i = 0; i < r->slot_count; i++) {
        struct lwf_reassembly_slot *s = &r->slots[i];
        if (!s->busy)
            free_slot = free_slot ? free_slot : s;
        else if (memcmp(s->src, h->src, LWF_CELLID_LEN) == 0)
            held_by_sender++;
    }
    if (!free_slot || held_by_sender >= r->per_peer_max)
        return NULL;
    free_slot->busy = true;
    memcpy(free_slot->src, h->src, LWF_CELLID_LEN);
    free_slot->message_id = h->message_id;
    free_slot->fragment_count = h->fragment_count;
    free_slot->last_len = 0;
    free_slot->have = 0;
    free_slot->started_ms = now_ms;
    return free_slot;
}

static uint64_t all_fragments(uint16_t count) {
    return count >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << count) - 1;
}

enum lwf_drop lwf_reassembly_offer(struct lwf_reassembly *r, const struct lwf_header *h,
                                   const uint8_t *chunk, size_t len, uint64_t now_ms,
                                   struct lwf_message *done) {
    done->data = NULL;
    done->len = 0;
    bool last = h->fragment_index + 1u == h->fragment_count;
    /* lwf_receive has checked these already; the slot layout depends on them, so again. */
    if (h->fragment_count < 2 || h->fragment_count > LWF_FRAGMENTS_MAX ||
        h->fragment_index >= h->fragment_count || len == 0 || len > LWF_CHUNK_LEN ||
        (!last && len != LWF_CHUNK_LEN))
        return LWF_DROP_FRAGMENT_OVERFLOW;
    struct lwf_reassembly_slot *s = slot_of(r, h);
    if (!s && !(s = slot_take(r, h, now_ms)))
        return LWF_DROP_FRAGMENT_OVERFLOW;
    if (s->fragment_count != h->fragment_count)
        return LWF_DROP_FRAGMENT_OVERFLOW;
    uint64_t bit = (uint64_t)1 << h->fragment_index;
    if (s->have & bit)
        return LWF_DROP_FRAGMENT_DUPLICATE;
    memcpy(s->buffer + (size_t)h->fragment_index * LWF_CHUNK_LEN, chunk, len);
    s->have |= bit;
    if (last)
        s->last_len = (uint16_t)len;
    if (s->have == all_fragments(s->fragment_count)) {
        s->busy = false;
        done->data = s->buffer;
        done->len = (size_t)(s->fragment_count - 1) * LWF_CHUNK_LEN + s->last_len;
    }
    return LWF_ACCEPTED;
}

size_t lwf_reassembly_expire(struct lwf_reassembly *r, uint64_t now_ms) {
    size_t expired = 0;
    for (size_t i = 0; i < r->slot_count; i++) {
        struct lwf_reassembly_slot *s = &r->slots[i];
        if (s->busy && now_ms - s->started_ms >= r->timeout_ms) {
            s->busy = false;
            expired++;
        }
    }
    return expired;
}

size_t lwf_reassembly_busy(const struct lwf_reassembly *r) {
    size_t busy = 0;
    for (size_t i = 0; i < r->slot_count; i++)
        busy += r->slots[i].busy;
    return busy;
}
