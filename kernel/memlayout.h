/*
 * Nexus memory map (qemu-system-riscv64 -machine virt, one hart, Sv39).
 *
 * Physical memory and the kernel's view are the same: the kernel page table maps every device
 * it uses and all of RAM at VA == PA, without the U bit, so a trap never has to change satp.
 * Every fiber's page table shares those kernel entries (root slots 0 and 2..) and owns only
 * root slot 1, the user window. U-mode touching a kernel address therefore takes a page fault.
 *
 *   VA / PA
 *   0x0000_0000 +----------------------------+  root slot 0 (kernel only, not U)
 *               | unmapped                   |
 *   0x0010_0000 | sifive,test0 exit device   |  4 KiB
 *   0x0c00_0000 | PLIC                       |  from the FDT (0x600000 on virt)
 *   0x1000_0000 | NS16550A UART              |  4 KiB
 *   0x1000_1000 | virtio-mmio slots 0..7     |  4 KiB each
 *   0x4000_0000 +============================+  root slot 1: USER WINDOW (per fiber)
 *               | ELF image (text, data, bss)|  USER_BASE, linked by apps/rt/user.ld
 *               |            ...             |
 *   0x5000_0000 | heap (grows up, on demand) |  USER_HEAP_BASE, up to the fiber's heap grant
 *               |            ...             |  (kernel/heap.h; at most GRANT_HEAP_KIB_MAX)
 *   0x6000_0000 | ION rings (4 pages)        |  only in a fiber bound to a NetSwitch port:
 *   0x6100_0000 | packet pool (448 x 2 KiB)  |  RX buffers R (RW: Membrane), own TX area RW,
 *               |            ...             |  other ports' TX areas unmapped (docs/ion.md)
 *   0x6200_0000 | links to servers (client)  |  LINK_SPAN apart, RW (R without WRITE), in an app
 *               |                            |  with links (one per service it uses)
 *   0x6300_0000 | AF_UNIX connections        |  UNIX_CONN_SPAN apart, RW, 8 at most (kernel/unix.c)
 *   0x6400_0000 | links 0..15 (server side)  |  LINK_SPAN apart, RW, in a service (the Membrane)
 *               |            ...             |  (kernel/link.c, membrane/sockproto.h)
 *               | guard (unmapped)           |
 *   0x7ffe_0000 | user stack (USER_STACK_SIZE)|  args + TLS block at the top
 *   0x8000_0000 +============================+  root slot 2.. (kernel only, not U)
 *               | OpenSBI (M-mode, PMP-protected, not mapped)    512 KiB: /reserved-memory
 *   0x8008_0000 | page pool (RW-)            |  bitmap, then pages up to the kernel (kernel/mem.c;
 *               |                            |  after the kernel only if the FDT has no
 *               |                            |  /reserved-memory to say what OpenSBI keeps)
 *   0x8020_0000 | kernel .text (R-X)         |  KERNEL_BASE, linker.ld
 *               | kernel .rodata (R--)       |  embedded service images live here
 *               | kernel .data/.bss (RW-)    |  boot stack, /Bus table, fiber table
 *   _end        | page pool (RW-)            |  4 KiB pages to the end of RAM: page tables,
 *               |                            |  kernel stacks, user pages, the packet pool
 *   RAM end     +----------------------------+
 */
#ifndef NEXUS_MEMLAYOUT_H
#define NEXUS_MEMLAYOUT_H

#include "nexus/syscall.h"

#define KERNEL_BASE 0x80200000ul

#define USER_BASE       0x40000000ul
#define USER_TOP        0x80000000ul
#define USER_STACK_SIZE (64ul * 1024)
#define USER_STACK_TOP  USER_TOP
#define USER_STACK_BASE (USER_STACK_TOP - USER_STACK_SIZE)

#define USER_HEAP_BASE 0x50000000ul /* the image must end below it (loader.c) */
#define USER_HEAP_TOP  0x60000000ul

#define ION_RINGS_VA 0x60000000ul /* a port's four rings, one page each */
#define ION_POOL_VA  0x61000000ul /* buffer h at ION_POOL_VA + h * NEXUS_ION_BUF_SIZE */

#define LINK_CLIENT_VA 0x62000000ul
#define LINK_SERVER_VA 0x64000000ul
#define LINK_SPAN      0x40000ul /* 256 KiB of address space per server-side link */
_Static_assert(NEXUS_LINK_PAGES <= NEXUS_LINK_SEND_PAGES && NEXUS_LINK_SEND_PAGES * NEXUS_PAGE_SIZE <= LINK_SPAN,
               "a link overflows its span of the server's window");
_Static_assert(LINK_CLIENT_VA + NEXUS_CLIENT_LINKS_MAX * LINK_SPAN <= LINK_SERVER_VA, "client links overflow their window");
_Static_assert(LINK_SERVER_VA + NEXUS_LINKS_MAX * LINK_SPAN <= USER_STACK_BASE, "server links overflow their window");

#define UNIX_CONN_VA    0x63000000ul /* AF_UNIX connection k of a fiber at UNIX_CONN_VA + k * span */
#define UNIX_CONN_SPAN  0x40000ul
#define UNIX_FIBER_CONNS 8           /* connections one fiber may hold at once */
_Static_assert(NEXUS_UNIX_CONN_PAGES * NEXUS_PAGE_SIZE <= UNIX_CONN_SPAN, "a connection overflows its span");
_Static_assert(LINK_CLIENT_VA + NEXUS_CLIENT_LINKS_MAX * LINK_SPAN <= UNIX_CONN_VA &&
                   UNIX_CONN_VA + UNIX_FIBER_CONNS * UNIX_CONN_SPAN <= LINK_SERVER_VA,
               "AF_UNIX connections overlap the links");

#define KSTACK_PAGES 2 /* per-fiber kernel stack: 8 KiB, physically contiguous */

#endif
