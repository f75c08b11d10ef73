/*
 * The boot facts the kernel takes from the flattened device tree OpenSBI passes in a1, read
 * through libfdt (Debian's device-tree-compiler source, see tools/sources.lock). Portable C (no
 * kernel dependency) so the host tests and the fuzz target compile the same file. It never reads
 * outside [blob, blob + max_len) nor beyond the header's totalsize, whatever the blob says.
 * libfdt owns the fdt_ and FDT_ names; this interface is boot_fdt_ and BOOT_FDT_.
 */
#ifndef NEXUS_FDT_H
#define NEXUS_FDT_H

#include <stddef.h>
#include <stdint.h>

#define FDT_MAX_VIRTIO   16
#define FDT_BOOTARGS_MAX 256
#define FDT_MAX_RESERVED 8  /* /reserved-memory ranges kept; more make the boot keep clear of all RAM below the kernel */
#define FDT_MAX_DEPTH    16 /* nodes nested deeper than this (root = 1) are refused */

struct fdt_range {
    uint64_t base;
    uint64_t size;
};

struct fdt_virtio {
    struct fdt_range reg;
    uint32_t irq; /* PLIC source number from "interrupts" */
};

struct boot_info {
    struct fdt_range mem;      /* first /memory bank ("device_type" = "memory") */
    uint64_t timebase_hz;      /* /cpus "timebase-frequency" (0 if absent) */

    int has_uart;              /* compatible "ns16550a" */
    struct fdt_range uart;
    uint32_t uart_irq;

    int has_plic;              /* compatible "riscv,plic0" or "sifive,plic-1.0.0" */
    struct fdt_range plic;
    uint32_t plic_ndev;        /* "riscv,ndev" */
    int plic_s_context;        /* PLIC context of the boot hart's S-mode external interrupt
                                  (index in "interrupts-extended" whose phandle is the boot
                                  hart's interrupt-controller and whose cause is 9), -1 if none */

    int has_test_dev;          /* compatible "sifive,test0" (QEMU's exit device) */
    struct fdt_range test_dev;

    int has_rtc;               /* compatible "google,goldfish-rtc" (kernel/rtc.h) */
    struct fdt_range rtc;

    int nvirtio;               /* compatible "virtio,mmio", in blob order */
    struct fdt_virtio virtio[FDT_MAX_VIRTIO];

    char bootargs[FDT_BOOTARGS_MAX]; /* /chosen "bootargs", NUL-terminated, "" if absent */

    int has_initrd;            /* /chosen "linux,initrd-start" and "-end" (QEMU's -initrd),
                                  1 or 2 cells each, end > start */
    struct fdt_range initrd;

    int nreserved;             /* /reserved-memory children with a reg (OpenSBI's own RAM), */
    struct fdt_range reserved[FDT_MAX_RESERVED]; /* first reg of each, blob order; */
    int reserved_overflow;     /* 1 if there were more than FDT_MAX_RESERVED */
};

enum boot_fdt_error {
    BOOT_FDT_OK = 0,
    BOOT_FDT_TRUNCATED = -1,     /* blob shorter than its header or a block runs past it */
    BOOT_FDT_BAD_MAGIC = -2,     /* not 0xd00dfeed */
    BOOT_FDT_BAD_VERSION = -3,   /* last_comp_version > 17 or version < 16 */
    BOOT_FDT_BAD_STRUCTURE = -4, /* anything libfdt's full check refuses inside the blocks,
                                    bad block offsets, nesting deeper than FDT_MAX_DEPTH, a
                                    property after a subnode */
    BOOT_FDT_NO_MEMORY = -5,     /* no /memory node with a usable reg */
    BOOT_FDT_MISALIGNED = -6,    /* blob not at an 8-byte aligned address (libfdt's rule) */
};

/* Checks and reads `blob`; fills *out (zeroed first) and returns BOOT_FDT_OK or a negative
 * boot_fdt_error. boot_hart is the hart id from a0, used to find the hart's interrupt
 * controller phandle. */
int boot_fdt_parse(const void *blob, size_t max_len, uint32_t boot_hart, struct boot_info *out);

/* The header's totalsize, or 0 if the magic is wrong: lets the kernel bound max_len. */
uint32_t boot_fdt_total_size(const void *blob);

const char *boot_fdt_strerror(int err);

#endif
