/*
 * Host unit tests for ion/ion_ring.h: empty/full, single and batch calls (partial batches too),
 * FIFO order, 32-bit counter wraparound, capacity limits, attach, corruption by a hostile peer
 * and the wake (signal suppression) protocol. Every ring's shared memory is malloc'd at exactly
 * ion_ring_bytes(capacity) so AddressSanitizer catches any access past the slot array.
 */
#include "ion_ring.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* A ring whose shared memory is exactly as big as it must be. */
struct test_ring {
    struct ion_ring r;
    void *mem;
};

static struct test_ring make_ring(uint32_t cap) {
    struct test_ring t;
    t.mem = malloc(ion_ring_bytes(cap));
    memset(t.mem, 0xa5, ion_ring_bytes(cap)); /* init must clear it */
    if (ion_ring_init(&t.r, t.mem, cap) != 0)
        abort();
    return t;
}

static struct ion_desc desc(uint32_t i) {
    struct ion_desc d = {i, (uint16_t)(i * 3u), (uint16_t)(i * 7u + 1u)};
    return d;
}

static int desc_eq(struct ion_desc a, struct ion_desc b) {
    return a.handle == b.handle && a.offset == b.offset && a.length == b.length;
}

static void test_layout_and_init(void) {
    CHECK("desc_is_8_bytes", sizeof(struct ion_desc) == 8);
    CHECK("bytes_formula", ion_ring_bytes(256) == 192 + 256 * 8 && ION_RING_BYTES(4) == 224);
    CHECK("cap256_fits_page", ion_ring_bytes(256) <= 4096);
    CHECK("head_tail_flag_separate_lines",
          offsetof(struct ion_ring_shared, head) / 64 != offsetof(struct ion_ring_shared, tail) / 64 &&
              offsetof(struct ion_ring_shared, tail) / 64 !=
                  offsetof(struct ion_ring_shared, consumer_sleeping) / 64);

    struct ion_ring r;
    static uint8_t mem[ION_RING_BYTES(1024)];
    static const uint32_t bad[] = {0, 1, 3, 6, 100, 255, 257, 0x80000001u, 0xffffffffu};
    int all_rejected = 1, cleared = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r.shared = (struct ion_ring_shared *)mem;
        r.mask = 77;
        if (ion_ring_init(&r, mem, bad[i]) != -1 || ion_ring_attach(&r, mem, bad[i]) != -1)
            all_rejected = 0;
        if (r.shared != NULL || r.mask != 0)
            cleared = 0;
    }
    CHECK("init_attach_reject_non_power_of_two", all_rejected);
    CHECK("rejected_handle_cleared", cleared);
    CHECK("init_rejects_null_mem", ion_ring_init(&r, NULL, 8) == -1);
    CHECK("init_accepts_2_and_1024",
          ion_ring_init(&r, mem, 2) == 0 && ion_ring_capacity(&r) == 2 &&
              ion_ring_init(&r, mem, 1024) == 0 && ion_ring_capacity(&r) == 1024);

    struct test_ring t = make_ring(8);
    const uint8_t *b = t.mem;
    int zero = 1;
    for (size_t i = 0; i < ion_ring_bytes(8); i++)
        zero &= b[i] == 0;
    CHECK("init_zeroes_shared", zero);
    free(t.mem);
}

