/*
 * ION pool ownership: who holds each buffer of a pool of fixed-size packet buffers.
 *
 * The rings (ion_ring.h) only carry handles, and a ring page is writable by a possibly hostile
 * peer, so a handle coming out of a ring proves nothing. This table is the truth. It lives in
 * TRUSTED memory (the kernel's), is never mapped into a service, and every handoff of a buffer is
 * checked against it: the kernel moves a buffer from one owner to another only if the claimed
 * holder really holds it. A service that returns a buffer twice, returns one it never had, or
 * names a handle outside the pool is refused (and counted), and nothing changes.
 *
 * Owner ids are small integers chosen by the caller, for example 0 = free/kernel, 1 = device,
 * 2.. = services. ION_POOL_NO_OWNER (0xff) is reserved: it is what ion_pool_owner() answers for
 * a handle outside the pool, so no buffer can be given to it.
 *
 * Concurrency: none. The functions are not thread-safe; the kernel calls them with its own
 * serialisation (one hart, or its lock). Cost: transfer and owner are O(1), count and reclaim are
 * O(nbufs) (they run on statistics and on a service's death, not per packet).
 */
#ifndef NEXUS_ION_POOL_H
#define NEXUS_ION_POOL_H

#include <stdint.h>

#define ION_POOL_NO_OWNER 0xffu

struct ion_pool {
    uint32_t nbufs;   /* handles are 0 .. nbufs-1 */
    uint8_t *owner;   /* owner[h]: current holder of buffer h (caller's storage, nbufs bytes) */
    uint64_t refused; /* transfers refused: bad handle, wrong holder or bad new owner */
};

/*
 * Sets up `p` over `owner_storage` (nbufs bytes, trusted memory) with every buffer held by
 * `initial_owner`. Returns 0, or -1 if the storage is missing (with nbufs > 0) or initial_owner
 * is ION_POOL_NO_OWNER.
 */
int ion_pool_init(struct ion_pool *p, uint32_t nbufs, uint8_t *owner_storage,
                  uint8_t initial_owner);

/*
 * Moves buffer `handle` from `from` to `to`. Returns 0, or -1 and counts a refusal (refused++)
 * if the handle is out of range, the buffer is not currently held by `from`, or `to` is
 * ION_POOL_NO_OWNER. A refused transfer changes no ownership. Inline: it is on the path of
 * every frame, where a call cost more than the check.
 */
static inline int ion_pool_transfer(struct ion_pool *p, uint32_t handle, uint8_t from, uint8_t to) {
    if (handle >= p->nbufs || p->owner[handle] != from || to == ION_POOL_NO_OWNER) {
        p->refused++;
        return -1;
    }
    p->owner[handle] = to;
    return 0;
}

/*
 * ion_pool_transfer for a caller that has already bounded `handle` below nbufs and whose `to` is
 * an owner id other than ION_POOL_NO_OWNER by construction (the kernel's RX path, per frame:
 * its own range check and static asserts say so). The check left, the holder's, is the one that
 * can fail there; it refuses and counts alike.
 */
static inline int ion_pool_transfer_bounded(struct ion_pool *p, uint32_t handle, uint8_t from, uint8_t to) {
    if (p->owner[handle] != from) {
        p->refused++;
        return -1;
    }
    p->owner[handle] = to;
    return 0;
}

/* Current holder of `handle`, or ION_POOL_NO_OWNER (0xff) if the handle is out of range. */
uint8_t ion_pool_owner(const struct ion_pool *p, uint32_t handle);

/* How many buffers `owner` holds. */
uint32_t ion_pool_count(const struct ion_pool *p, uint8_t owner);

/*
 * Moves every buffer held by `from` to `to` (used when a service dies, so that its buffers come
 * back) and returns how many moved. Moves nothing and returns 0 if from == to or `to` is
 * ION_POOL_NO_OWNER.
 */
uint32_t ion_pool_reclaim(struct ion_pool *p, uint8_t from, uint8_t to);

#endif
