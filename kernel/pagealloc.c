#include "pagealloc.h"

#include <string.h>

static int bit_get(const struct page_pool *p, size_t i) { return (p->bitmap[i / 64] >> (i % 64)) & 1; }

static void bit_put(struct page_pool *p, size_t i, int v) {
    uint64_t mask = 1ull << (i % 64);
    if (v)
        p->bitmap[i / 64] |= mask;
    else
        p->bitmap[i / 64] &= ~mask;
}

/* Every page the pool hands out is zeroed, ~1,100 of them while the boot starts its services
 * (the packet pool, links, fibers' data and stacks). picolibc's memset stores 16 bytes per loop
 * turn, 16 instructions per 64 bytes; this loop stores 64 in 10. volatile keeps the compiler
 * from turning the loop back into a memset call. */
static void zero_page(uintptr_t addr) {
    volatile uint64_t *w = (volatile uint64_t *)addr;
    for (size_t i = 0; i < PA_PAGE_SIZE / sizeof *w; i += 8) {
        w[i] = 0;
        w[i + 1] = 0;
        w[i + 2] = 0;
        w[i + 3] = 0;
        w[i + 4] = 0;
        w[i + 5] = 0;
        w[i + 6] = 0;
        w[i + 7] = 0;
    }
}

static int is_zeroed(const struct page_pool *p, size_t i) { return (p->zeroed[i / 64] >> (i % 64)) & 1; }

/* Page i leaves the free pages (handed out or reserved): it is no longer counted as zero.
 * 1 if it was. */
static int unmark_zeroed(struct page_pool *p, size_t i) {
    if (!is_zeroed(p, i))
        return 0;
    p->zeroed[i / 64] &= ~(1ull << (i % 64));
    p->nzeroed--;
    return 1;
}

static size_t words(const struct page_pool *p) { return (p->npages + 63) / 64; }

int pagepool_init(struct page_pool *pool, uintptr_t start, uintptr_t end) {
    start = (start + PA_PAGE_SIZE - 1) & ~(PA_PAGE_SIZE - 1);
    end &= ~(PA_PAGE_SIZE - 1);
    if (end <= start)
        return -1;
    size_t total = (end - start) / PA_PAGE_SIZE;
    /* The bitmap covers the pages after it; sizing it for all `total` pages wastes at most one
     * bitmap page and keeps the arithmetic simple. */
    size_t bitmap_bytes = ((total + 63) / 64) * 8;
    size_t bitmap_pages = (2 * bitmap_bytes + PA_PAGE_SIZE - 1) / PA_PAGE_SIZE; /* both bitmaps */
    if (bitmap_pages >= total)
        return -1;
    pool->bitmap = (uint64_t *)start;
    pool->zeroed = (uint64_t *)(start + bitmap_bytes);
    memset(pool->bitmap, 0, bitmap_pages * PA_PAGE_SIZE);
    pool->first = start + bitmap_pages * PA_PAGE_SIZE;
    pool->npages = total - bitmap_pages;
    pool->nfree = pool->npages;
    pool->cursor = 0;
    pool->bad_frees = 0;
    pool->nzeroed = 0; /* what the region holds at boot is not known */
    pool->zero_word = 0;
    return 0;
}

/* A free page already zero, taken; 0 if there is none. */
static uintptr_t take_zeroed(struct page_pool *pool) {
    if (!pool->nzeroed)
        return 0;
    size_t n = words(pool);
    for (size_t k = 0; k < n; k++) {
        size_t w = (pool->zero_word + k) % n;
        if (!pool->zeroed[w])
            continue;
        size_t i = w * 64 + (size_t)__builtin_ctzll(pool->zeroed[w]);
        unmark_zeroed(pool, i);
        bit_put(pool, i, 1);
        pool->nfree--;
        pool->zero_word = w;
        return pool->first + i * PA_PAGE_SIZE;
    }
    return 0;
}

/* Length of the free run starting at i, capped at n. */
static size_t free_run(const struct page_pool *p, size_t i, size_t n) {
    size_t len = 0;
    while (len < n && i + len < p->npages && !bit_get(p, i + len))
        len++;
    return len;
}

uintptr_t pagepool_alloc(struct page_pool *pool, size_t n) {
    if (n == 0 || n > pool->nfree)
        return 0;
    if (n == 1) {
        uintptr_t page = take_zeroed(pool);
        if (page)
            return page;
    }
    size_t scanned = 0, i = pool->cursor;
    while (scanned < pool->npages) {
        if (i + n > pool->npages) { /* a run cannot wrap: restart at 0 */
            scanned += pool->npages - i;
            i = 0;
            continue;
        }
        size_t run = free_run(pool, i, n);
        if (run == n) {
            uintptr_t addr = pool->first + i * PA_PAGE_SIZE;
            for (size_t k = 0; k < n; k++) {
                bit_put(pool, i + k, 1);
                if (!unmark_zeroed(pool, i + k))
                    zero_page(addr + k * PA_PAGE_SIZE);
            }
            pool->nfree -= n;
            pool->cursor = (i + n) % pool->npages;
            return addr;
        }
        scanned += run + 1;
        i += run + 1;
    }
    return 0;
}

int pagepool_free(struct page_pool *pool, uintptr_t addr, size_t n) {
    if (n == 0 || addr < pool->first || (addr - pool->first) % PA_PAGE_SIZE) {
        pool->bad_frees++;
        return -1;
    }
    size_t i = (addr - pool->first) / PA_PAGE_SIZE;
    if (i >= pool->npages || n > pool->npages - i) {
        pool->bad_frees++;
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (!bit_get(pool, i + k)) {
            pool->bad_frees++;
            return -1;
        }
    }
    for (size_t k = 0; k < n; k++)
        bit_put(pool, i + k, 0);
    pool->nfree += n;
    return 0;
}

size_t pagepool_zero_some(struct page_pool *pool, size_t max) {
    size_t done = 0, n = words(pool);
    for (size_t k = 0; k < n && done < max && pool->nzeroed < pool->nfree; k++) {
        size_t w = (pool->zero_word + k) % n;
        /* Free and not known zero; bits past the last page are neither (bitmap says in use). */
        uint64_t dirty = ~pool->bitmap[w] & ~pool->zeroed[w];
        if (w == n - 1 && pool->npages % 64)
            dirty &= (1ull << (pool->npages % 64)) - 1;
        while (dirty && done < max) {
            unsigned b = (unsigned)__builtin_ctzll(dirty);
            dirty &= dirty - 1;
            zero_page(pool->first + (w * 64 + b) * PA_PAGE_SIZE);
            pool->zeroed[w] |= 1ull << b;
            pool->nzeroed++;
            done++;
        }
        if (done == max)
            pool->zero_word = w;
    }
    return done;
}

int pagepool_reserve(struct page_pool *pool, uintptr_t addr, size_t n) {
    if (n == 0 || addr < pool->first || (addr - pool->first) % PA_PAGE_SIZE)
        return -1;
    size_t i = (addr - pool->first) / PA_PAGE_SIZE;
    if (i >= pool->npages || n > pool->npages - i || free_run(pool, i, n) != n)
        return -1;
    for (size_t k = 0; k < n; k++) {
        bit_put(pool, i + k, 1);
        unmark_zeroed(pool, i + k);
    }
    pool->nfree -= n;
    return 0;
}
