/*
 * The kernel's page_alloc/page_free (kernel/mem.h) for host tests of code that takes its memory
 * from them (the virtqueue): zeroed, page-aligned heap memory, so AddressSanitizer sees every
 * access past it and LeakSanitizer every page a test forgets.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define HOST_PAGE 4096u

void *page_alloc(size_t n) {
    void *p = aligned_alloc(HOST_PAGE, n * HOST_PAGE);
    if (p)
        memset(p, 0, n * HOST_PAGE);
    return p;
}

void page_free(void *p, size_t n) {
    (void)n;
    free(p);
}
