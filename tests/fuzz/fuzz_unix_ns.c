/*
 * libFuzzer target for the kernel's AF_UNIX namespace and connections (kernel/unix.c), driven
 * as four fibers would drive it through the syscalls: any order of bind, listen, connect,
 * accept, close and doorbell with any arguments, fibers dying (and coming back under a new id)
 * at any time, and apps scribbling on the connection pages they hold. The kernel's helpers are
 * faked here: page_alloc counts what is live, the user mappings are a table per fiber, and
 * channel_signal checks its channel. Input: records <op> <fiber> <arguments>.
 *
 * What must hold: an end handed out is mapped, all its pages, at a slot inside the AF_UNIX
 * window and nowhere else the fiber has something; a closed end is unmapped; no fiber ever
 * holds more than UNIX_FIBER_CONNS ends; only the doorbells are signalled; and when every
 * fiber is gone, every page has come back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fiber.h"
#include "fuzz_records.h"
#include "mem.h"
#include "memlayout.h"
#include "unix.h"
#include "vm.h"

#define FIBERS 4
#define WINDOW_PAGES ((long)(UNIX_FIBER_CONNS * UNIX_CONN_SPAN / NEXUS_PAGE_SIZE))

static struct fiber fibers[FIBERS];
static uint8_t mapped[FIBERS][WINDOW_PAGES];
static uint64_t mapped_pa[FIBERS][WINDOW_PAGES]; /* the page behind it, for scribbling */
static long live_pages;
static uint32_t next_id;

/* ---- the kernel's helpers, faked ---- */

void *page_alloc(size_t n) {
    REQUIRE(n == NEXUS_UNIX_CONN_PAGES);
    void *p = aligned_alloc(NEXUS_PAGE_SIZE, n * NEXUS_PAGE_SIZE);
    if (p) {
        memset(p, 0, n * NEXUS_PAGE_SIZE);
        live_pages += (long)n;
    }
    return p;
}

void page_free(void *p, size_t n) {
    REQUIRE(n == NEXUS_UNIX_CONN_PAGES && p);
    live_pages -= (long)n;
    free(p);
}

static int fiber_of(pagetable_t pt) {
    for (int i = 0; i < FIBERS; i++)
        if (fibers[i].pt == pt)
            return i;
    abort();
}

static long window_page(uint64_t va) {
    REQUIRE(va >= UNIX_CONN_VA && va < UNIX_CONN_VA + UNIX_FIBER_CONNS * UNIX_CONN_SPAN);
    return (long)((va - UNIX_CONN_VA) / NEXUS_PAGE_SIZE);
}

int vm_user_map_shared(pagetable_t pt, uint64_t va, uint64_t pa, uint64_t pages, uint64_t perm) {
    (void)perm;
    int i = fiber_of(pt);
    for (uint64_t k = 0; k < pages; k++) {
        long p = window_page(va + k * NEXUS_PAGE_SIZE);
        REQUIRE(!mapped[i][p]); /* never over something the fiber has */
        mapped[i][p] = 1;
        mapped_pa[i][p] = pa + k * NEXUS_PAGE_SIZE;
    }
    return 0;
}

void vm_user_unmap_page(pagetable_t pt, uint64_t va) { mapped[fiber_of(pt)][window_page(va)] = 0; }

int channel_signal(int ch) {
    REQUIRE(ch >= (int)NEXUS_UNIX_CHANNEL(0) && ch < (int)NEXUS_UNIX_CHANNEL(NEXUS_UNIX_CHANNELS));
    return 0;
}

/* ---- the fibers ---- */

static void start(int i) {
    memset(&fibers[i], 0, sizeof fibers[i]);
    fibers[i].id = ++next_id;
    fibers[i].pt = (pagetable_t)(uintptr_t)(0x1000 * (i + 1)); /* a name, never dereferenced */
    memset(mapped[i], 0, sizeof mapped[i]);
}

