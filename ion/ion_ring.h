/*
 * ION ring: the lock-free single-producer / single-consumer descriptor ring that carries packet
 * buffer handles between the kernel and user-mode services (DESIGN.md invariant 3).
 *
 * The whole protocol is this one header, compiled unchanged for the kernel (riscv64, S-mode), for
 * the user services (U-mode) and for host tests, fuzzing and ThreadSanitizer. It uses nothing but
 * <stdint.h>, <stddef.h>, <string.h> and the compiler's __atomic builtins.
 *
 * What travels
 * ------------
 * A slot holds a descriptor {buffer handle, offset, length}: which pool buffer, where the frame
 * starts in it and how long it is. Never frame bytes: the frame stays where the device put it.
 *
 * Rings come in pairs
 * -------------------
 * Buffers travel in pairs of rings so that ownership always comes back:
 *
 *      owner side                              user side
 *     +-----------+   active: filled buffers  +-----------+
 *     | producer  | ------------------------> | consumer  |
 *     |           | <------------------------ |           |
 *     +-----------+   free: returned buffers  +-----------+
 *
 * The side that fills a buffer enqueues its descriptor on the *active* ring; when the other side
 * is done with it, it enqueues the handle on the *free* ring, and the first side reuses it. Each
 * ring of the pair has its own single producer and single consumer (the roles swap on the free
 * ring). `struct ion_ring_pair` just keeps the two local handles together. Who holds which buffer
 * is tracked separately, in trusted memory, by ion_pool.h; the rings only carry the handles.
 *
 * Shared memory layout (struct ion_ring_shared, normally one 4 KiB page)
 * ----------------------------------------------------------------------
 *
 *     offset   0  head               written by the producer only     } each on its own
 *     offset  64  tail               written by the consumer only     } 64-byte line, so
 *     offset 128  consumer_sleeping  set by the consumer, cleared by  } the two sides do
 *                                    the producer (and the consumer)  } not false-share
 *     offset 192  slots[capacity]    8 bytes each
 *
 * head and tail are free-running 32-bit counters: they are never masked when stored, and
 * (head - tail) in uint32_t arithmetic is the number of descriptors in the ring, also across the
 * 2^32 wraparound. The capacity is a power of two (>= 2, <= 2^31), so slot = counter & mask.
 * The cache-line separation holds when the memory is 64-byte aligned (a page always is).
 * A 4 KiB page holds a capacity-256 ring (ION_RING_BYTES(256) = 2240).
 *
 * Ordering
 * --------
 *   producer: write slots, then store-release head.
 *   consumer: load-acquire head, read slots, then store-release tail.
 *   producer: load-acquire tail before reusing the slots the consumer has given back.
 * The release/acquire pairs also order the *buffer contents*: whatever one side wrote into a
 * buffer before enqueueing its handle is visible to the other side after it dequeued the handle.
 *
 * The peer may be hostile
 * -----------------------
 * The shared page is mapped into a user fiber that may write anything into it at any time. So:
 *  - Each side keeps a local, trusted `struct ion_ring` in its own memory with the shared pointer
 *    and the mask. The capacity is never read back from shared memory.
 *  - Every slot index is masked with that trusted mask: no call reads or writes outside the slot
 *    array whatever head/tail hold.
 *  - If (head - tail) > capacity as seen by a side, the ring is corrupt: the single-item calls
 *    return ION_RING_CORRUPT (-2), the batch calls return 0 (ion_ring_corrupt() tells this apart
 *    from full/empty), ion_ring_count() and ion_ring_free_space() return 0, and nothing is
 *    transferred. Recovery (killing/restarting the peer, re-initialising the ring) is the
 *    caller's policy.
 *  - A hostile peer can still rewind or advance the counters within range, or rewrite slots it
 *    has not yet "consumed". That can make the trusted side see stale or invented handles, never
 *    touch memory outside the ring. Every handle that comes out of a ring must therefore be
 *    validated by its owner tracker (ion_pool_transfer) before the buffer is used.
 *  - A slot is read and written whole, with one relaxed 8-byte atomic access, into/out of the
 *    caller's memory: the compiler can neither fetch a slot twice nor tear it, and a peer
 *    writing concurrently is not undefined behaviour on the trusted side. On riscv64 and x86-64
 *    these are single ordinary (or AMO) loads and stores; the slots are 8-aligned (a ring's
 *    memory is 64-aligned, the slots start at 192).
 *
 * Wake protocol (signal suppression)
 * ----------------------------------
 * The producer notifies the consumer (an ecall, or the kernel waking a fiber) only when the
 * consumer said it is going to sleep:
 *
 *   consumer:                                   producer, after enqueueing:
 *     if (ion_ring_consumer_sleep_prepare(r))     if (ion_ring_producer_should_wake(r))
 *         wait for a notification;                    notify the consumer;
 *     else                                        (else: consumer is awake and will see the
 *         dequeue again;                                 new descriptors by itself)
 *
 * prepare sets consumer_sleeping, then a full fence, then re-checks the ring; should_wake does a
 * full fence (after the store-release of head), then checks the flag. This is the store/load
 * (Dekker) pattern: either the consumer sees the new head and does not sleep, or the producer sees
 * the flag and notifies. The notification must be latched (a notify sent just before the
 * consumer actually blocks must wake it up as soon as it blocks, like an seL4 notification or a
 * fiber's pending-wake bit); spurious wakeups are possible and harmless.
 *
 * Concurrency contract, in one place
 * ----------------------------------
 *   setup (before the peer can see the page): ion_ring_init (one side), ion_ring_attach (other).
 *   producer side only: ion_ring_enqueue, ion_ring_enqueue_batch, ion_ring_producer_should_wake,
 *                       ion_ring_free_space.
 *   consumer side only: ion_ring_dequeue, ion_ring_dequeue_batch,
 *                       ion_ring_consumer_sleep_prepare, ion_ring_count.
 *   either side:        ion_ring_corrupt, ion_ring_capacity, ion_ring_bytes.
 * "Producer side" means the one thread/fiber that owns the producer role of that ring at that
 * time; two producers (or two consumers) on one ring are not supported. ion_ring_count and
 * ion_ring_free_space are exact only for the side named; from the other side they are a snapshot.
 */
