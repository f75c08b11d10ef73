/*
 * Host tests for kernel/fdt.c and the libfdt it reads through: facts from device trees QEMU
 * really generates (tests/host/data, dumped with -machine virt,dumpdtb=...), then malformed
 * blobs. Every parse of a damaged blob runs on a malloc'd copy of exactly the length passed,
 * and libfdt is compiled with ASan too, so ASan reports any over-read.
 *
 * Usage: test_fdt <data-dir>
 */
#include "check.h"
#include "fdt.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)

/* Header field offsets (devicetree spec 5.2). */
#define H_TOTALSIZE    4
#define H_OFF_STRUCT   8
#define H_OFF_STRINGS  12
#define H_OFF_RSVMAP   16
#define H_VERSION      20
#define H_LAST_COMP    24
#define H_SIZE_STRINGS 32
#define H_SIZE_STRUCT  36
#define HEADER_SIZE    40

struct blob {
    uint8_t *data;
    size_t len;
};

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static struct blob load(const char *dir, const char *name) {
    char path[512];
    struct blob b = {NULL, 0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "test_fdt: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    b.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc(b.len);
    if (!b.data || fread(b.data, 1, b.len, f) != b.len) {
        fprintf(stderr, "test_fdt: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return b;
}

/* Parses the first n bytes of src from a heap buffer of exactly n bytes. */
static int parse_exact(const uint8_t *src, size_t n, uint32_t hart, struct boot_info *bi) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, src, n);
    int rc = boot_fdt_parse(copy, n, hart, bi);
    free(copy);
    return rc;
}

/* Parses a copy of `b` with the 32-bit word at `off` replaced by v. */
static int parse_patched(struct blob b, size_t off, uint32_t v) {
    struct boot_info bi;
    uint8_t *copy = malloc(b.len);
    memcpy(copy, b.data, b.len);
    put32(copy + off, v);
    int rc = boot_fdt_parse(copy, b.len, 0, &bi);
    free(copy);
    return rc;
}

static int is_fdt_code(int rc) {
    return rc <= BOOT_FDT_OK && rc >= BOOT_FDT_MISALIGNED;
}

/* ---- a tiny blob builder for hand-made trees ---- */

static struct {
    uint8_t st[16384];
    size_t st_len;
    char strings[1024];
    size_t strings_len;
    uint8_t out[HEADER_SIZE + 16 + 16384 + 1024];
} bld;

static void b_reset(void) {
    memset(&bld, 0, sizeof bld);
}

static void b_token(uint32_t t) {
    put32(bld.st + bld.st_len, t);
    bld.st_len += 4;
}

static void b_bytes(const void *p, size_t n) {
    memcpy(bld.st + bld.st_len, p, n);
    bld.st_len += (n + 3) & ~(size_t)3; /* the buffer is zeroed, so padding is NUL */
}

static void b_begin(const char *name) {
    b_token(1);
    b_bytes(name, strlen(name) + 1);
}

static void b_end(void) {
    b_token(2);
}

static void b_prop(const char *name, const void *val, size_t len) {
    b_token(3);
    b_token((uint32_t)len);
    b_token((uint32_t)bld.strings_len);
    strcpy(bld.strings + bld.strings_len, name);
    bld.strings_len += strlen(name) + 1;
    b_bytes(val, len);
}

static void b_str(const char *name, const char *s) {
    b_prop(name, s, strlen(s) + 1);
}

/* A property of n 32-bit cells. */
static void b_cells(const char *name, int n, ...) {
    uint8_t v[64];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        put32(v + 4 * i, va_arg(ap, uint32_t));
    va_end(ap);
    b_prop(name, v, 4 * (size_t)n);
}

/* Lays out header, empty reservation map, structure and strings; returns the blob. */
static struct blob b_finish_version(uint32_t version) {
    uint8_t *o = bld.out;
    b_token(9);
    size_t off_struct = HEADER_SIZE + 16, off_strings = off_struct + bld.st_len;
    size_t total = off_strings + bld.strings_len;
    put32(o, 0xd00dfeed);
    put32(o + H_TOTALSIZE, (uint32_t)total);
    put32(o + H_OFF_STRUCT, (uint32_t)off_struct);
    put32(o + H_OFF_STRINGS, (uint32_t)off_strings);
    put32(o + 16, HEADER_SIZE); /* off_mem_rsvmap */
    put32(o + H_VERSION, version);
    put32(o + H_LAST_COMP, 16);
    put32(o + H_SIZE_STRINGS, (uint32_t)bld.strings_len);
    put32(o + H_SIZE_STRUCT, version >= 17 ? (uint32_t)bld.st_len : 0xdeadbeef);
    memcpy(o + off_struct, bld.st, bld.st_len);
    memcpy(o + off_strings, bld.strings, bld.strings_len);
    return (struct blob){o, total};
}

static struct blob b_finish(void) {
    return b_finish_version(17);
}

static int parse_built(struct boot_info *bi) {
    struct blob b = b_finish();
    return parse_exact(b.data, b.len, 0, bi);
}

/* ---- real QEMU trees ---- */

static void test_virt_common(const char *tag, const struct boot_info *bi) {
    char name[96];
#define CHECK_AS(what, cond) \
    do { snprintf(name, sizeof name, "%s.%s", tag, what); CHECK(name, cond); } while (0)
    CHECK_AS("mem_base", bi->mem.base == 0x80000000u);
    CHECK_AS("timebase", bi->timebase_hz == 10000000u);
    CHECK_AS("uart", bi->has_uart && bi->uart.base == 0x10000000u && bi->uart.size == 0x100);
    CHECK_AS("uart_irq", bi->uart_irq == 10);
    CHECK_AS("plic", bi->has_plic && bi->plic.base == 0xc000000u && bi->plic.size == 0x600000);
    /* QEMU 7.2 writes riscv,ndev = 0x60 (VIRT_IRQCHIP_NUM_SOURCES - 1 would be 0x5f in
     * other versions): check what the blob really holds. */
    CHECK_AS("plic_ndev", bi->plic_ndev == 0x60);
    CHECK_AS("test_dev", bi->has_test_dev && bi->test_dev.base == 0x100000u &&
                             bi->test_dev.size == 0x1000);
    CHECK_AS("goldfish_rtc", bi->has_rtc && bi->rtc.base == 0x101000u && bi->rtc.size == 0x1000);
    /* QEMU always makes 8 virtio-mmio transports and emits them highest address first. */
    CHECK_AS("nvirtio", bi->nvirtio == 8);
    int order_ok = 1;
    for (int i = 0; i < bi->nvirtio; i++) {
        const struct fdt_virtio *v = &bi->virtio[i];
        order_ok &= v->reg.base == 0x10008000u - 0x1000u * (unsigned)i &&
                    v->reg.size == 0x1000 && v->irq == 8u - (unsigned)i;
    }
    CHECK_AS("virtio_order", order_ok);
#undef CHECK_AS
}

static void test_real(const char *dir) {
    struct boot_info bi;
    struct blob d = load(dir, "virt-default.dtb");
    struct blob n = load(dir, "virt-net-rng.dtb");
    struct blob s = load(dir, "virt-smp2.dtb");
    struct blob i = load(dir, "virt-initrd.dtb"); /* -initrd of 5000 bytes, -append selftest */

    CHECK("total_size.default", boot_fdt_total_size(d.data) == d.len);
    CHECK("total_size.smp2", boot_fdt_total_size(s.data) == s.len);

    CHECK("default.parse", boot_fdt_parse(d.data, d.len, 0, &bi) == BOOT_FDT_OK);
    test_virt_common("default", &bi);
    CHECK("default.mem_size", bi.mem.size == 128 * MIB);
    CHECK("default.s_context", bi.plic_s_context == 1);
    CHECK("default.no_bootargs", bi.bootargs[0] == '\0');
    CHECK("default.no_initrd", !bi.has_initrd);
    CHECK("default.max_len_larger_ok", parse_exact(d.data, d.len, 0, &bi) == BOOT_FDT_OK);

    CHECK("default.absent_hart", boot_fdt_parse(d.data, d.len, 1, &bi) == BOOT_FDT_OK);
    CHECK("default.absent_hart_no_context", bi.plic_s_context == -1);

    CHECK("net_rng.parse", boot_fdt_parse(n.data, n.len, 0, &bi) == BOOT_FDT_OK);
    test_virt_common("net_rng", &bi);
    CHECK("net_rng.mem_size", bi.mem.size == 256 * MIB);
    CHECK("net_rng.bootargs", strcmp(bi.bootargs, "selftest watchdog=200") == 0);

    CHECK("smp2.parse_hart0", boot_fdt_parse(s.data, s.len, 0, &bi) == BOOT_FDT_OK);
    test_virt_common("smp2", &bi);
    CHECK("smp2.s_context_hart0", bi.plic_s_context == 1);
    CHECK("smp2.parse_hart1", boot_fdt_parse(s.data, s.len, 1, &bi) == BOOT_FDT_OK);
    CHECK("smp2.s_context_hart1", bi.plic_s_context == 3);

    free(d.data);
    free(n.data);

    CHECK("initrd.parse", boot_fdt_parse(i.data, i.len, 0, &bi) == BOOT_FDT_OK);
    test_virt_common("initrd", &bi);
    CHECK("initrd.bounds",
          bi.has_initrd && bi.initrd.base == 0x84200000u && bi.initrd.size == 5000);
    CHECK("initrd.bootargs", strcmp(bi.bootargs, "selftest") == 0);

    free(s.data);
    free(i.data);
}

/* ---- damaged real blobs ---- */

static void test_truncation(struct blob b) {
    struct boot_info bi;
    int all_err = 1, consistent_err = 1;
    for (size_t n = 0; n < b.len; n++)
        all_err &= parse_exact(b.data, n, 0, &bi) < 0;
    CHECK("truncated.every_length", all_err);

    /* Same, but with totalsize claiming the cut length, so the block checks and the walker
     * (not just the totalsize check) meet the missing bytes. */
    uint8_t *copy = malloc(b.len);
    for (size_t n = 8; n < b.len; n++) {
        memcpy(copy, b.data, b.len);
        put32(copy + H_TOTALSIZE, (uint32_t)n);
        int rc = parse_exact(copy, n, 0, &bi);
        consistent_err &= rc < 0 && is_fdt_code(rc);
    }
    free(copy);
    CHECK("truncated.every_length_consistent_header", consistent_err);

    /* Cut the structure block at every length: no cut keeps the FDT_END token. */
    uint32_t size_struct = get32(b.data + H_SIZE_STRUCT);
    int struct_err = 1;
    for (uint32_t k = 0; k < size_struct; k++)
        struct_err &= parse_patched(b, H_SIZE_STRUCT, k) < 0;
    CHECK("truncated.struct_block_every_length", struct_err);

    /* Cut the strings block: a name then loses its NUL; must never over-read. */
    uint32_t size_strings = get32(b.data + H_SIZE_STRINGS);
    int strings_ok = 1;
    for (uint32_t k = 0; k < size_strings; k++)
        strings_ok &= parse_patched(b, H_SIZE_STRINGS, k) == BOOT_FDT_BAD_STRUCTURE;
    CHECK("truncated.strings_block_every_length", strings_ok);
}

static void test_header(struct blob b) {
    struct boot_info bi;
    uint32_t total = (uint32_t)b.len;
    CHECK("header.bad_magic", parse_patched(b, 0, 0xd00dfeee) == BOOT_FDT_BAD_MAGIC);
    CHECK("header.total_size_bad_magic", boot_fdt_total_size("\xd0\x0d\xfe\xee\0\0\x10\0") == 0);
    CHECK("header.version_too_old", parse_patched(b, H_VERSION, 15) == BOOT_FDT_BAD_VERSION);
    CHECK("header.last_comp_too_new", parse_patched(b, H_LAST_COMP, 18) == BOOT_FDT_BAD_VERSION);
    CHECK("header.newer_compatible_version", parse_patched(b, H_VERSION, 20) == BOOT_FDT_OK);
    CHECK("header.totalsize_beyond_max_len",
          parse_patched(b, H_TOTALSIZE, total + 1) == BOOT_FDT_TRUNCATED);
    CHECK("header.totalsize_huge", parse_patched(b, H_TOTALSIZE, 0xffffffff) == BOOT_FDT_TRUNCATED);
    CHECK("header.totalsize_below_header", parse_patched(b, H_TOTALSIZE, 39) == BOOT_FDT_TRUNCATED);
    CHECK("header.struct_offset_out_of_range",
          parse_patched(b, H_OFF_STRUCT, total + 4) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("header.struct_offset_huge",
          parse_patched(b, H_OFF_STRUCT, 0xfffffffc) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("header.struct_offset_unaligned",
          parse_patched(b, H_OFF_STRUCT, get32(b.data + H_OFF_STRUCT) + 1) ==
              BOOT_FDT_BAD_STRUCTURE);
    CHECK("header.strings_offset_out_of_range",
          parse_patched(b, H_OFF_STRINGS, total + 1) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("header.struct_size_past_end",
          parse_patched(b, H_SIZE_STRUCT, total) == BOOT_FDT_TRUNCATED);
    CHECK("header.strings_size_overflow",
          parse_patched(b, H_SIZE_STRINGS, 0xffffffff) == BOOT_FDT_TRUNCATED);
    CHECK("header.rsvmap_unaligned",
          parse_patched(b, H_OFF_RSVMAP, get32(b.data + H_OFF_RSVMAP) + 4) ==
              BOOT_FDT_BAD_STRUCTURE);

    /* libfdt wants the blob itself 8-byte aligned. */
    uint8_t *shifted = malloc(b.len + 4);
    memcpy(shifted + 4, b.data, b.len);
    CHECK("header.blob_misaligned",
          boot_fdt_parse(shifted + 4, b.len, 0, &bi) == BOOT_FDT_MISALIGNED);
    free(shifted);

    CHECK("header.short_buffers", parse_exact(b.data, 3, 0, &bi) == BOOT_FDT_TRUNCATED &&
                                      parse_exact(b.data, 39, 0, &bi) == BOOT_FDT_TRUNCATED);

    /* Flip each header bit pattern in turn: any outcome but a crash or a stray code. */
    int flips_ok = 1;
    uint8_t *copy = malloc(b.len);
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < HEADER_SIZE; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, b.data, b.len);
            copy[i] ^= masks[m];
            flips_ok &= is_fdt_code(boot_fdt_parse(copy, b.len, 0, &bi));
        }
    }
    free(copy);
    CHECK("header.every_byte_flipped", flips_ok);
}

/* QEMU's root node starts the structure block: BEGIN_NODE, "" padded to 4, then its first
 * property (#address-cells). Its len and nameoff words follow that PROP token. */
static void test_struct(struct blob b) {
    size_t root = get32(b.data + H_OFF_STRUCT);
    size_t prop = root + 8;
    CHECK("struct.first_prop_located", get32(b.data + root) == 1 && get32(b.data + prop) == 3);
    CHECK("struct.prop_len_past_block",
          parse_patched(b, prop + 4, 0x7ffffff0) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.prop_len_max", parse_patched(b, prop + 4, 0xffffffff) == BOOT_FDT_BAD_STRUCTURE);
    /* Lengths whose 32-bit sum with the offset after them (4 + 8 past the PROP token) lands back
     * on the root or on the property itself: libfdt 1.6.1's walk looped on both; 1.7 refuses. */
    uint32_t after_len = (uint32_t)(prop - root) + 12;
    CHECK("struct.prop_len_wraps_to_root",
          parse_patched(b, prop + 4, 0u - after_len) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.prop_len_wraps_to_itself",
          parse_patched(b, prop + 4, 0u - after_len + (uint32_t)(prop - root)) ==
              BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.string_offset_out_of_range",
          parse_patched(b, prop + 8, get32(b.data + H_SIZE_STRINGS)) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.string_offset_huge",
          parse_patched(b, prop + 8, 0xffffffff) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.bad_token", parse_patched(b, prop, 7) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.end_too_early", parse_patched(b, prop, 9) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("struct.missing_root_begin", parse_patched(b, root, 4) == BOOT_FDT_BAD_STRUCTURE);

    /* Every byte of the structure block flipped: any defined outcome, no over-read. */
    size_t size_struct = get32(b.data + H_SIZE_STRUCT);
    int flips_ok = 1;
    uint8_t *copy = malloc(b.len);
    struct boot_info bi;
    for (size_t i = root; i < root + size_struct; i++) {
        memcpy(copy, b.data, b.len);
        copy[i] ^= 0xff;
        flips_ok &= is_fdt_code(boot_fdt_parse(copy, b.len, 0, &bi));
        flips_ok &= memchr(bi.bootargs, 0, sizeof bi.bootargs) != NULL;
    }
    free(copy);
    CHECK("struct.every_byte_flipped", flips_ok);
}

/* ---- hand-built trees ---- */

static void b_memory_node(const char *name, int ncells, uint32_t a, uint32_t b, uint32_t c) {
    b_begin(name);
    b_str("device_type", "memory");
    if (ncells == 2)
        b_cells("reg", 2, a, b);
    else
        b_cells("reg", 3, a, b, c);
    b_end();
}

static void test_cells(void) {
    struct boot_info bi;

    b_reset();
    b_begin("");
    b_cells("#address-cells", 1, 1u);
    b_cells("#size-cells", 1, 1u);
    b_memory_node("memory@1000", 2, 0x1000, 0x2000, 0);
    b_end();
    CHECK("built.cells_1_1", parse_built(&bi) == BOOT_FDT_OK && bi.mem.base == 0x1000 &&
                                 bi.mem.size == 0x2000);

    /* No cell properties: the spec defaults are 2 address cells and 1 size cell. */
    b_reset();
    b_begin("");
    b_memory_node("mem", 3, 0x1, 0x80000000u, 0x4000);
    b_end();
    CHECK("built.cells_default_2_1", parse_built(&bi) == BOOT_FDT_OK &&
                                         bi.mem.base == 0x180000000ull && bi.mem.size == 0x4000);

    b_reset();
    b_begin("");
    b_cells("#address-cells", 1, 3u);
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_end();
    CHECK("built.cells_3_ignored", parse_built(&bi) == BOOT_FDT_NO_MEMORY);

    /* Cells are per parent: /soc's 1/1 apply to its child, not to the root's other child. */
    b_reset();
    b_begin("");
    b_cells("#address-cells", 1, 2u);
    b_cells("#size-cells", 1, 2u);
    b_begin("soc");
    b_cells("#address-cells", 1, 1u);
    b_cells("#size-cells", 1, 1u);
    b_begin("serial@3000");
    b_str("compatible", "ns16550a");
    b_cells("reg", 2, 0x3000u, 0x100u);
    b_end();
    b_end();
    b_begin("memory@80000000");
    b_str("device_type", "memory");
    b_cells("reg", 4, 0u, 0x80000000u, 0u, 0x1000000u);
    b_end();
    b_end();
    CHECK("built.cells_per_parent", parse_built(&bi) == BOOT_FDT_OK && bi.has_uart &&
                                        bi.uart.base == 0x3000 && bi.uart.size == 0x100 &&
                                        bi.mem.base == 0x80000000u && bi.mem.size == 0x1000000);
}

static void test_memory(void) {
    struct boot_info bi;

    b_reset();
    b_begin("");
    b_begin("chosen");
    b_end();
    b_end();
    CHECK("built.no_memory", parse_built(&bi) == BOOT_FDT_NO_MEMORY);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0);
    b_end();
    CHECK("built.memory_size_zero", parse_built(&bi) == BOOT_FDT_NO_MEMORY);

    /* A reg too short for the cells is ignored, not over-read. */
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 2, 0, 0x1000, 0);
    b_end();
    CHECK("built.memory_reg_short", parse_built(&bi) == BOOT_FDT_NO_MEMORY);

    /* Recognised by name alone, and the first usable node wins. */
    b_reset();
    b_begin("");
    b_begin("memory@40000000");
    b_cells("reg", 3, 0u, 0x40000000u, 0x1000u);
    b_end();
    b_memory_node("ram", 3, 0, 0x80000000u, 0x2000);
    b_end();
    CHECK("built.memory_by_name", parse_built(&bi) == BOOT_FDT_OK && bi.mem.base == 0x40000000u &&
                                      bi.mem.size == 0x1000);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0xffffffffu, 0xfffff000u, 0x2000);
    b_end();
    CHECK("built.memory_range_wraps", parse_built(&bi) == BOOT_FDT_NO_MEMORY);
}

