#include "heap.h"

#include <errno.h>

#include "cspace.h"
#include "fiber.h"
#include "mem.h"
#include "memlayout.h"
#include "riscv.h"

_Static_assert((uint64_t)GRANT_HEAP_KIB_MAX * 1024 <= USER_HEAP_TOP - USER_HEAP_BASE,
               "the largest heap grant must fit the heap window");

/* Unmaps the whole pages of [from, to) (page-aligned bounds). */
static void unmap_range(struct fiber *f, uint64_t from, uint64_t to) {
    for (uint64_t va = from; va < to; va += PAGE_SIZE)
        vm_user_unmap_page(f->pt, va);
}

long heap_resize(struct fiber *f, int64_t delta) {
    uint64_t old_break = USER_HEAP_BASE + f->heap_used;
    if (delta < 0 && (uint64_t)-delta > f->heap_used)
        return -EINVAL;
    if (delta > 0 && (uint64_t)delta > f->heap_limit - f->heap_used)
        return -ENOMEM;
    uint64_t new_break = old_break + (uint64_t)delta;
    uint64_t mapped_end = PAGE_ROUND_UP(old_break), wanted_end = PAGE_ROUND_UP(new_break);
    for (uint64_t va = mapped_end; va < wanted_end; va += PAGE_SIZE) {
        if (!vm_user_map_page(f->pt, va, PTE_R | PTE_W)) {
            unmap_range(f, mapped_end, va);
            return -ENOMEM;
        }
    }
    unmap_range(f, wanted_end, mapped_end);
    f->heap_used = new_break - USER_HEAP_BASE;
    mem_publish();
    return (long)old_break;
}
