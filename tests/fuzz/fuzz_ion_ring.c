/*
 * libFuzzer target for ion/ion_ring.h with the fuzzer as a hostile peer. The input is
 *     <capacity byte> then records <op byte> <arguments...>
 * (stopping anywhere). The trusted side makes the ring calls (as producer and as consumer, one
 * thread); the peer writes arbitrary values straight into the shared head, tail, wake flag, slots
 * and padding, as a malicious service could at any time.
 *
 * The shared memory is malloc'd at exactly ion_ring_bytes(capacity), and every batch array at
 * exactly the size passed, so AddressSanitizer catches any access outside the slot array or past
 * a caller's buffer. Alongside runs a model: a shadow copy of the slots plus the rule
 * "(head - tail) > capacity means corrupt". After every record the real ring must agree with the
 * model on return codes, counters, returned descriptors, the slot contents and the untouched
 * padding; in particular no batch ever returns more than the capacity or than asked.
 */
#include "ion_ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_records.h"

enum op {
    OP_ENQ,         /* <handle:4> <offset:2> <length:2>: trusted producer, one descriptor */
    OP_DEQ,         /* trusted consumer, one descriptor */
    OP_ENQ_BATCH,   /* <n:2> (n & 1023): descriptors generated from the record index */
    OP_DEQ_BATCH,   /* <max:2> (max & 1023) */
    OP_SET_HEAD,    /* <u32>: peer overwrites head */
    OP_SET_TAIL,    /* <u32>: peer overwrites tail */
    OP_SET_FLAG,    /* <u32>: peer overwrites consumer_sleeping */
    OP_NUDGE_HEAD,  /* <int8>: peer moves head a little (near-valid states) */
    OP_NUDGE_TAIL,  /* <int8> */
    OP_SLEEP,       /* trusted consumer: ion_ring_consumer_sleep_prepare */
    OP_WAKE,        /* trusted producer: ion_ring_producer_should_wake */
    OP_SET_SLOT,    /* <index:1> <8 bytes>: peer rewrites a slot */
    OP_QUERY,       /* count, free_space, corrupt, capacity */
    OP_SET_PAD,     /* <index:1> <byte>: peer scribbles on the padding between the lines */
    OP_REINIT,      /* <u32 capacity>: init/attach with any value; valid small ones re-create */
};
#define NUM_OPS (OP_REINIT + 1)
#define MAX_CAP 256u

/* The trusted ring plus what the model expects of it. */
struct state {
    struct ion_ring r;
    uint8_t *mem;
    uint32_t cap;
    struct ion_desc shadow[MAX_CAP];       /* expected slot contents */
    uint8_t pad[3][ION_CACHE_LINE - 4];    /* expected padding contents */
};

static void create(struct state *st, uint32_t cap) {
    free(st->mem);
    st->mem = malloc(ion_ring_bytes(cap));
    REQUIRE(st->mem);
    memset(st->mem, 0xee, ion_ring_bytes(cap));
    REQUIRE(ion_ring_init(&st->r, st->mem, cap) == 0);
    REQUIRE(ion_ring_capacity(&st->r) == cap);
    st->cap = cap;
    memset(st->shadow, 0, sizeof st->shadow);
    memset(st->pad, 0, sizeof st->pad);
}

static uint32_t head(const struct state *st) { return st->r.shared->head; }
static uint32_t tail(const struct state *st) { return st->r.shared->tail; }
static uint32_t used(const struct state *st) { return head(st) - tail(st); }
static int corrupt(const struct state *st) { return used(st) > st->cap; }

static int desc_eq(const struct ion_desc *a, const struct ion_desc *b) {
    return a->handle == b->handle && a->offset == b->offset && a->length == b->length;
}

/* The slots and padding hold exactly what the model says; nothing else was written. */
static void check_memory(const struct state *st) {
    const struct ion_ring_shared *s = st->r.shared;
    for (uint32_t i = 0; i < st->cap; i++)
        REQUIRE(desc_eq(&s->slots[i], &st->shadow[i]));
    REQUIRE(memcmp(s->pad_head, st->pad[0], sizeof st->pad[0]) == 0);
    REQUIRE(memcmp(s->pad_tail, st->pad[1], sizeof st->pad[1]) == 0);
    REQUIRE(memcmp(s->pad_flag, st->pad[2], sizeof st->pad[2]) == 0);
}