static void test_empty_full_single(void) {
    struct test_ring t = make_ring(8);
    struct ion_ring *r = &t.r;
    struct ion_desc d;

    CHECK("new_ring_empty", ion_ring_count(r) == 0 && ion_ring_free_space(r) == 8);
    CHECK("dequeue_empty_returns_-1", ion_ring_dequeue(r, &d) == ION_RING_EMPTY && ION_RING_EMPTY == -1);
    CHECK("empty_not_corrupt", !ion_ring_corrupt(r));

    int ok = 1;
    for (uint32_t i = 0; i < 8; i++) {
        struct ion_desc in = desc(i);
        ok &= ion_ring_enqueue(r, &in) == 0;
        ok &= ion_ring_count(r) == i + 1 && ion_ring_free_space(r) == 7 - i;
    }
    CHECK("fill_to_capacity", ok);
    struct ion_desc extra = desc(99);
    CHECK("enqueue_full_returns_-1", ion_ring_enqueue(r, &extra) == ION_RING_FULL && ION_RING_FULL == -1);
    CHECK("full_not_corrupt", !ion_ring_corrupt(r));
    CHECK("head_stored_unmasked", t.r.shared->head == 8 && t.r.shared->tail == 0);

    ok = 1;
    for (uint32_t i = 0; i < 8; i++)
        ok &= ion_ring_dequeue(r, &d) == 0 && desc_eq(d, desc(i));
    CHECK("drain_in_order", ok);
    CHECK("empty_again", ion_ring_dequeue(r, &d) == -1 && ion_ring_count(r) == 0);

    /* Interleaved: many laps around an 8-slot array. */
    ok = 1;
    uint32_t next_in = 0, next_out = 0;
    for (int step = 0; step < 1000; step++) {
        int n_in = step % 5, n_out = (step * 7) % 4;
        for (int i = 0; i < n_in; i++) {
            struct ion_desc in = desc(next_in);
            if (ion_ring_enqueue(r, &in) == 0)
                next_in++;
        }
        for (int i = 0; i < n_out; i++) {
            if (ion_ring_dequeue(r, &d) == 0)
                ok &= desc_eq(d, desc(next_out++));
        }
        ok &= ion_ring_count(r) == next_in - next_out;
    }
    CHECK("interleaved_order_preserved", ok && next_out > 500);
    free(t.mem);
}

static void test_batches(void) {
    struct test_ring t = make_ring(16);
    struct ion_ring *r = &t.r;
    struct ion_desc in[40], out[40];
    for (uint32_t i = 0; i < 40; i++)
        in[i] = desc(1000 + i);

    CHECK("batch_dequeue_empty_0", ion_ring_dequeue_batch(r, out, 10) == 0 && !ion_ring_corrupt(r));
    CHECK("batch_enqueue_0_items", ion_ring_enqueue_batch(r, in, 0) == 0 && t.r.shared->head == 0);
    CHECK("batch_enqueue_10", ion_ring_enqueue_batch(r, in, 10) == 10 && ion_ring_count(r) == 10);
    CHECK("batch_enqueue_partial_at_full", ion_ring_enqueue_batch(r, in + 10, 10) == 6 &&
                                               ion_ring_count(r) == 16);
    CHECK("batch_enqueue_when_full_0", ion_ring_enqueue_batch(r, in + 16, 5) == 0 && !ion_ring_corrupt(r));
    CHECK("batch_dequeue_max_0", ion_ring_dequeue_batch(r, out, 0) == 0 && ion_ring_count(r) == 16);

    CHECK("batch_dequeue_4", ion_ring_dequeue_batch(r, out, 4) == 4);
    int ok = 1;
    for (int i = 0; i < 4; i++)
        ok &= desc_eq(out[i], in[i]);
    CHECK("batch_dequeue_4_order", ok);

    /* The free slots are now at the start of the array: the next batch wraps. */
    CHECK("batch_enqueue_wraps_array", ion_ring_enqueue_batch(r, in + 16, 8) == 4);
    memset(out, 0, sizeof out);
    CHECK("batch_dequeue_partial_at_empty", ion_ring_dequeue_batch(r, out, 40) == 16);
    ok = 1;
    for (int i = 0; i < 16; i++)
        ok &= desc_eq(out[i], in[4 + i]);
    CHECK("batch_order_across_array_end", ok);
    CHECK("batch_never_writes_past_n", out[16].handle == 0 && out[17].length == 0);
    CHECK("batch_empty_after", ion_ring_count(r) == 0 && ion_ring_free_space(r) == 16);

    /* Mixed single and batch calls keep one sequence. */
    struct ion_desc d;
    ok = ion_ring_enqueue(r, &in[0]) == 0 && ion_ring_enqueue_batch(r, in + 1, 3) == 3 &&
         ion_ring_enqueue(r, &in[4]) == 0;
    ok &= ion_ring_dequeue_batch(r, out, 2) == 2 && ion_ring_dequeue(r, &d) == 0 &&
          ion_ring_dequeue_batch(r, out + 2, 8) == 2;
    ok &= desc_eq(out[0], in[0]) && desc_eq(out[1], in[1]) && desc_eq(d, in[2]) &&
          desc_eq(out[2], in[3]) && desc_eq(out[3], in[4]);
    CHECK("mixed_single_batch_order", ok);
    free(t.mem);
}