/* Writes /cpus with one cpu@<hart> node whose interrupt-controller has phandle `ph`. */
static void b_cpu(uint32_t hart, uint32_t ph) {
    char name[16];
    snprintf(name, sizeof name, "cpu@%u", hart);
    b_begin(name);
    b_str("device_type", "cpu");
    b_cells("reg", 1, hart);
    b_begin("interrupt-controller");
    b_prop("interrupt-controller", "", 0);
    b_cells("phandle", 1, ph);
    b_end();
    b_end();
}

static void test_cpus_after_plic(void) {
    struct boot_info bi;
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_begin("plic@c000000");
    b_prop("compatible", "sifive,plic-1.0.0\0riscv,plic0", 30);
    b_cells("reg", 3, 0u, 0xc000000u, 0x600000u);
    b_cells("riscv,ndev", 1, 31u);
    b_cells("interrupts-extended", 8, 5u, 11u, 5u, 9u, 7u, 11u, 7u, 9u);
    b_end();
    b_begin("cpus");
    b_cells("#address-cells", 1, 1u);
    b_cells("#size-cells", 1, 0u);
    b_cpu(3, 5);
    b_cpu(4, 7);
    b_end();
    b_end();
    struct blob b = b_finish();
    CHECK("built.plic_before_cpus", parse_exact(b.data, b.len, 4, &bi) == BOOT_FDT_OK &&
                                        bi.has_plic && bi.plic_ndev == 31 &&
                                        bi.plic_s_context == 3);
    CHECK("built.plic_before_cpus_hart3",
          parse_exact(b.data, b.len, 3, &bi) == BOOT_FDT_OK && bi.plic_s_context == 1);
    CHECK("built.timebase_absent", bi.timebase_hz == 0);
}