static struct ion_desc gen_desc(uint32_t seed, uint32_t i) {
    struct ion_desc d = {seed * 2654435761u + i, (uint16_t)(seed + i), (uint16_t)(i * 31u)};
    return d;
}

static void op_enqueue(struct state *st, const struct ion_desc *d) {
    uint32_t h0 = head(st), t0 = tail(st), u = used(st);
    int c = corrupt(st);
    int rc = ion_ring_enqueue(&st->r, d);
    REQUIRE(tail(st) == t0);
    if (c) {
        REQUIRE(rc == ION_RING_CORRUPT && head(st) == h0);
    } else if (u == st->cap) {
        REQUIRE(rc == ION_RING_FULL && head(st) == h0);
    } else {
        REQUIRE(rc == ION_RING_OK && head(st) == h0 + 1);
        st->shadow[h0 & (st->cap - 1)] = *d;
    }
}

static void op_dequeue(struct state *st) {
    uint32_t h0 = head(st), t0 = tail(st), u = used(st);
    int c = corrupt(st);
    struct ion_desc *d = malloc(sizeof *d);
    REQUIRE(d);
    int rc = ion_ring_dequeue(&st->r, d);
    REQUIRE(head(st) == h0);
    if (c) {
        REQUIRE(rc == ION_RING_CORRUPT && tail(st) == t0);
    } else if (u == 0) {
        REQUIRE(rc == ION_RING_EMPTY && tail(st) == t0);
    } else {
        REQUIRE(rc == ION_RING_OK && tail(st) == t0 + 1);
        REQUIRE(desc_eq(d, &st->shadow[t0 & (st->cap - 1)]));
    }
    free(d);
}

static void op_enqueue_batch(struct state *st, uint32_t n, uint32_t seed) {
    uint32_t h0 = head(st), t0 = tail(st), u = used(st);
    uint32_t expect = corrupt(st) ? 0 : (st->cap - u < n ? st->cap - u : n);
    struct ion_desc *d = malloc(sizeof *d * (n ? n : 1)); /* exact size: ASan sees overreads */
    REQUIRE(d);
    for (uint32_t i = 0; i < n; i++)
        d[i] = gen_desc(seed, i);
    uint32_t k = ion_ring_enqueue_batch(&st->r, d, n);
    REQUIRE(k == expect && k <= n && k <= st->cap);
    REQUIRE(head(st) == h0 + k && tail(st) == t0);
    for (uint32_t i = 0; i < k; i++)
        st->shadow[(h0 + i) & (st->cap - 1)] = d[i];
    free(d);
}

static void op_dequeue_batch(struct state *st, uint32_t max) {
    uint32_t h0 = head(st), t0 = tail(st), u = used(st);
    uint32_t expect = corrupt(st) ? 0 : (u < max ? u : max);
    struct ion_desc *d = malloc(sizeof *d * (max ? max : 1)); /* exact size: ASan sees overruns */
    REQUIRE(d);
    uint32_t k = ion_ring_dequeue_batch(&st->r, d, max);
    REQUIRE(k == expect && k <= max && k <= st->cap);
    REQUIRE(tail(st) == t0 + k && head(st) == h0);
    for (uint32_t i = 0; i < k; i++)
        REQUIRE(desc_eq(&d[i], &st->shadow[(t0 + i) & (st->cap - 1)]));
    if (k == 0 && max > 0)
        REQUIRE(ion_ring_corrupt(&st->r) == corrupt(st));
    free(d);
}

static void op_query(const struct state *st) {
    int c = corrupt(st);
    REQUIRE(ion_ring_corrupt(&st->r) == c);
    REQUIRE(ion_ring_capacity(&st->r) == st->cap);
    REQUIRE(ion_ring_count(&st->r) == (c ? 0 : used(st)));
    REQUIRE(ion_ring_free_space(&st->r) == (c ? 0 : st->cap - used(st)));
}

