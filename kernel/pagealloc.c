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

int pagepool_init(struct page_pool *pool, uintptr_t start, uintptr_t end) {
    start = (start + PA_PAGE_SIZE - 1) & ~(PA_PAGE_SIZE - 1);
    end &= ~(PA_PAGE_SIZE - 1);
    if (end <= start)
        return -1;
    size_t total = (end - start) / PA_PAGE_SIZE;
    /* The bitmap covers the pages after it; sizing it for all `total` pages wastes at most one
     * bitmap page and keeps the arithmetic simple. */
    size_t bitmap_bytes = ((total + 63) / 64) * 8;
    size_t bitmap_pages = (bitmap_bytes + PA_PAGE_SIZE - 1) / PA_PAGE_SIZE;
    if (bitmap_pages >= total)
        return -1;
    pool->bitmap = (uint64_t *)start;
    memset(pool->bitmap, 0, bitmap_pages * PA_PAGE_SIZE);
    pool->first = start + bitmap_pages * PA_PAGE_SIZE;
    pool->npages = total - bitmap_pages;
    pool->nfree = pool->npages;
    pool->cursor = 0;
    pool->bad_frees = 0;
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
    size_t scanned = 0, i = pool->cursor;
    while (scanned < pool->npages) {
        if (i + n > pool->npages) { /* a run cannot wrap: restart at 0 */
            scanned += pool->npages - i;
            i = 0;
            continue;
        }
        size_t run = free_run(pool, i, n);
        if (run == n) {
            for (size_t k = 0; k < n; k++)
                bit_put(pool, i + k, 1);
            pool->nfree -= n;
            pool->cursor = (i + n) % pool->npages;
            uintptr_t addr = pool->first + i * PA_PAGE_SIZE;
            memset((void *)addr, 0, n * PA_PAGE_SIZE);
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

int pagepool_reserve(struct page_pool *pool, uintptr_t addr, size_t n) {
    if (n == 0 || addr < pool->first || (addr - pool->first) % PA_PAGE_SIZE)
        return -1;
    size_t i = (addr - pool->first) / PA_PAGE_SIZE;
    if (i >= pool->npages || n > pool->npages - i || free_run(pool, i, n) != n)
        return -1;
    for (size_t k = 0; k < n; k++)
        bit_put(pool, i + k, 1);
    pool->nfree -= n;
    return 0;
}