static void test_timebase(void) {
    struct boot_info bi;

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_begin("cpus");
    b_cells("#address-cells", 1, 1u);
    b_cells("#size-cells", 1, 0u);
    b_begin("cpu@0");
    b_str("device_type", "cpu");
    b_cells("timebase-frequency", 2, 1u, 2u);
    b_end();
    b_end();
    b_end();
    CHECK("built.timebase_cpu_2_cells",
          parse_built(&bi) == BOOT_FDT_OK && bi.timebase_hz == 0x100000002ull);

    /* /cpus takes precedence over a cpu node (the cpu node comes later in the blob). */
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_begin("cpus");
    b_cells("timebase-frequency", 1, 1000u);
    b_begin("cpu@0");
    b_str("device_type", "cpu");
    b_cells("timebase-frequency", 1, 2000u);
    b_end();
    b_end();
    b_end();
    CHECK("built.timebase_cpus_first", parse_built(&bi) == BOOT_FDT_OK && bi.timebase_hz == 1000);
}

/* The one-pass reader (kernel/fdt.c, walk_tree) must answer as libfdt's lookups do: a node's
 * first property of a name counts, the first /cpus, /chosen and /reserved-memory count, a name
 * with a unit address matches ("cpus@0" is /cpus), and a cell count past libfdt's 4 is refused
 * whatever its top bit. */
