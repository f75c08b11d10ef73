/* A user fiber's heap: pages at USER_HEAP_BASE (memlayout.h) mapped on demand, up to what the
 * fiber's manifest entry grants ("heap:N", N KiB; cspace.h). picolibc's malloc grows it through
 * sbrk (lib/rt/heap.c) and SYS_HEAP. The pages are ordinary user pages: they go back to the
 * pool with the address space when the fiber ends. */
#ifndef NEXUS_HEAP_H
#define NEXUS_HEAP_H

#include <stdint.h>

struct fiber;

/* Moves f's break by delta bytes (either way). Returns the previous break, -ENOMEM if the
 * new break would pass the grant or the page pool ran out (nothing changes), -EINVAL below the
 * heap's start. */
long heap_resize(struct fiber *f, int64_t delta);

#endif
