/*
 * Physical page allocator: a bitmap over one contiguous region of 4 KiB pages, one bit a page
 * (1 = in use), with a next-fit cursor. It can hand out runs of contiguous pages (kernel stacks)
 * and refuses, and counts, frees of pages it never handed out. Portable C: the host tests drive
 * it over a malloc'd arena.
 *
 * Every page it hands out is zero. Zeroing them as they go out was most of a service's spawn
 * (a restarted Membrane takes ~300 pages, 1.1 MB of them bss: ~0.35 M instructions), so a
 * second bitmap marks free pages already known to be zero: pagepool_zero_some zeroes free
 * pages when the system has nothing else to do, a single page is taken from those first, and
 * only a page not so marked is zeroed on the way out. A page is marked only by
 * pagepool_zero_some, right after it zeroed it, and unmarked when it is handed out or reserved;
 * nothing may write a free page (a freed page is not zero until zeroed again).
 */
#ifndef NEXUS_PAGEALLOC_H
#define NEXUS_PAGEALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PA_PAGE_SIZE 4096ul

struct page_pool {
    uintptr_t first;     /* address of page 0 (page aligned) */
    size_t npages;       /* pages managed */
    size_t nfree;        /* pages currently free */
    size_t cursor;       /* next-fit start */
    size_t bad_frees;    /* frees refused: unaligned, outside, or already free */
    uint64_t *bitmap;    /* npages bits, stored in the region's first pages */
    uint64_t *zeroed;    /* npages bits, after bitmap: 1 = free and known to be zero */
    size_t nzeroed;      /* bits set in zeroed */
    size_t zero_word;    /* where the search for a zeroed page, and for one to zero, starts */
};

/* Takes [start, end) and keeps its first pages for the bitmap. Returns 0, or -1 if the region
 * cannot hold the bitmap and one page. */
int pagepool_init(struct page_pool *pool, uintptr_t start, uintptr_t end);

/* n contiguous zeroed pages, or 0 when no run of n is free. */
uintptr_t pagepool_alloc(struct page_pool *pool, size_t n);

/* Returns 0, or -1 (counted in bad_frees, pool unchanged) if any of the n pages at addr was not
 * handed out. */
int pagepool_free(struct page_pool *pool, uintptr_t addr, size_t n);

/* Zeroes up to max free pages not yet known to be zero and marks them; returns how many (0:
 * every free page is known zero, or max was 0). */
size_t pagepool_zero_some(struct page_pool *pool, size_t max);

/* Marks the n pages at addr in use without handing them out, for memory that holds something
 * at boot (the initrd); pagepool_free returns them later. 0, or -1 (pool unchanged) if any of
 * them is unaligned, outside the pool or already in use. */
int pagepool_reserve(struct page_pool *pool, uintptr_t addr, size_t n);

#endif