static void test_first_of_each(void) {
    struct boot_info bi;

    b_reset();
    b_begin("");
    b_begin("memory@0");
    b_str("device_type", "memory");
    b_cells("reg", 3, 0u, 0x1000u, 0x2000u); /* the root's default cells: 2 address, 1 size */
    b_cells("reg", 3, 0u, 0x9000u, 0x9000u);
    b_end();
    b_end();
    CHECK("built.first_property_of_a_name", parse_built(&bi) == BOOT_FDT_OK && bi.mem.base == 0x1000 &&
                                                bi.mem.size == 0x2000);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_begin("cpus@0");
    b_cells("timebase-frequency", 1, 1000u);
    b_end();
    b_begin("cpus");
    b_cells("timebase-frequency", 1, 2000u);
    b_end();
    b_begin("chosen");
    b_str("bootargs", "first");
    b_end();
    b_begin("chosen");
    b_str("bootargs", "second");
    b_end();
    b_begin("chosenone");
    b_str("bootargs", "not chosen");
    b_end();
    b_end();
    CHECK("built.first_cpus_with_unit_address", parse_built(&bi) == BOOT_FDT_OK && bi.timebase_hz == 1000);
    CHECK("built.first_chosen", !strcmp(bi.bootargs, "first"));

    b_reset();
    b_begin("");
    b_cells("#address-cells", 1, 0x80000001u);
    b_begin("memory@0"); /* read with 1 address cell, this reg would be memory at 0x1000 */
    b_str("device_type", "memory");
    b_cells("reg", 3, 0x1000u, 0x2000u, 0x3000u);
    b_end();
    b_end();
    CHECK("built.cells_top_bit_refused", parse_built(&bi) == BOOT_FDT_NO_MEMORY);
}

