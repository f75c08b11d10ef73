/* Host tests for the physical page allocator (kernel/pagealloc.c) over a malloc'd arena. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pagealloc.h"

#define ARENA_PAGES 300

static int by_address(const void *a, const void *b) {
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

static uintptr_t arena_start(void **mem) {
    *mem = aligned_alloc(PA_PAGE_SIZE, (ARENA_PAGES + 1) * PA_PAGE_SIZE);
    return (uintptr_t)*mem;
}

static int page_is_zero(uintptr_t page) {
    const unsigned char *b = (const unsigned char *)page;
    for (size_t i = 0; i < PA_PAGE_SIZE; i++)
        if (b[i])
            return 0;
    return 1;
}

static int marked_zero(const struct page_pool *p, size_t i) { return (p->zeroed[i / 64] >> (i % 64)) & 1; }
static int in_use(const struct page_pool *p, size_t i) { return (p->bitmap[i / 64] >> (i % 64)) & 1; }

/* The zeroed bitmap's promise, checked over the whole arena: a marked page is free and all zero,
 * and nzeroed counts the marks. */
static int zeroed_marks_true(const struct page_pool *p) {
    size_t marks = 0;
    for (size_t i = 0; i < p->npages; i++) {
        if (!marked_zero(p, i))
            continue;
        marks++;
        if (in_use(p, i) || !page_is_zero(p->first + i * PA_PAGE_SIZE))
            return 0;
    }
    return marks == p->nzeroed;
}

/* Pages zeroed ahead (pagepool_zero_some): whatever mix of alloc, free, reserve and zeroing
 * runs, every page handed out is zero and the marks never lie. Handed-out pages are scribbled
 * on, as their users would, and freed dirty. */
static void test_zeroed_ahead(uintptr_t start) {
    struct page_pool pool;
    pagepool_init(&pool, start, start + ARENA_PAGES * PA_PAGE_SIZE);
    memset((void *)pool.first, 0x5a, pool.npages * PA_PAGE_SIZE); /* what RAM held at boot */
    CHECK("zeroed_none_at_init", pool.nzeroed == 0 && zeroed_marks_true(&pool));
    CHECK("zero_some_bounded", pagepool_zero_some(&pool, 5) == 5 && pool.nzeroed == 5 && zeroed_marks_true(&pool));
    uintptr_t q = pagepool_alloc(&pool, 1);
    size_t qi = (q - pool.first) / PA_PAGE_SIZE;
    CHECK("single_page_taken_from_zeroed", pool.nzeroed == 4 && !marked_zero(&pool, qi) && page_is_zero(q));
    uintptr_t r = pagepool_alloc(&pool, 3);
    CHECK("run_zeroed_whatever_its_marks", r && page_is_zero(r) && page_is_zero(r + PA_PAGE_SIZE) &&
                                               page_is_zero(r + 2 * PA_PAGE_SIZE) && zeroed_marks_true(&pool));
    memset((void *)q, 0xee, PA_PAGE_SIZE);
    pagepool_free(&pool, q, 1);
    CHECK("freed_page_not_zeroed", !marked_zero(&pool, qi) && zeroed_marks_true(&pool));
    size_t all = 0;
    for (size_t got; (got = pagepool_zero_some(&pool, 7)) != 0;)
        all += got;
    CHECK("zero_some_reaches_every_free_page", pool.nzeroed == pool.nfree && zeroed_marks_true(&pool) && all > 0);
    CHECK("zero_some_done_when_all_zero", pagepool_zero_some(&pool, 10) == 0);
    uintptr_t held = 0;
    for (size_t i = 0; i < pool.npages && !held; i++)
        if (marked_zero(&pool, i))
            held = pool.first + i * PA_PAGE_SIZE;
    CHECK("reserve_unmarks", pagepool_reserve(&pool, held, 1) == 0 && !marked_zero(&pool, (held - pool.first) / PA_PAGE_SIZE) &&
                                 zeroed_marks_true(&pool));

    /* A long mixed run (a fixed LCG, so a failure repeats). */
    static uintptr_t live[ARENA_PAGES];
    static size_t live_n[ARENA_PAGES];
    size_t nlive = 0;
    uint32_t seed = 12345;
    int zero_out = 1, marks = 1;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned what = (seed >> 16) % 10;
        if (what < 5 && nlive < ARENA_PAGES) {
            size_t n = what == 0 ? 1 + (seed >> 8) % 3 : 1;
            uintptr_t a = pagepool_alloc(&pool, n);
            if (!a)
                continue;
            for (size_t k = 0; k < n; k++)
                zero_out &= page_is_zero(a + k * PA_PAGE_SIZE);
            memset((void *)a, 0xc3, n * PA_PAGE_SIZE);
            live[nlive] = a;
            live_n[nlive++] = n;
        } else if (what < 8 && nlive) {
            size_t k = (seed >> 4) % nlive;
            pagepool_free(&pool, live[k], live_n[k]);
            live[k] = live[--nlive];
            live_n[k] = live_n[nlive];
        } else {
            pagepool_zero_some(&pool, (seed >> 6) % 9);
        }
        if (step % 997 == 0)
            marks &= zeroed_marks_true(&pool);
    }
    CHECK("every_page_handed_out_is_zero", zero_out);
    CHECK("zeroed_marks_never_lie", marks && zeroed_marks_true(&pool) && pool.bad_frees == 0);
}