#ifndef NEXUS_ION_RING_H
#define NEXUS_ION_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ION_CACHE_LINE 64

/* Return values of the single-item calls. */
#define ION_RING_OK 0
#define ION_RING_FULL (-1)  /* enqueue: no free slot */
#define ION_RING_EMPTY (-1) /* dequeue: nothing to take */
#define ION_RING_CORRUPT (-2)

/* Largest capacity: (head - tail) must be able to exceed it in 32 bits to detect corruption. */
#define ION_RING_MAX_CAPACITY 0x80000000u

/* One slot: a buffer handle and where the frame lies in that buffer. Never frame bytes. */
struct ion_desc {
    uint32_t handle;
    uint16_t offset;
    uint16_t length;
};

/* The page shared with the peer. Nothing in it is trusted by the reading side. */
struct ion_ring_shared {
    uint32_t head; /* producer: next slot to fill (free-running) */
    uint8_t pad_head[ION_CACHE_LINE - sizeof(uint32_t)];
    uint32_t tail; /* consumer: next slot to drain (free-running) */
    uint8_t pad_tail[ION_CACHE_LINE - sizeof(uint32_t)];
    uint32_t consumer_sleeping; /* wake flag: nonzero = notify me after enqueueing */
    uint8_t pad_flag[ION_CACHE_LINE - sizeof(uint32_t)];
    struct ion_desc slots[];
};

_Static_assert(sizeof(struct ion_desc) == 8, "ion_desc is 8 bytes on every side");
_Static_assert(offsetof(struct ion_ring_shared, tail) == ION_CACHE_LINE, "tail on line 1");
_Static_assert(offsetof(struct ion_ring_shared, consumer_sleeping) == 2 * ION_CACHE_LINE,
               "wake flag on line 2");
