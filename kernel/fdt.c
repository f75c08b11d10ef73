/*
 * The kernel's device-tree queries, on top of libfdt (the library OpenSBI, U-Boot, Zephyr and
 * Linux use). The blob is untrusted: it is checked whole first (libfdt's fdt_check_full plus
 * the few rules below), so every query after that walks a tree whose offsets, lengths and
 * strings libfdt has already bounded. Numbers are read with fdt32_ld, which needs no alignment.
 */
#include "fdt.h"

#include <libfdt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OLDEST_VERSION 16 /* the Devicetree Specification's; libfdt would read back to 2 */
#define IRQ_S_EXTERNAL 9u /* RISC-V interrupt cause: supervisor external interrupt */

static const char *const uart_compatible[] = {"ns16550a", NULL};
static const char *const plic_compatible[] = {"riscv,plic0", "sifive,plic-1.0.0", NULL};
static const char *const test_dev_compatible[] = {"sifive,test0", NULL};
static const char *const virtio_compatible[] = {"virtio,mmio", NULL};
static const char *const rtc_compatible[] = {"google,goldfish-rtc", NULL};

/* ---- checking the blob ---- */

/* libfdt's error codes in this interface's words; anything else it reports is structure. */
static const struct {
    int libfdt;
    enum boot_fdt_error ours;
} libfdt_errors[] = {
    {FDT_ERR_TRUNCATED, BOOT_FDT_TRUNCATED},
    {FDT_ERR_BADMAGIC, BOOT_FDT_BAD_MAGIC},
    {FDT_ERR_BADVERSION, BOOT_FDT_BAD_VERSION},
    {FDT_ERR_ALIGNMENT, BOOT_FDT_MISALIGNED},
};

static int from_libfdt(int err) {
    if (err == 0)
        return BOOT_FDT_OK;
    for (size_t i = 0; i < sizeof libfdt_errors / sizeof libfdt_errors[0]; i++) {
        if (-err == libfdt_errors[i].libfdt)
            return libfdt_errors[i].ours;
    }
    return BOOT_FDT_BAD_STRUCTURE;
}

/* The header against the buffer, before libfdt trusts totalsize as the buffer's size. The
 * block offsets are checked here because libfdt calls a block that starts outside the blob
 * "truncated" (it is damage, not a short blob), and reads tokens and reservations through
 * aligned types without checking the alignment the spec requires of their blocks. */
static int check_header(const void *blob, size_t max_len) {
    if (!blob || max_len < sizeof(fdt32_t))
        return BOOT_FDT_TRUNCATED;
    if (fdt_magic(blob) != FDT_MAGIC)
        return BOOT_FDT_BAD_MAGIC;
    if (max_len < sizeof(struct fdt_header))
        return BOOT_FDT_TRUNCATED;
    uint32_t total = fdt_totalsize(blob);
    if (total < sizeof(struct fdt_header) || total > max_len)
        return BOOT_FDT_TRUNCATED;
    if (fdt_version(blob) < OLDEST_VERSION)
        return BOOT_FDT_BAD_VERSION;
    if (fdt_off_dt_struct(blob) % FDT_TAGSIZE != 0 || fdt_off_dt_struct(blob) > total ||
        fdt_off_mem_rsvmap(blob) % _Alignof(struct fdt_reserve_entry) != 0 ||
        fdt_off_dt_strings(blob) > total)
        return BOOT_FDT_BAD_STRUCTURE;
    return from_libfdt(fdt_check_header(blob));
}

/* Rules libfdt's full check leaves to its users: the root node opens the structure block (its
 * lookups start there), nesting is bounded (real trees are 4 deep), and a node's properties come
 * before its subnodes, as the spec says (libfdt would not see a late one). */
static int check_shape(const void *fdt) {
    uint32_t has_subnode = 0; /* bit d: the open node at depth d has begun a child */
    int depth = 0, offset = 0, next;
    if (fdt_next_tag(fdt, 0, &next) != FDT_BEGIN_NODE)
        return BOOT_FDT_BAD_STRUCTURE;
    for (;;) {
        uint32_t tag = fdt_next_tag(fdt, offset, &next);
        if (next < 0)
            return BOOT_FDT_BAD_STRUCTURE;
        switch (tag) {
        case FDT_BEGIN_NODE:
            if (depth == FDT_MAX_DEPTH)
                return BOOT_FDT_BAD_STRUCTURE;
            has_subnode |= 1u << depth;
            depth++;
            has_subnode &= ~(1u << depth);
            break;
        case FDT_END_NODE: depth--; break;
        case FDT_PROP:
            if (has_subnode & (1u << depth))
                return BOOT_FDT_BAD_STRUCTURE;
            break;
        case FDT_END: return BOOT_FDT_OK;
        default: break;
        }
        offset = next;
    }
}