int main(void) {
    check_suite = "pagealloc";
    void *mem;
    uintptr_t start = arena_start(&mem);
    struct page_pool pool;

    CHECK("init_ok", pagepool_init(&pool, start, start + ARENA_PAGES * PA_PAGE_SIZE) == 0);
    CHECK("bitmap_takes_one_page", pool.npages == ARENA_PAGES - 1 && pool.nfree == pool.npages);
    CHECK("first_page_after_bitmap", pool.first == start + PA_PAGE_SIZE);

    uintptr_t p = pagepool_alloc(&pool, 1);
    CHECK("alloc_one", p >= pool.first && p % PA_PAGE_SIZE == 0 && pool.nfree == pool.npages - 1);
    memset((void *)p, 0xab, PA_PAGE_SIZE);
    CHECK("free_one", pagepool_free(&pool, p, 1) == 0 && pool.nfree == pool.npages);
    CHECK("double_free_refused", pagepool_free(&pool, p, 1) == -1 && pool.bad_frees == 1);
    CHECK("nfree_unchanged_after_bad_free", pool.nfree == pool.npages);
    CHECK("unaligned_free_refused", pagepool_free(&pool, pool.first + 8, 1) == -1);
    CHECK("outside_free_refused", pagepool_free(&pool, start, 1) == -1 &&
                                      pagepool_free(&pool, pool.first + pool.npages * PA_PAGE_SIZE, 1) == -1);
    CHECK("overlong_free_refused", pagepool_free(&pool, pool.first, pool.npages + 1) == -1);

    uintptr_t z = pagepool_alloc(&pool, 1);
    int zeroed = 1;
    for (size_t i = 0; i < PA_PAGE_SIZE; i++)
        zeroed &= ((unsigned char *)z)[i] == 0;
    CHECK("pages_come_zeroed", zeroed);
    pagepool_free(&pool, z, 1);

    /* Exhaust the pool one page at a time, then give everything back. */
    static uintptr_t got[ARENA_PAGES];
    size_t n = 0;
    for (uintptr_t a; (a = pagepool_alloc(&pool, 1)) != 0;)
        got[n++] = a;
    CHECK("exhaust_gets_every_page", n == pool.npages && pool.nfree == 0);
    CHECK("alloc_when_empty_fails", pagepool_alloc(&pool, 1) == 0);
    int distinct = 1;
    for (size_t i = 1; i < n; i++)
        distinct &= got[i] != got[i - 1];
    CHECK("pages_distinct", distinct);
    for (size_t i = 0; i < n; i++)
        pagepool_free(&pool, got[i], 1);
    CHECK("free_all_restores_count", pool.nfree == pool.npages);

    /* Contiguous runs, including fragmentation: free every other page, then ask for two. */
    uintptr_t run = pagepool_alloc(&pool, 4);
    CHECK("run_of_four", run != 0 && pool.nfree == pool.npages - 4);
    CHECK("run_free", pagepool_free(&pool, run, 4) == 0);
    n = 0;
    for (uintptr_t a; (a = pagepool_alloc(&pool, 1)) != 0;)
        got[n++] = a;
    qsort(got, n, sizeof got[0], by_address); /* next-fit hands pages out from its cursor */
    for (size_t i = 0; i < n; i += 2)
        pagepool_free(&pool, got[i], 1);
    CHECK("fragmented_run_refused", pagepool_alloc(&pool, 2) == 0);
    pagepool_free(&pool, got[3], 1); /* frees 2,3,4 as a run */
    uintptr_t two = pagepool_alloc(&pool, 2);
    CHECK("run_found_after_merge", two == got[2] || two == got[3]);
    CHECK("partial_run_free_refused_when_not_owned", pagepool_free(&pool, got[0], 2) == -1);

    /* Reserved pages (the initrd at boot) are never handed out until freed. */
    CHECK("reinit_for_reserve", pagepool_init(&pool, start, start + ARENA_PAGES * PA_PAGE_SIZE) == 0);
    uintptr_t held = pool.first + 2 * PA_PAGE_SIZE;
    CHECK("reserve_ok", pagepool_reserve(&pool, held, 3) == 0 && pool.nfree == pool.npages - 3);
    CHECK("reserve_twice_refused", pagepool_reserve(&pool, held + PA_PAGE_SIZE, 1) == -1);
    CHECK("reserve_unaligned_refused", pagepool_reserve(&pool, held + 8 * PA_PAGE_SIZE + 1, 1) == -1);
    CHECK("reserve_outside_refused", pagepool_reserve(&pool, start, 1) == -1 &&
                                         pagepool_reserve(&pool, pool.first, pool.npages + 1) == -1);
    CHECK("reserve_refusals_change_nothing", pool.nfree == pool.npages - 3 && pool.bad_frees == 0);
    int reserved_handed_out = 0;
    for (uintptr_t q; (q = pagepool_alloc(&pool, 1)) != 0;)
        reserved_handed_out |= q >= held && q < held + 3 * PA_PAGE_SIZE;
    CHECK("reserved_never_handed_out", !reserved_handed_out && pool.nfree == 0);
    CHECK("reserved_freed", pagepool_free(&pool, held, 3) == 0 && pool.nfree == 3);

    test_zeroed_ahead(start);

    CHECK("tiny_region_refused", pagepool_init(&pool, start, start + PA_PAGE_SIZE) == -1);
    CHECK("empty_region_refused", pagepool_init(&pool, start + 10, start + 20) == -1);
    free(mem);
    return check_exit();
}