_Static_assert(offsetof(struct ion_ring_shared, slots) == 3 * ION_CACHE_LINE, "slots from line 3");

/* Shared bytes for a ring of `cap` slots, as a constant expression. */
#define ION_RING_BYTES(cap) \
    (offsetof(struct ion_ring_shared, slots) + (size_t)(cap) * sizeof(struct ion_desc))

/* Each side's own, trusted view of one ring. Lives in that side's private memory. */
struct ion_ring {
    struct ion_ring_shared *shared;
    uint32_t mask; /* capacity - 1, fixed at init/attach */
};

/* The two rings that move one set of buffers there and back (see the header comment). */
struct ion_ring_pair {
    struct ion_ring active; /* filled buffers: owner -> user */
    struct ion_ring free;   /* returned buffers: user -> owner */
};

/* ---- internal helpers (not part of the API) ---- */

static inline int ion_ring__valid_capacity(uint32_t capacity) {
    return capacity >= 2 && capacity <= ION_RING_MAX_CAPACITY && (capacity & (capacity - 1)) == 0;
}

/*
 * Slot access. Normally relaxed atomics, field by field (see "The peer may be hostile" above).
 * Under ThreadSanitizer they are plain accesses instead: TSan only checks happens-before for
 * non-atomic memory, so this lets a two-thread TSan run prove that the head/tail release/acquire
 * pairs really order the slot writes and reads (a missing acquire shows up as a data race on a
 * slot). For a correct producer and consumer the two variants behave the same.
 */
#if defined(__SANITIZE_THREAD__)
#define ION_RING__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ION_RING__TSAN 1
#endif
#endif

/* A whole slot as one word, for the single 8-byte access (may_alias: it is a struct ion_desc).
 * The word is the fields in memory order on a little-endian machine, which every side is. */
typedef uint64_t __attribute__((may_alias)) ion_ring__word;
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "a slot's word packs its fields little-endian");
_Static_assert(offsetof(struct ion_desc, offset) == 4 && offsetof(struct ion_desc, length) == 6,
               "a slot's word packs handle, offset, length in that order");

/* Copies one descriptor into a slot: one store. */
static inline void ion_ring__put(struct ion_desc *slot, const struct ion_desc *d) {
#ifdef ION_RING__TSAN
    *slot = *d;
#else
    uint64_t w = (uint64_t)d->handle | (uint64_t)d->offset << 48 >> 16 | (uint64_t)d->length << 48;
    __atomic_store_n((ion_ring__word *)slot, w, __ATOMIC_RELAXED);
#endif
}

/* Copies one slot out to private memory: one load, so the slot is fetched exactly once. */
static inline void ion_ring__get(const struct ion_desc *slot, struct ion_desc *d) {
#ifdef ION_RING__TSAN
    *d = *slot;
#else
    uint64_t w = __atomic_load_n((const ion_ring__word *)slot, __ATOMIC_RELAXED);
    d->handle = (uint32_t)w;
    d->offset = (uint16_t)(w >> 32);
    d->length = (uint16_t)(w >> 48);
#endif
}

/*
 * Full fence for the wake protocol (store/load ordering; release/acquire cannot give that).
 * GCC's ThreadSanitizer build warns that it does not model standalone fences; it still executes
 * a real fence, and no plain data in this protocol is synchronised through it (the flag and the
 * counters are atomics), so the warning is silenced for that build only.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
static inline void ion_ring__full_fence(void) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

/* ---- setup ---- */

/* Shared bytes needed for `capacity` slots. Either side, any time. */
static inline size_t ion_ring_bytes(uint32_t capacity) {
    return ION_RING_BYTES(capacity);
}

/*
 * Creates a ring in `mem` (ion_ring_bytes(capacity) bytes): zeroes it and fills in the trusted
 * local handle `r`. Returns 0, or -1 if `capacity` is not a power of two in [2, 2^31] or `mem` is
 * NULL (then `r` is cleared). Called once, by the side that owns the memory, before the peer can
 * see it (mapping the page into the peer provides the ordering).
 */