/* Puts both counters at `start` (as if the ring had already carried that many descriptors). */
static void set_counters(struct ion_ring *r, uint32_t head, uint32_t tail) {
    r->shared->head = head;
    r->shared->tail = tail;
}

static void test_wraparound(void) {
    struct test_ring t = make_ring(8);
    struct ion_ring *r = &t.r;
    struct ion_desc d, out[8];

    set_counters(r, UINT32_MAX - 3, UINT32_MAX - 3);
    CHECK("wrap_start_empty", ion_ring_count(r) == 0 && ion_ring_dequeue(r, &d) == -1);
    int ok = 1;
    for (uint32_t i = 0; i < 8; i++) {
        struct ion_desc in = desc(i);
        ok &= ion_ring_enqueue(r, &in) == 0;
    }
    CHECK("wrap_fill_across_2pow32", ok && t.r.shared->head == 4 && ion_ring_count(r) == 8);
    struct ion_desc x = desc(50);
    CHECK("wrap_full_detected", ion_ring_enqueue(r, &x) == -1 && !ion_ring_corrupt(r));
    ok = 1;
    for (uint32_t i = 0; i < 8; i++)
        ok &= ion_ring_dequeue(r, &d) == 0 && desc_eq(d, desc(i));
    CHECK("wrap_drain_order", ok && t.r.shared->tail == 4 && ion_ring_count(r) == 0);

    /* Many laps straddling the wrap with batches. */
    set_counters(r, UINT32_MAX - 100, UINT32_MAX - 100);
    uint32_t next_in = 0, next_out = 0;
    ok = 1;
    for (int step = 0; step < 100; step++) {
        struct ion_desc in[5];
        for (uint32_t i = 0; i < 5; i++)
            in[i] = desc(next_in + i);
        next_in += ion_ring_enqueue_batch(r, in, 5);
        uint32_t got = ion_ring_dequeue_batch(r, out, 3);
        for (uint32_t i = 0; i < got; i++)
            ok &= desc_eq(out[i], desc(next_out++));
        ok &= ion_ring_count(r) == next_in - next_out && !ion_ring_corrupt(r);
    }
    CHECK("wrap_batches_order", ok && next_out > 250);
    CHECK("wrap_counters_passed_zero", t.r.shared->head < 1000);
    free(t.mem);
}

static void test_capacities(void) {
    struct test_ring t = make_ring(2);
    struct ion_ring *r = &t.r;
    struct ion_desc a = desc(1), b = desc(2), c = desc(3), d, out[4];
    CHECK("cap2_holds_two", ion_ring_enqueue(r, &a) == 0 && ion_ring_enqueue(r, &b) == 0 &&
                                ion_ring_enqueue(r, &c) == -1);
    CHECK("cap2_fifo", ion_ring_dequeue(r, &d) == 0 && desc_eq(d, a) && ion_ring_enqueue(r, &c) == 0 &&
                           ion_ring_dequeue_batch(r, out, 4) == 2 && desc_eq(out[0], b) &&
                           desc_eq(out[1], c));
    set_counters(r, UINT32_MAX, UINT32_MAX);
    CHECK("cap2_wrap", ion_ring_enqueue(r, &a) == 0 && ion_ring_enqueue(r, &b) == 0 &&
                           ion_ring_enqueue(r, &c) == -1 && ion_ring_dequeue(r, &d) == 0 &&
                           desc_eq(d, a) && ion_ring_dequeue(r, &d) == 0 && desc_eq(d, b));
    free(t.mem);

    const uint32_t big = 1u << 16;
    t = make_ring(big);
    r = &t.r;
    struct ion_desc *in = malloc(sizeof *in * (big + 10));
    struct ion_desc *o = malloc(sizeof *o * (big + 10));
    for (uint32_t i = 0; i < big + 10; i++)
        in[i] = desc(i);
    CHECK("big_fill_partial", ion_ring_enqueue_batch(r, in, big + 10) == big &&
                                  ion_ring_count(r) == big && ion_ring_free_space(r) == 0);
    CHECK("big_full", ion_ring_enqueue(r, &in[0]) == -1);
    uint32_t got = ion_ring_dequeue_batch(r, o, big + 10);
    int ok = got == big;
    for (uint32_t i = 0; i < got; i++)
        ok &= desc_eq(o[i], in[i]);
    CHECK("big_drain_order", ok && ion_ring_count(r) == 0);
    free(in);
    free(o);
    free(t.mem);
}