static void b_chosen_bootargs(const void *val, size_t len) {
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_begin("chosen");
    b_prop("bootargs", val, len);
    b_end();
    b_end();
}

static void test_bootargs(void) {
    struct boot_info bi;
    char longer[400];

    b_chosen_bootargs("abc", 3); /* not NUL-terminated */
    CHECK("built.bootargs_unterminated", parse_built(&bi) == BOOT_FDT_OK &&
                                             strcmp(bi.bootargs, "abc") == 0);

    memset(longer, 'x', sizeof longer);
    b_chosen_bootargs(longer, sizeof longer);
    CHECK("built.bootargs_truncated", parse_built(&bi) == BOOT_FDT_OK &&
                                          strlen(bi.bootargs) == FDT_BOOTARGS_MAX - 1);

    b_chosen_bootargs("", 0);
    CHECK("built.bootargs_empty_prop", parse_built(&bi) == BOOT_FDT_OK && bi.bootargs[0] == '\0');
}

/* /chosen with the given initrd bounds (`ncells` each, 1 or 2; 3 makes them unreadable). */
static int parse_initrd(int ncells, uint64_t start, uint64_t end, int with_end,
                        struct boot_info *bi) {
    uint8_t v[12] = {0};
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_begin("chosen");
    put32(v + 4 * (size_t)(ncells - 1), (uint32_t)start);
    if (ncells >= 2)
        put32(v + 4 * (size_t)(ncells - 2), (uint32_t)(start >> 32));
    b_prop("linux,initrd-start", v, 4 * (size_t)ncells);
    memset(v, 0, sizeof v);
    put32(v + 4 * (size_t)(ncells - 1), (uint32_t)end);
    if (ncells >= 2)
        put32(v + 4 * (size_t)(ncells - 2), (uint32_t)(end >> 32));
    if (with_end)
        b_prop("linux,initrd-end", v, 4 * (size_t)ncells);
    b_end();
    b_end();
    return parse_built(bi);
}