static inline int ion_ring_init(struct ion_ring *r, void *mem, uint32_t capacity) {
    if (!mem || !ion_ring__valid_capacity(capacity)) {
        r->shared = NULL;
        r->mask = 0;
        return -1;
    }
    memset(mem, 0, ion_ring_bytes(capacity));
    r->shared = (struct ion_ring_shared *)mem;
    r->mask = capacity - 1;
    return 0;
}

/*
 * The other side's setup: fills in its own trusted handle for an existing ring in `mem`, writing
 * nothing to `mem`. The capacity comes from this side's own configuration (never from the shared
 * page). Returns 0, or -1 as for ion_ring_init.
 */
static inline int ion_ring_attach(struct ion_ring *r, void *mem, uint32_t capacity) {
    if (!mem || !ion_ring__valid_capacity(capacity)) {
        r->shared = NULL;
        r->mask = 0;
        return -1;
    }
    r->shared = (struct ion_ring_shared *)mem;
    r->mask = capacity - 1;
    return 0;
}

/* Number of slots (from the trusted mask). Either side. */
static inline uint32_t ion_ring_capacity(const struct ion_ring *r) {
    return r->mask + 1;
}

/*
 * 1 if (head - tail) > capacity as the caller sees it, else 0. Call it from the producer or the
 * consumer side (there, the caller's own counter cannot move under it, so a correct peer never
 * makes this 1). Use it to tell a 0 from a batch call apart from full/empty.
 */
static inline int ion_ring_corrupt(const struct ion_ring *r) {
    uint32_t head = __atomic_load_n(&r->shared->head, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&r->shared->tail, __ATOMIC_ACQUIRE);
    return (uint32_t)(head - tail) > r->mask + 1;
}

/* ---- producer side ---- */

/*
 * Free slots as the producer sees them (0 if corrupt). Producer side; from the consumer it is a
 * lower bound that may already be stale.
 */
static inline uint32_t ion_ring_free_space(const struct ion_ring *r) {
    uint32_t head = __atomic_load_n(&r->shared->head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&r->shared->tail, __ATOMIC_ACQUIRE);
    uint32_t used = head - tail;
    return used > r->mask + 1 ? 0 : r->mask + 1 - used;
}

/*
 * Enqueues up to `n` descriptors from `d`, in order, with one store-release of head for the
 * whole batch. Returns how many were enqueued: all `n`, or the prefix that fit (0 when full or
 * corrupt; see ion_ring_corrupt). Producer side only.
 */
static inline uint32_t ion_ring_enqueue_batch(struct ion_ring *r, const struct ion_desc *d,
                                              uint32_t n) {
    struct ion_ring_shared *s = r->shared;
    uint32_t cap = r->mask + 1;
    uint32_t head = __atomic_load_n(&s->head, __ATOMIC_RELAXED); /* our own counter */
    uint32_t tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE); /* slots before it are free */
    uint32_t used = head - tail;
    if (used > cap)
        return 0;
    uint32_t k = cap - used;
    if (k > n)
        k = n;
    for (uint32_t i = 0; i < k; i++)
        ion_ring__put(&s->slots[(head + i) & r->mask], &d[i]);
    if (k)
        __atomic_store_n(&s->head, head + k, __ATOMIC_RELEASE); /* publishes the slots */
    return k;
}

/*
 * Enqueues one descriptor. Returns ION_RING_OK (0), ION_RING_FULL (-1) or ION_RING_CORRUPT (-2).
 * Producer side only.
 */
static inline int ion_ring_enqueue(struct ion_ring *r, const struct ion_desc *d) {
    struct ion_ring_shared *s = r->shared;
    uint32_t head = __atomic_load_n(&s->head, __ATOMIC_RELAXED); /* our own counter */
    uint32_t tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE); /* slots before it are free */
    uint32_t used = head - tail;
    if (used > r->mask) /* full (== capacity) or corrupt (more): one test on the way through */
        return used == r->mask + 1 ? ION_RING_FULL : ION_RING_CORRUPT;
    ion_ring__put(&s->slots[(uint64_t)head & (uint64_t)r->mask], d);
    __atomic_store_n(&s->head, head + 1, __ATOMIC_RELEASE); /* publishes the slot */
    return ION_RING_OK;
}