static int check_blob(const void *blob, size_t max_len) {
    int err = check_header(blob, max_len);
    if (err != BOOT_FDT_OK)
        return err;
    /* The header is sound: whatever the full check still finds is inside the blocks. */
    if (fdt_check_full(blob, max_len) != 0)
        return BOOT_FDT_BAD_STRUCTURE;
    return check_shape(blob);
}

/* ---- property values ---- */

/* The first cell of a property of at least one cell. *v is written only on success. */
static bool prop_u32(const void *fdt, int node, const char *name, uint32_t *v) {
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
    if (!p || len < 4)
        return false;
    *v = fdt32_ld(p);
    return true;
}

/* A 1- or 2-cell big-endian number. */
static uint64_t read_cells(const fdt32_t *p, int cells) {
    return cells == 2 ? (uint64_t)fdt32_ld(p) << 32 | fdt32_ld(p + 1) : fdt32_ld(p);
}

/* A property of exactly one or two cells (timebase-frequency, initrd bounds). */
static bool prop_number(const void *fdt, int node, const char *name, uint64_t *v) {
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
    if (!p || (len != 4 && len != 8))
        return false;
    *v = read_cells(p, len / 4);
    return true;
}

static bool prop_has_string(const void *fdt, int node, const char *name, const char *s) {
    int len;
    const char *list = fdt_getprop(fdt, node, name, &len);
    return list && fdt_stringlist_contains(list, len, s);
}

static bool name_starts(const void *fdt, int node, const char *prefix) {
    const char *name = fdt_get_name(fdt, node, NULL);
    return name && strncmp(name, prefix, strlen(prefix)) == 0;
}

/* First (address, size) pair of `node`'s "reg", encoded with its parent's cell counts. Only 1
 * or 2 address cells and 0..2 size cells are understood (0 is normal under /cpus); a range
 * whose end does not fit in 64 bits is refused. *r is written only on success. */
static bool read_reg(const void *fdt, int parent, int node, struct fdt_range *r) {
    int ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent), len;
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
    if (!reg || ac < 1 || ac > 2 || sc < 0 || sc > 2 || len < 4 * (ac + sc))
        return false;
    uint64_t base = read_cells(reg, ac);
    uint64_t size = sc ? read_cells(reg + ac, sc) : 0;
    if (size > UINT64_MAX - base)
        return false;
    r->base = base;
    r->size = size;
    return true;
}

/* ---- the queries ---- */

static bool says_memory(const void *fdt, int node) {
    return prop_has_string(fdt, node, "device_type", "memory") || name_starts(fdt, node, "memory@");
}

static bool is_cpu(const void *fdt, int node) {
    return prop_has_string(fdt, node, "device_type", "cpu") || name_starts(fdt, node, "cpu@");
}

/* /cpus "timebase-frequency", else the first cpu node's; 0 if none says. */
static uint64_t read_timebase(const void *fdt) {
    int cpus = fdt_subnode_offset(fdt, 0, "cpus"), cpu;
    uint64_t hz = 0;
    if (cpus < 0 || prop_number(fdt, cpus, "timebase-frequency", &hz))
        return hz;
    fdt_for_each_subnode(cpu, fdt, cpus) {
        if (is_cpu(fdt, cpu) && prop_number(fdt, cpu, "timebase-frequency", &hz))
            return hz;
    }
    return 0;
}

/* The phandle of the boot hart's interrupt controller: the child of its cpu node that says
 * "interrupt-controller". */
static bool boot_intc_phandle(const void *fdt, uint32_t boot_hart, uint32_t *phandle) {
    int cpus = fdt_subnode_offset(fdt, 0, "cpus"), cpu, child;
    if (cpus < 0)
        return false;
    fdt_for_each_subnode(cpu, fdt, cpus) {
        struct fdt_range hart;
        if (!is_cpu(fdt, cpu) || !read_reg(fdt, cpus, cpu, &hart) || hart.base != boot_hart)
            continue;
        fdt_for_each_subnode(child, fdt, cpu) {
            if (fdt_getprop(fdt, child, "interrupt-controller", NULL) &&
                prop_u32(fdt, child, "phandle", phandle))
                return true;
        }
    }
    return false;
}

