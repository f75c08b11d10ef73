#include "mem.h"

#include "bus.h"
#include "kernel.h"
#include "pagealloc.h"

extern char __kernel_start[], __kernel_end[];

static struct page_pool pool;
static uint64_t pool_base; /* the pool's region starts here (mem_pool_base) */

static uint64_t page_up(uint64_t a) { return (a + PA_PAGE_SIZE - 1) & ~(PA_PAGE_SIZE - 1); }

/* Where the pool may start. The kernel is linked 2 MiB into RAM (linker.ld), but OpenSBI keeps
 * only the RAM its PMP protects (512 KiB on QEMU virt) and says so in /reserved-memory: the rest
 * below the kernel, 1.5 MiB, is free RAM (a quarter of an 8 MiB machine). Without that node (or
 * with more ranges than the boot kept) nothing says what the firmware holds, and the pool starts
 * after the kernel as before. */
static uint64_t pool_start(const struct boot_info *boot) {
    uint64_t kernel = (uint64_t)__kernel_start, start = boot->mem.base;
    if (boot->nreserved == 0 || boot->reserved_overflow)
        return (uint64_t)__kernel_end;
    for (int i = 0; i < boot->nreserved; i++) {
        const struct fdt_range *r = &boot->reserved[i];
        if (r->base < kernel && r->base + r->size > start)
            start = page_up(r->base + r->size);
    }
    return start < kernel ? start : (uint64_t)__kernel_end;
}

void mem_init(const struct boot_info *boot) {
    uint64_t ram_base = boot->mem.base, ram_size = boot->mem.size, start = pool_start(boot);
    if (pagepool_init(&pool, (uintptr_t)start, ram_base + ram_size) != 0)
        panic("mem: no room for the page pool (RAM %#lx+%#lx)", ram_base, ram_size);
    /* Inside the pool but never handed out: the kernel image, and firmware ranges above the
     * pool's start. */
    if (start < (uint64_t)__kernel_start &&
        pagepool_reserve(&pool, (uintptr_t)__kernel_start, (size_t)(__kernel_end - __kernel_start) / PA_PAGE_SIZE) != 0)
        panic("mem: cannot keep the kernel image out of the page pool");
    for (int i = 0; i < boot->nreserved; i++) {
        const struct fdt_range *r = &boot->reserved[i];
        uint64_t first = r->base & ~(PA_PAGE_SIZE - 1), end = page_up(r->base + r->size);
        for (uint64_t p = first < start ? start : first; p < end; p += PA_PAGE_SIZE)
            pagepool_reserve(&pool, (uintptr_t)p, 1); /* pages outside the pool or already kept: nothing to do */
    }
    pool_base = start;
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/pool_start", "%#lx", start);
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

uint64_t mem_pool_base(void) { return pool_base; }
size_t mem_free_pages(void) { return pool.nfree; }
size_t mem_total_pages(void) { return pool.npages; }

void mem_publish(void) {
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/pages_free", "%zu", pool.nfree);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/pages_zeroed", "%zu", pool.nzeroed);
}
