/*
 * sbrk for picolibc's malloc family. picolibc 1.8's own sbrk (picosbrk.c) hands out a region
 * fixed at link time between __heap_start and __heap_end; a fiber's heap is instead granted by
 * its manifest entry and mapped by the kernel page by page (SYS_HEAP, kernel/heap.h), so this
 * definition takes its place and malloc sees ENOMEM exactly at the grant.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "nexus.h"

void *sbrk(ptrdiff_t increment) {
    long r = nx_heap((long)increment);
    if (r < 0) {
        errno = (int)-r;
        return (void *)-1;
    }
    return (void *)(uintptr_t)r;
}