static void test_attach(void) {
    struct test_ring t = make_ring(32);
    struct ion_ring prod = t.r, cons;
    struct ion_desc in[5], out[5];
    for (uint32_t i = 0; i < 5; i++)
        in[i] = desc(500 + i);
    ion_ring_enqueue_batch(&prod, in, 5);

    uint8_t *snap = malloc(ion_ring_bytes(32));
    memcpy(snap, t.mem, ion_ring_bytes(32));
    CHECK("attach_ok", ion_ring_attach(&cons, t.mem, 32) == 0 && ion_ring_capacity(&cons) == 32);
    CHECK("attach_writes_nothing", memcmp(snap, t.mem, ion_ring_bytes(32)) == 0);
    CHECK("attach_sees_count", ion_ring_count(&cons) == 5);
    int ok = ion_ring_dequeue_batch(&cons, out, 5) == 5;
    for (int i = 0; i < 5; i++)
        ok &= desc_eq(out[i], in[i]);
    CHECK("attach_sees_contents", ok);
    CHECK("producer_sees_consumer_progress", ion_ring_free_space(&prod) == 32);

    /* The peer shrinking its idea of the capacity changes nothing for us: capacity is local. */
    struct ion_ring small;
    ion_ring_attach(&small, t.mem, 4);
    CHECK("capacity_is_local", ion_ring_capacity(&small) == 4 && ion_ring_capacity(&prod) == 32);

    struct ion_ring_pair pair = {prod, cons};
    CHECK("pair_holds_both", pair.active.shared == pair.free.shared && pair.free.mask == 31);
    free(snap);
    free(t.mem);
}

static void test_corruption(void) {
    const uint32_t cap = 8;
    struct test_ring t = make_ring(cap);
    struct ion_ring *r = &t.r;
    struct ion_desc d = desc(1), out[64];
    struct ion_desc in[64];
    for (int i = 0; i < 64; i++)
        in[i] = desc(i);

    /* Exactly capacity in flight is full, not corrupt. */
    set_counters(r, 1000 + cap, 1000);
    CHECK("count_eq_cap_not_corrupt", !ion_ring_corrupt(r) && ion_ring_count(r) == cap);
    CHECK("count_eq_cap_dequeue_ok", ion_ring_dequeue_batch(r, out, 64) == cap);

    set_counters(r, 1000 + cap + 1, 1000);
    CHECK("cap_plus_1_corrupt", ion_ring_corrupt(r));

    set_counters(r, 1000 + cap + 5, 1000);
    CHECK("head_far_ahead_dequeue_-2", ion_ring_dequeue(r, &d) == ION_RING_CORRUPT && ION_RING_CORRUPT == -2);
    CHECK("head_far_ahead_enqueue_-2", ion_ring_enqueue(r, &d) == -2);
    CHECK("head_far_ahead_batch_deq_0", ion_ring_dequeue_batch(r, out, 64) == 0 && ion_ring_corrupt(r));
    CHECK("head_far_ahead_batch_enq_0", ion_ring_enqueue_batch(r, in, 64) == 0);
    CHECK("head_far_ahead_counts_0", ion_ring_count(r) == 0 && ion_ring_free_space(r) == 0);
    CHECK("corrupt_counters_untouched", r->shared->head == 1000 + cap + 5 && r->shared->tail == 1000);
    CHECK("corrupt_prepare_does_not_sleep", ion_ring_consumer_sleep_prepare(r) == 0 &&
                                                r->shared->consumer_sleeping == 0);

    set_counters(r, 1000, 1001); /* tail beyond head */
    CHECK("tail_beyond_head_corrupt", ion_ring_corrupt(r) && ion_ring_dequeue(r, &d) == -2 &&
                                          ion_ring_enqueue(r, &d) == -2);
    CHECK("tail_beyond_head_batches_0", ion_ring_dequeue_batch(r, out, 64) == 0 &&
                                            ion_ring_enqueue_batch(r, in, 64) == 0);

    /* Huge counters in range: indexing stays masked (ASan would catch an overrun). */
    set_counters(r, 0xfffffff0u + cap, 0xfffffff0u);
    CHECK("huge_counters_masked", ion_ring_dequeue_batch(r, out, 64) == cap);
    set_counters(r, 0x7fffffffu, 0x7fffffffu);
    CHECK("huge_counters_enqueue_masked", ion_ring_enqueue_batch(r, in, 64) == cap &&
                                              ion_ring_dequeue_batch(r, out, 64) == cap &&
                                              desc_eq(out[7], in[7]));

    /* A peer rewriting the slots only changes the values we get, never where we read. */
    set_counters(r, 5, 0);
    memset(r->shared->slots, 0xff, cap * sizeof(struct ion_desc));
    CHECK("garbage_slots_read_in_bounds", ion_ring_dequeue_batch(r, out, 64) == 5 &&
                                              out[4].handle == 0xffffffffu);

    /* Recovery is re-initialisation. */
    CHECK("reinit_recovers", ion_ring_init(r, t.mem, cap) == 0 && !ion_ring_corrupt(r) &&
                                 ion_ring_enqueue(r, &d) == 0);
    free(t.mem);
}