static void op_reinit(struct state *st, uint32_t v) {
    int valid = v >= 2 && v <= 0x80000000u && (v & (v - 1)) == 0;
    struct ion_ring tmp;
    uint8_t *small = malloc(16); /* an init that wrongly proceeded would overrun this */
    REQUIRE(small);
    memset(small, 0x3c, 16);
    if (!valid) {
        REQUIRE(ion_ring_init(&tmp, small, v) == -1 && tmp.shared == NULL);
        REQUIRE(ion_ring_attach(&tmp, small, v) == -1 && tmp.shared == NULL);
        for (int i = 0; i < 16; i++)
            REQUIRE(small[i] == 0x3c);
    } else {
        REQUIRE(ion_ring_attach(&tmp, small, v) == 0 && ion_ring_capacity(&tmp) == v);
        for (int i = 0; i < 16; i++)
            REQUIRE(small[i] == 0x3c); /* attach writes nothing */
        if (v <= MAX_CAP)
            create(st, v);
    }
    free(small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size};
    static struct state st; /* reused between runs; create() frees the old memory */
    uint8_t b;
    if (!take(&in, &b, 1))
        return 0;
    create(&st, 2u << (b % 8)); /* 2 .. 256 */

    for (uint32_t rec = 0; take(&in, &b, 1); rec++) {
        struct ion_ring_shared *s = st.r.shared;
        uint32_t u32;
        uint16_t u16;
        int8_t i8;
        uint8_t idx;
        switch (b % NUM_OPS) {
        case OP_ENQ: {
            struct ion_desc d;
            if (!take(&in, &d.handle, 4) || !take(&in, &d.offset, 2) || !take(&in, &d.length, 2))
                goto out;
            op_enqueue(&st, &d);
            break;
        }
        case OP_DEQ:
            op_dequeue(&st);
            break;
        case OP_ENQ_BATCH:
            if (!take(&in, &u16, 2))
                goto out;
            op_enqueue_batch(&st, u16 & 1023u, rec);
            break;
        case OP_DEQ_BATCH:
            if (!take(&in, &u16, 2))
                goto out;
            op_dequeue_batch(&st, u16 & 1023u);
            break;
        case OP_SET_HEAD:
            if (!take(&in, &u32, 4))
                goto out;
            s->head = u32;
            break;
        case OP_SET_TAIL:
            if (!take(&in, &u32, 4))
                goto out;
            s->tail = u32;
            break;
        case OP_SET_FLAG:
            if (!take(&in, &u32, 4))
                goto out;
            s->consumer_sleeping = u32;
            break;
        case OP_NUDGE_HEAD:
            if (!take(&in, &i8, 1))
                goto out;
            s->head += (uint32_t)(int32_t)i8;
            break;
        case OP_NUDGE_TAIL:
            if (!take(&in, &i8, 1))
                goto out;
            s->tail += (uint32_t)(int32_t)i8;
            break;
        case OP_SLEEP: {
            int expect = head(&st) == tail(&st);
            uint32_t h0 = head(&st), t0 = tail(&st);
            REQUIRE(ion_ring_consumer_sleep_prepare(&st.r) == expect);
            REQUIRE(s->consumer_sleeping == (expect ? 1u : 0u));
            REQUIRE(head(&st) == h0 && tail(&st) == t0);
            break;
        }
        case OP_WAKE: {
            int expect = s->consumer_sleeping != 0;
            uint32_t h0 = head(&st), t0 = tail(&st);
            REQUIRE(ion_ring_producer_should_wake(&st.r) == expect);
            REQUIRE(s->consumer_sleeping == 0);
            REQUIRE(head(&st) == h0 && tail(&st) == t0);
            break;
        }
        case OP_SET_SLOT: {
            struct ion_desc d;
            if (!take(&in, &idx, 1) || !take(&in, &d, sizeof d))
                goto out;
            s->slots[idx & (st.cap - 1)] = d; /* the peer can only write its own page */
            st.shadow[idx & (st.cap - 1)] = d;
            break;
        }
        case OP_QUERY:
            op_query(&st);
            break;
        case OP_SET_PAD:
            if (!take(&in, &idx, 1) || !take(&in, &b, 1))
                goto out;
            {
                uint32_t line = idx % 3, off = (uint32_t)(idx / 3) % (ION_CACHE_LINE - 4);
                uint8_t *pad = line == 0 ? s->pad_head : line == 1 ? s->pad_tail : s->pad_flag;
                pad[off] = b;
                st.pad[line][off] = b;
            }
            break;
        case OP_REINIT:
            if (!take(&in, &u32, 4))
                goto out;
            op_reinit(&st, u32);
            break;
        }
        check_memory(&st);
    }
out:
    check_memory(&st);
    return 0;
}
