/* The kernel's physical page pool (wraps pagealloc.c over RAM: after the kernel image, and
 * below it too where the device tree says the firmware keeps none of it). */
#ifndef NEXUS_MEM_H
#define NEXUS_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "fdt.h"

void mem_init(const struct boot_info *boot);
/* n contiguous zeroed pages, or NULL. */
void *page_alloc(size_t n);
void page_free(void *p, size_t n);
/* Keeps the n pages at p out of page_alloc until page_free; 0, or -1 if any is outside the pool
 * (firmware RAM, past RAM) or already in use (the kernel image, the bitmap). */
int page_reserve(uint64_t p, size_t n);
/* Zeroes a few free pages ahead of need (pagealloc.h), for the idle loop; how many it zeroed
 * (0: enough are zeroed already, or every free page is). */
size_t mem_zero_idle(void);
/* Where the pool's RAM starts: below the kernel image when the firmware leaves RAM there. */
uint64_t mem_pool_base(void);
size_t mem_free_pages(void);
size_t mem_total_pages(void);
/* Refreshes /Bus/mem/pages_free and pages_zeroed. */
void mem_publish(void);

#endif