static void test_initrd(void) {
    struct boot_info bi;
    CHECK("built.initrd_1_cell", parse_initrd(1, 0x1000, 0x3000, 1, &bi) == BOOT_FDT_OK &&
                                     bi.has_initrd && bi.initrd.base == 0x1000 &&
                                     bi.initrd.size == 0x2000);
    CHECK("built.initrd_2_cells",
          parse_initrd(2, 0x100000000ull, 0x100000800ull, 1, &bi) == BOOT_FDT_OK &&
              bi.has_initrd && bi.initrd.base == 0x100000000ull && bi.initrd.size == 0x800);
    CHECK("built.initrd_no_end",
          parse_initrd(1, 0x1000, 0x3000, 0, &bi) == BOOT_FDT_OK && !bi.has_initrd);
    CHECK("built.initrd_end_before_start",
          parse_initrd(1, 0x3000, 0x1000, 1, &bi) == BOOT_FDT_OK && !bi.has_initrd);
    CHECK("built.initrd_empty",
          parse_initrd(1, 0x3000, 0x3000, 1, &bi) == BOOT_FDT_OK && !bi.has_initrd);
    CHECK("built.initrd_3_cells",
          parse_initrd(3, 0x1000, 0x3000, 1, &bi) == BOOT_FDT_OK && !bi.has_initrd);
}