/* The index of the (phandle, cause) pair in the PLIC's interrupts-extended that is the boot
 * hart's S-mode external interrupt: that index is the PLIC context to program. */
static int plic_s_context(const void *fdt, int plic, uint32_t boot_hart) {
    uint32_t intc;
    int len;
    const fdt32_t *ext = fdt_getprop(fdt, plic, "interrupts-extended", &len);
    if (!ext || !boot_intc_phandle(fdt, boot_hart, &intc))
        return -1;
    for (int i = 0; i < len / 8; i++) {
        if (fdt32_ld(ext + 2 * i) == intc && fdt32_ld(ext + 2 * i + 1) == IRQ_S_EXTERNAL)
            return i;
    }
    return -1;
}

/* What one walk of the tree is filling, and for which hart. */
struct walk {
    const void *fdt;
    uint32_t boot_hart;
    struct boot_info *out;
};

static bool wants_memory(const struct boot_info *out) { return out->mem.size == 0; }
static bool wants_uart(const struct boot_info *out) { return !out->has_uart; }
static bool wants_plic(const struct boot_info *out) { return !out->has_plic; }
static bool wants_test_dev(const struct boot_info *out) { return !out->has_test_dev; }
static bool wants_rtc(const struct boot_info *out) { return !out->has_rtc; }
static bool wants_virtio(const struct boot_info *out) { return out->nvirtio < FDT_MAX_VIRTIO; }

/* Each takes a node of its kind whose reg is usable. */
static void take_memory(const struct walk *w, int node, const struct fdt_range *reg) {
    (void)node;
    if (reg->size != 0) /* an empty bank is not memory: the walk goes on looking */
        w->out->mem = *reg;
}

static void take_uart(const struct walk *w, int node, const struct fdt_range *reg) {
    w->out->has_uart = 1;
    w->out->uart = *reg;
    prop_u32(w->fdt, node, "interrupts", &w->out->uart_irq);
}

static void take_plic(const struct walk *w, int node, const struct fdt_range *reg) {
    w->out->has_plic = 1;
    w->out->plic = *reg;
    prop_u32(w->fdt, node, "riscv,ndev", &w->out->plic_ndev);
    w->out->plic_s_context = plic_s_context(w->fdt, node, w->boot_hart);
}

static void take_test_dev(const struct walk *w, int node, const struct fdt_range *reg) {
    (void)node;
    w->out->has_test_dev = 1;
    w->out->test_dev = *reg;
}

static void take_rtc(const struct walk *w, int node, const struct fdt_range *reg) {
    (void)node;
    w->out->has_rtc = 1;
    w->out->rtc = *reg;
}

static void take_virtio(const struct walk *w, int node, const struct fdt_range *reg) {
    struct fdt_virtio *v = &w->out->virtio[w->out->nvirtio++];
    v->reg = *reg;
    prop_u32(w->fdt, node, "interrupts", &v->irq);
}

/* What the kernel looks for in the tree: a node is one if it is compatible with any of
 * `compatible` (or, for memory, says so), its reg is usable (the kernel must never probe a
 * made-up address); the first such node in blob order counts (virtio:
 * each, up to FDT_MAX_VIRTIO). */
static const struct device_kind {
    const char *const *compatible; /* NULL: says_memory decides */
    bool (*wants)(const struct boot_info *out);
    void (*take)(const struct walk *w, int node, const struct fdt_range *reg);
} device_kinds[] = {
    {NULL, wants_memory, take_memory},
    {uart_compatible, wants_uart, take_uart},
    {plic_compatible, wants_plic, take_plic},
    {test_dev_compatible, wants_test_dev, take_test_dev},
    {rtc_compatible, wants_rtc, take_rtc},
    {virtio_compatible, wants_virtio, take_virtio},
};

static bool is_kind(const void *fdt, int node, const char *compat, int compat_len,
                    const struct device_kind *k) {
    if (!k->compatible)
        return says_memory(fdt, node);
    for (const char *const *name = k->compatible; compat && *name; name++)
        if (fdt_stringlist_contains(compat, compat_len, *name))
            return true;
    return false;
}

