#include "mem.h"

#include "bus.h"
#include "kernel.h"
#include "pagealloc.h"

extern char __kernel_end[];

static struct page_pool pool;

void mem_init(uint64_t ram_base, uint64_t ram_size) {
    if (pagepool_init(&pool, (uintptr_t)__kernel_end, ram_base + ram_size) != 0)
        panic("mem: no room for the page pool (RAM %#lx+%#lx)", ram_base, ram_size);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/page_size", "%lu", PA_PAGE_SIZE);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/pages_total", "%zu", pool.npages);
    mem_publish();
}

void *page_alloc(size_t n) { return (void *)pagepool_alloc(&pool, n); }

void page_free(void *p, size_t n) {
    if (pagepool_free(&pool, (uintptr_t)p, n) != 0)
        panic("mem: bad free of %zu page(s) at %p", n, p);
}

int page_reserve(uint64_t p, size_t n) { return pagepool_reserve(&pool, (uintptr_t)p, n); }

/* Enough zeroed pages for a few services to start back to back (a restarted Membrane takes
 * ~300) without zeroing idle memory the system may never hand out: at most this many are kept
 * zeroed ahead, and every free page when there are fewer. */
#define ZEROED_AHEAD_PAGES 1024
/* Pages zeroed per idle turn: ~40 k instructions, the longest an interrupt waits on it. */
#define ZERO_BATCH_PAGES 32

size_t mem_zero_idle(void) {
    if (pool.nzeroed >= ZEROED_AHEAD_PAGES)
        return 0;
    size_t done = pagepool_zero_some(&pool, ZERO_BATCH_PAGES);
    if (done)
        mem_publish();
    return done;
}

size_t mem_free_pages(void) { return pool.nfree; }
size_t mem_total_pages(void) { return pool.npages; }

void mem_publish(void) {
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/pages_free", "%zu", pool.nfree);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/pages_zeroed", "%zu", pool.nzeroed);
}
