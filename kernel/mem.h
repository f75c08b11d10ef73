/* The kernel's physical page pool (wraps pagealloc.c over RAM after the kernel image). */
#ifndef NEXUS_MEM_H
#define NEXUS_MEM_H

#include <stddef.h>
#include <stdint.h>

void mem_init(uint64_t ram_base, uint64_t ram_size);
/* n contiguous zeroed pages, or NULL. */
void *page_alloc(size_t n);
void page_free(void *p, size_t n);
/* Keeps the n pages at p out of page_alloc until page_free; 0, or -1 if any is outside the pool
 * (the kernel image, the bitmap, past RAM) or already in use. */
int page_reserve(uint64_t p, size_t n);
/* Zeroes a few free pages ahead of need (pagealloc.h), for the idle loop; how many it zeroed
 * (0: enough are zeroed already, or every free page is). */
size_t mem_zero_idle(void);
size_t mem_free_pages(void);
size_t mem_total_pages(void);
/* Refreshes /Bus/mem/pages_free and pages_zeroed. */
void mem_publish(void);

#endif