/* One walk over every node: each libfdt lookup walks the tree from its start (a query per
 * device, and fdt_parent_offset per match, were ~4 M guest instructions of every boot), so the
 * walk keeps each depth's open node as the parent a reg is read against, and reads each node's
 * compatible list once. check_shape bounded the depth. */
static void read_devices(const struct walk *w) {
    int parents[FDT_MAX_DEPTH], depth = 0;
    parents[0] = 0;
    for (int node = fdt_next_node(w->fdt, 0, &depth); node >= 0 && depth > 0 && depth < FDT_MAX_DEPTH;
         node = fdt_next_node(w->fdt, node, &depth)) {
        parents[depth] = node;
        int compat_len;
        const char *compat = fdt_getprop(w->fdt, node, "compatible", &compat_len);
        for (size_t i = 0; i < sizeof device_kinds / sizeof device_kinds[0]; i++) {
            const struct device_kind *k = &device_kinds[i];
            struct fdt_range reg;
            if (k->wants(w->out) && is_kind(w->fdt, node, compat, compat_len, k) &&
                read_reg(w->fdt, parents[depth - 1], node, &reg))
                k->take(w, node, &reg);
        }
    }
}

/* bootargs up to the first NUL (or the whole value if it has none), truncated to fit; the
 * initrd only if both bounds are there and enclose at least a byte. */
static void read_chosen(const void *fdt, struct boot_info *out) {
    int chosen = fdt_subnode_offset(fdt, 0, "chosen"), len;
    uint64_t start, end;
    if (chosen < 0)
        return;
    const char *args = fdt_getprop(fdt, chosen, "bootargs", &len);
    if (args) {
        size_t n = strnlen(args, (size_t)len);
        if (n > FDT_BOOTARGS_MAX - 1)
            n = FDT_BOOTARGS_MAX - 1;
        memcpy(out->bootargs, args, n);
        out->bootargs[n] = '\0';
    }
    if (prop_number(fdt, chosen, "linux,initrd-start", &start) &&
        prop_number(fdt, chosen, "linux,initrd-end", &end) && end > start) {
        out->has_initrd = 1;
        out->initrd = (struct fdt_range){start, end - start};
    }
}

/* What firmware keeps for itself: each child of /reserved-memory with a usable reg (OpenSBI
 * adds one for the RAM its PMP protects). The kernel gives pages below itself to the page pool
 * only outside these. */
static void read_reserved(const void *fdt, struct boot_info *out) {
    int parent = fdt_subnode_offset(fdt, 0, "reserved-memory"), node;
    if (parent < 0)
        return;
    fdt_for_each_subnode(node, fdt, parent) {
        struct fdt_range r;
        if (!read_reg(fdt, parent, node, &r) || r.size == 0)
            continue;
        if (out->nreserved == FDT_MAX_RESERVED) {
            out->reserved_overflow = 1;
            return;
        }
        out->reserved[out->nreserved++] = r;
    }
}

int boot_fdt_parse(const void *blob, size_t max_len, uint32_t boot_hart, struct boot_info *out) {
    memset(out, 0, sizeof *out);
    out->plic_s_context = -1;
    int err = check_blob(blob, max_len);
    if (err != BOOT_FDT_OK)
        return err;
    read_devices(&(struct walk){blob, boot_hart, out});
    if (out->mem.size == 0)
        return BOOT_FDT_NO_MEMORY;
    out->timebase_hz = read_timebase(blob);
    read_chosen(blob, out);
    read_reserved(blob, out);
    return BOOT_FDT_OK;
}

uint32_t boot_fdt_total_size(const void *blob) {
    return fdt_magic(blob) == FDT_MAGIC ? fdt_totalsize(blob) : 0;
}

static const char *const error_text[] = {
    [-BOOT_FDT_OK] = "ok",
    [-BOOT_FDT_TRUNCATED] = "device tree truncated",
    [-BOOT_FDT_BAD_MAGIC] = "bad device tree magic",
    [-BOOT_FDT_BAD_VERSION] = "unsupported device tree version",
    [-BOOT_FDT_BAD_STRUCTURE] = "malformed device tree structure",
    [-BOOT_FDT_NO_MEMORY] = "no usable memory node in device tree",
    [-BOOT_FDT_MISALIGNED] = "device tree not 8-byte aligned",
};

const char *boot_fdt_strerror(int err) {
    if (err > 0 || err <= -(int)(sizeof error_text / sizeof error_text[0]))
        return "unknown error";
    return error_text[-err];
}