/*
 * After enqueueing: returns 1 if the consumer asked to be woken (and clears its flag) — the
 * caller must then notify it — or 0 if it is awake and needs no signal. The full fence orders
 * the head store before the flag load (pairs with ion_ring_consumer_sleep_prepare).
 * Producer side only.
 */
static inline int ion_ring_producer_should_wake(struct ion_ring *r) {
    ion_ring__full_fence();
    if (__atomic_load_n(&r->shared->consumer_sleeping, __ATOMIC_RELAXED) == 0)
        return 0;
    __atomic_store_n(&r->shared->consumer_sleeping, 0, __ATOMIC_RELAXED);
    return 1;
}

/* ---- consumer side ---- */

/*
 * Descriptors waiting as the consumer sees them (0 if corrupt). Consumer side; from the producer
 * it is an upper bound that may already be stale.
 */
static inline uint32_t ion_ring_count(const struct ion_ring *r) {
    uint32_t head = __atomic_load_n(&r->shared->head, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&r->shared->tail, __ATOMIC_RELAXED);
    uint32_t used = head - tail;
    return used > r->mask + 1 ? 0 : used;
}

/*
 * Dequeues up to `max` descriptors into `d`, in order, with one store-release of tail for the
 * batch. Returns how many (never more than `max` or the capacity; 0 when empty or corrupt; see
 * ion_ring_corrupt). The descriptors are copies in the caller's memory; the handles in them
 * still need validating. Consumer side only.
 */
static inline uint32_t ion_ring_dequeue_batch(struct ion_ring *r, struct ion_desc *d,
                                              uint32_t max) {
    struct ion_ring_shared *s = r->shared;
    uint32_t tail = __atomic_load_n(&s->tail, __ATOMIC_RELAXED); /* our own counter */
    uint32_t head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE); /* slots before it are filled */
    uint32_t k = head - tail;
    if (k > r->mask + 1)
        return 0;
    if (k > max)
        k = max;
    for (uint32_t i = 0; i < k; i++)
        ion_ring__get(&s->slots[(tail + i) & r->mask], &d[i]);
    if (k)
        __atomic_store_n(&s->tail, tail + k, __ATOMIC_RELEASE); /* hands the slots back */
    return k;
}

/*
 * Dequeues one descriptor into `d`. Returns ION_RING_OK (0), ION_RING_EMPTY (-1) or
 * ION_RING_CORRUPT (-2). Consumer side only.
 */
static inline int ion_ring_dequeue(struct ion_ring *r, struct ion_desc *d) {
    if (ion_ring_dequeue_batch(r, d, 1) == 1)
        return ION_RING_OK;
    return ion_ring_corrupt(r) ? ION_RING_CORRUPT : ION_RING_EMPTY;
}

/*
 * Call when the ring looked empty and the consumer wants to block. Sets the wake flag, fences,
 * and looks again: returns 1 if the ring is still empty (safe to sleep: the producer will see the
 * flag and notify), or 0 if work arrived meanwhile (or the ring is corrupt); then the flag is
 * cleared again and the caller must not sleep but dequeue. Consumer side only.
 */
static inline int ion_ring_consumer_sleep_prepare(struct ion_ring *r) {
    struct ion_ring_shared *s = r->shared;
    __atomic_store_n(&s->consumer_sleeping, 1, __ATOMIC_RELAXED);
    ion_ring__full_fence();
    uint32_t head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&s->tail, __ATOMIC_RELAXED);
    if (head == tail)
        return 1;
    __atomic_store_n(&s->consumer_sleeping, 0, __ATOMIC_RELAXED);
    return 0;
}

#endif