static void die(int i) {
    unix_fiber_gone(&fibers[i]);
    start(i); /* its address space goes with it; a new fiber takes the slot */
}

static unsigned ends_mapped(int i) {
    unsigned pages = 0;
    for (long p = 0; p < WINDOW_PAGES; p++)
        pages += mapped[i][p];
    REQUIRE(pages % NEXUS_UNIX_CONN_PAGES == 0);
    return pages / NEXUS_UNIX_CONN_PAGES;
}

/* An end just handed out: all its pages mapped in the fiber, where the kernel says. */
static void check_end(int i, long r, const struct nexus_unix_conn *c) {
    if (r < 0)
        return;
    long first = window_page(c->va);
    REQUIRE(first % (long)(UNIX_CONN_SPAN / NEXUS_PAGE_SIZE) == 0 && c->end <= 1);
    for (long p = 0; p < NEXUS_UNIX_CONN_PAGES; p++)
        REQUIRE(mapped[i][first + p]);
    REQUIRE(c->doorbell >= NEXUS_UNIX_CHANNEL(0) && c->doorbell < NEXUS_UNIX_CHANNEL(NEXUS_UNIX_CHANNELS));
}

static const char *const paths[] = {"/run/a", "/run/b", "/tmp/c.sock", "/x"};

enum op { OP_BIND, OP_LISTEN, OP_CONNECT, OP_ACCEPT, OP_CLOSE, OP_DIE, OP_DOORBELL, OP_SCRIBBLE };
#define NUM_OPS (OP_SCRIBBLE + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size};
    for (int i = 0; i < FIBERS; i++)
        start(i);
    uint8_t op, who;
    while (take(&in, &op, 1) && take(&in, &who, 1)) {
        int i = who % FIBERS;
        struct fiber *f = &fibers[i];
        uint8_t a = 0, b = 0;
        int8_t id = 0;
        struct nexus_unix_conn c;
        long r;
        switch (op % NUM_OPS) {
        case OP_BIND:
            take(&in, &a, 1), take(&in, &b, 1);
            unix_bind(f, paths[a % 4], b % 4); /* type 0 and 3 are refused */
            break;
        case OP_LISTEN:
            take(&in, &id, 1), take(&in, &b, 1);
            unix_listen(f, id, b);
            break;
        case OP_CONNECT:
            take(&in, &a, 1), take(&in, &b, 1), take(&in, &id, 1);
            r = unix_connect(f, paths[a % 4], b % 4, id < 0 ? -1 : id, &c);
            check_end(i, r, &c);
            break;
        case OP_ACCEPT:
            take(&in, &id, 1);
            r = unix_accept(f, id, &c);
            check_end(i, r, &c);
            break;
        case OP_CLOSE: {
            take(&in, &a, 1), take(&in, &id, 1);
            unsigned before = ends_mapped(i);
            r = unix_close(f, a % 3, id); /* kind 2 is refused */
            REQUIRE(ends_mapped(i) == before - (r == 0 && a % 3 == NEXUS_UNIX_CONN));
            break;
        }
        case OP_DIE: die(i); break;
        case OP_DOORBELL: unix_doorbell(f); break;
        case OP_SCRIBBLE: { /* the app writes anything into a page it holds: the kernel must not care */
            uint16_t page = 0, at = 0;
            take(&in, &page, 2), take(&in, &at, 2), take(&in, &a, 1);
            if (mapped[i][page % WINDOW_PAGES])
                ((uint8_t *)(uintptr_t)mapped_pa[i][page % WINDOW_PAGES])[at % NEXUS_PAGE_SIZE] = a;
            break;
        }
        }
        REQUIRE(ends_mapped(i) <= UNIX_FIBER_CONNS);
        REQUIRE(live_pages >= 0 && live_pages <= 16 * NEXUS_UNIX_CONN_PAGES);
    }
    for (int i = 0; i < FIBERS; i++)
        die(i);
    REQUIRE(live_pages == 0); /* every connection's pages came back */
    return 0;
}