static void test_wake(void) {
    struct test_ring t = make_ring(4);
    struct ion_ring *r = &t.r;
    struct ion_desc d = desc(9), out[4];

    CHECK("fresh_flag_clear", r->shared->consumer_sleeping == 0);
    CHECK("should_wake_without_sleeper_0", ion_ring_producer_should_wake(r) == 0);
    CHECK("prepare_on_empty_1", ion_ring_consumer_sleep_prepare(r) == 1 &&
                                    r->shared->consumer_sleeping == 1);
    CHECK("enqueue_then_should_wake_1", ion_ring_enqueue(r, &d) == 0 &&
                                            ion_ring_producer_should_wake(r) == 1);
    CHECK("should_wake_clears_flag", r->shared->consumer_sleeping == 0);
    CHECK("second_should_wake_0", ion_ring_enqueue(r, &d) == 0 && ion_ring_producer_should_wake(r) == 0);

    CHECK("prepare_nonempty_0", ion_ring_consumer_sleep_prepare(r) == 0);
    CHECK("prepare_nonempty_clears_flag", r->shared->consumer_sleeping == 0);
    CHECK("no_wake_after_refused_sleep", ion_ring_enqueue(r, &d) == 0 &&
                                             ion_ring_producer_should_wake(r) == 0);

    ion_ring_dequeue_batch(r, out, 4);
    CHECK("prepare_after_drain_1", ion_ring_consumer_sleep_prepare(r) == 1);
    CHECK("prepare_twice_still_1", ion_ring_consumer_sleep_prepare(r) == 1);
    CHECK("one_wake_for_a_batch", ion_ring_enqueue_batch(r, out, 3) == 3 &&
                                      ion_ring_producer_should_wake(r) == 1 &&
                                      ion_ring_producer_should_wake(r) == 0);
    /* Any nonzero flag value from the peer counts as "sleeping". */
    r->shared->consumer_sleeping = 0xdeadbeef;
    CHECK("any_nonzero_flag_wakes", ion_ring_producer_should_wake(r) == 1 &&
                                        r->shared->consumer_sleeping == 0);
    free(t.mem);
}

int main(void) {
    check_suite = "ion_ring";
    test_layout_and_init();
    test_empty_full_single();
    test_batches();
    test_wraparound();
    test_capacities();
    test_attach();
    test_corruption();
    test_wake();
    return check_exit();
}