static void test_virtio_limit(void) {
    struct boot_info bi;
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    for (uint32_t i = 0; i < FDT_MAX_VIRTIO + 4; i++) {
        b_begin("virtio_mmio");
        b_str("compatible", "virtio,mmio");
        b_cells("reg", 3, 0u, 0x10000000u + i * 0x1000u, 0x1000u);
        b_cells("interrupts", 1, i + 1);
        b_end();
    }
    b_end();
    CHECK("built.virtio_limit", parse_built(&bi) == BOOT_FDT_OK && bi.nvirtio == FDT_MAX_VIRTIO &&
                                    bi.virtio[FDT_MAX_VIRTIO - 1].irq == FDT_MAX_VIRTIO);
}

/* A root holding `depth - 1` nested children, the innermost a memory node. */
static int parse_nested(int depth) {
    struct boot_info bi;
    b_reset();
    b_begin("");
    for (int i = 1; i < depth; i++)
        b_begin(i == depth - 1 ? "memory@0" : "n");
    b_cells("reg", 3, 0u, 0u, 0x1000u);
    for (int i = 0; i < depth; i++)
        b_end();
    return parse_built(&bi);
}

static void test_structure(void) {
    struct boot_info bi;

    CHECK("built.depth_16_ok", parse_nested(16) == BOOT_FDT_OK);
    CHECK("built.depth_17_rejected", parse_nested(17) == BOOT_FDT_BAD_STRUCTURE);
    CHECK("built.depth_1000_rejected", parse_nested(1000) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_end();
    b_end();
    CHECK("built.extra_end_node", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    CHECK("built.missing_end_node", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_end();
    b_begin("");
    b_end();
    CHECK("built.second_root", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    CHECK("built.empty_struct", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    b_begin("");
    b_begin("a");
    b_end();
    b_str("model", "late"); /* the spec puts properties before subnodes */
    b_end();
    CHECK("built.property_after_subnode", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    b_begin("");
    b_token(4);
    b_begin("memory@0");
    b_token(4);
    b_str("device_type", "memory");
    b_token(4);
    b_cells("reg", 3, 0u, 0u, 0x1000u);
    b_end();
    b_token(4);
    b_end();
    CHECK("built.nops", parse_built(&bi) == BOOT_FDT_OK && bi.mem.size == 0x1000);

    /* libfdt finds the root at the start of the structure block and nothing after it but
     * FDT_END, so NOPs outside the root are refused. */
    b_reset();
    b_token(4);
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_end();
    CHECK("built.nop_before_root", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_end();
    b_token(4);
    CHECK("built.nop_after_root", parse_built(&bi) == BOOT_FDT_BAD_STRUCTURE);

    /* Version 16 has no size_dt_struct; the builder puts garbage there. */
    b_reset();
    b_begin("");
    b_memory_node("memory@0", 3, 0, 0, 0x1000);
    b_end();
    struct blob v16 = b_finish_version(16);
    CHECK("built.version_16", parse_exact(v16.data, v16.len, 0, &bi) == BOOT_FDT_OK);
}

static void test_strerror(void) {
    int distinct = 1;
    for (int a = BOOT_FDT_MISALIGNED; a <= BOOT_FDT_OK; a++) {
        for (int b = a + 1; b <= BOOT_FDT_OK; b++)
            distinct &= strcmp(boot_fdt_strerror(a), boot_fdt_strerror(b)) != 0;
    }
    CHECK("strerror.distinct", distinct);
    CHECK("strerror.unknown", strcmp(boot_fdt_strerror(-99), "unknown error") == 0 &&
                                  strcmp(boot_fdt_strerror(1), "unknown error") == 0);
}

/* /reserved-memory (2 address and 2 size cells, as OpenSBI writes it) with `n` children of
 * 16 KiB each from 0x80000000, and one child without reg, which is passed over. */
static int parse_reserved(int n, struct boot_info *bi) {
    char name[32];
    b_reset();
    b_begin("");
    b_memory_node("memory@80000000", 3, 0, 0x80000000u, 0x800000);
    b_begin("reserved-memory");
    b_cells("#address-cells", 1, 2);
    b_cells("#size-cells", 1, 2);
    b_cells("ranges", 0);
    b_begin("no-reg");
    b_end();
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "mmode_resv%d@%x", i, 0x80000000u + 0x4000u * (unsigned)i);
        b_begin(name);
        b_cells("reg", 4, 0, 0x80000000u + 0x4000u * (unsigned)i, 0, 0x4000);
        b_prop("no-map", "", 0);
        b_end();
    }
    b_end();
    b_end();
    return parse_built(bi);
}

static void test_reserved(void) {
    struct boot_info bi;
    CHECK("built.reserved_none", parse_reserved(0, &bi) == BOOT_FDT_OK && bi.nreserved == 0 && !bi.reserved_overflow);
    CHECK("built.reserved_two", parse_reserved(2, &bi) == BOOT_FDT_OK && bi.nreserved == 2 && !bi.reserved_overflow &&
                                    bi.reserved[0].base == 0x80000000u && bi.reserved[0].size == 0x4000 &&
                                    bi.reserved[1].base == 0x80004000u && bi.reserved[1].size == 0x4000);
    CHECK("built.reserved_all_kept", parse_reserved(FDT_MAX_RESERVED, &bi) == BOOT_FDT_OK &&
                                         bi.nreserved == FDT_MAX_RESERVED && !bi.reserved_overflow);
    CHECK("built.reserved_overflow", parse_reserved(FDT_MAX_RESERVED + 1, &bi) == BOOT_FDT_OK &&
                                         bi.nreserved == FDT_MAX_RESERVED && bi.reserved_overflow);
}

int main(int argc, char **argv) {
    check_suite = "fdt";
    if (argc != 2) {
        fprintf(stderr, "usage: %s <data-dir>\n", argv[0]);
        return 2;
    }
    test_real(argv[1]);

    struct blob b = load(argv[1], "virt-net-rng.dtb");
    test_truncation(b);
    test_header(b);
    test_struct(b);
    free(b.data);

    test_cells();
    test_first_of_each();
    test_memory();
    test_cpus_after_plic();
    test_timebase();
    test_bootargs();
    test_initrd();
    test_reserved();
    test_virtio_limit();
    test_structure();
    test_strerror();
    return check_exit();
}
