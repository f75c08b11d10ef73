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

/* ---- one walk over the checked tree ---- */

/* A property the walk keeps: where its value is and how long; val is NULL when the node has no
 * such property (an empty one, like "interrupt-controller", has a value of length 0). */
struct prop {
    const void *val;
    int len;
};

/* What one node said. Its properties come before its subnodes (check_shape), so a node is
 * judged, once, when its first subnode or its end comes; a child is judged after its parent. */
struct node {
    const char *name; /* "" for the root */
    bool judged;
    bool is_cpus, is_reserved; /* the first /cpus, /reserved-memory */
    bool boot_cpu;                        /* a cpu node under that /cpus whose reg is the boot hart */
    struct prop compatible, reg, interrupts, device_type, address_cells, size_cells, ndev,
        interrupts_extended, phandle, interrupt_controller, timebase, bootargs, initrd_start,
        initrd_end;
};

/* The properties kept, by name; a node's first property of a name counts, as with fdt_getprop. */
static const struct {
    const char *name;
    size_t field;
} kept_props[] = {
    {"compatible", offsetof(struct node, compatible)},
    {"reg", offsetof(struct node, reg)},
    {"interrupts", offsetof(struct node, interrupts)},
    {"device_type", offsetof(struct node, device_type)},
    {"#address-cells", offsetof(struct node, address_cells)},
    {"#size-cells", offsetof(struct node, size_cells)},
    {"riscv,ndev", offsetof(struct node, ndev)},
    {"interrupts-extended", offsetof(struct node, interrupts_extended)},
    {"phandle", offsetof(struct node, phandle)},
    {"interrupt-controller", offsetof(struct node, interrupt_controller)},
    {"timebase-frequency", offsetof(struct node, timebase)},
    {"bootargs", offsetof(struct node, bootargs)},
    {"linux,initrd-start", offsetof(struct node, initrd_start)},
    {"linux,initrd-end", offsetof(struct node, initrd_end)},
};

static void keep_prop(struct node *n, const char *name, const void *val, int len) {
    for (size_t i = 0; i < sizeof kept_props / sizeof kept_props[0]; i++) {
        if (strcmp(name, kept_props[i].name) != 0)
            continue;
        struct prop *p = (struct prop *)((char *)n + kept_props[i].field);
        if (!p->val)
            *p = (struct prop){val, len};
        return;
    }
}

/* The first cell of a property of at least one cell. *v is written only on success. */
static bool prop_u32(struct prop p, uint32_t *v) {
    if (!p.val || p.len < 4)
        return false;
    *v = fdt32_ld(p.val);
    return true;
}

/* A 1- or 2-cell big-endian number. */
static uint64_t read_cells(const fdt32_t *p, int cells) {
    return cells == 2 ? (uint64_t)fdt32_ld(p) << 32 | fdt32_ld(p + 1) : fdt32_ld(p);
}

/* A property of exactly one or two cells (timebase-frequency, initrd bounds). */
static bool prop_number(struct prop p, uint64_t *v) {
    if (!p.val || (p.len != 4 && p.len != 8))
        return false;
    *v = read_cells(p.val, p.len / 4);
    return true;
}

static bool prop_has_string(struct prop p, const char *s) {
    return p.val && fdt_stringlist_contains(p.val, p.len, s);
}

static bool name_starts(const struct node *n, const char *prefix) {
    return strncmp(n->name, prefix, strlen(prefix)) == 0;
}

/* libfdt's rule for finding a subnode by name: "cpus" is also "cpus@anything". */
static bool name_is(const struct node *n, const char *s) {
    size_t len = strlen(s);
    return strncmp(n->name, s, len) == 0 && (n->name[len] == '\0' || n->name[len] == '@');
}

/* A node's "#address-cells" and "#size-cells" for its children, with libfdt's defaults (2
 * and 1) when absent; -1 when present but not one cell. */
static int cells(struct prop p, int absent) {
    if (!p.val)
        return absent;
    if (p.len != 4)
        return -1;
    uint32_t v = fdt32_ld(p.val);
    return v <= 4 ? (int)v : -1; /* libfdt's FDT_MAX_NCELLS */
}

/* First (address, size) pair of `n`'s "reg", encoded with its parent's cell counts. Only 1
 * or 2 address cells and 0..2 size cells are understood (0 is normal under /cpus); a range
 * whose end does not fit in 64 bits is refused. *r is written only on success. */
static bool read_reg(const struct node *parent, const struct node *n, struct fdt_range *r) {
    int ac = cells(parent->address_cells, 2), sc = cells(parent->size_cells, 1);
    const fdt32_t *reg = n->reg.val;
    if (!reg || ac < 1 || ac > 2 || sc < 0 || sc > 2 || n->reg.len < 4 * (ac + sc))
        return false;
    uint64_t base = read_cells(reg, ac);
    uint64_t size = sc ? read_cells(reg + ac, sc) : 0;
    if (size > UINT64_MAX - base)
        return false;
    r->base = base;
    r->size = size;
    return true;
}

static bool says_memory(const struct node *n) {
    return prop_has_string(n->device_type, "memory") || name_starts(n, "memory@");
}

static bool is_cpu(const struct node *n) {
    return prop_has_string(n->device_type, "cpu") || name_starts(n, "cpu@");
}

/* What the walk fills, for which hart, and what it can only finish at the end: the PLIC's
 * context needs the boot hart's interrupt controller, which may come later in the blob. */
struct walk {
    uint32_t boot_hart;
    struct boot_info *out;
    bool seen_cpus, seen_chosen, seen_reserved;
    bool has_cpus_timebase, has_cpu_timebase, has_intc;
    uint64_t cpus_timebase, cpu_timebase; /* /cpus's own; the first cpu node's */
    uint32_t intc_phandle;                /* the boot hart's interrupt controller */
    struct prop plic_ext;                 /* the taken PLIC's interrupts-extended */
};

static bool wants_memory(const struct boot_info *out) { return out->mem.size == 0; }
static bool wants_uart(const struct boot_info *out) { return !out->has_uart; }
static bool wants_plic(const struct boot_info *out) { return !out->has_plic; }
static bool wants_test_dev(const struct boot_info *out) { return !out->has_test_dev; }
static bool wants_rtc(const struct boot_info *out) { return !out->has_rtc; }
static bool wants_virtio(const struct boot_info *out) { return out->nvirtio < FDT_MAX_VIRTIO; }

/* Each takes a node of its kind whose reg is usable. */
static void take_memory(struct walk *w, const struct node *n, const struct fdt_range *reg) {
    (void)n;
    if (reg->size != 0) /* an empty bank is not memory: the walk goes on looking */
        w->out->mem = *reg;
}

static void take_uart(struct walk *w, const struct node *n, const struct fdt_range *reg) {
    w->out->has_uart = 1;
    w->out->uart = *reg;
    prop_u32(n->interrupts, &w->out->uart_irq);
}

static void take_plic(struct walk *w, const struct node *n, const struct fdt_range *reg) {
    w->out->has_plic = 1;
    w->out->plic = *reg;
    prop_u32(n->ndev, &w->out->plic_ndev);
    w->plic_ext = n->interrupts_extended;
}

static void take_test_dev(struct walk *w, const struct node *n, const struct fdt_range *reg) {
    (void)n;
    w->out->has_test_dev = 1;
    w->out->test_dev = *reg;
}

static void take_rtc(struct walk *w, const struct node *n, const struct fdt_range *reg) {
    (void)n;
    w->out->has_rtc = 1;
    w->out->rtc = *reg;
}

static void take_virtio(struct walk *w, const struct node *n, const struct fdt_range *reg) {
    struct fdt_virtio *v = &w->out->virtio[w->out->nvirtio++];
    v->reg = *reg;
    prop_u32(n->interrupts, &v->irq);
}

/* What the kernel looks for in the tree: a node is one if it is compatible with any of
 * `compatible` (or, for memory, says so), its reg is usable (the kernel must never probe a
 * made-up address); the first such node in blob order counts (virtio:
 * each, up to FDT_MAX_VIRTIO). */
static const struct device_kind {
    const char *const *compatible; /* NULL: says_memory decides */
    bool (*wants)(const struct boot_info *out);
    void (*take)(struct walk *w, const struct node *n, const struct fdt_range *reg);
} device_kinds[] = {
    {NULL, wants_memory, take_memory},
    {uart_compatible, wants_uart, take_uart},
    {plic_compatible, wants_plic, take_plic},
    {test_dev_compatible, wants_test_dev, take_test_dev},
    {rtc_compatible, wants_rtc, take_rtc},
    {virtio_compatible, wants_virtio, take_virtio},
};

static bool is_kind(const struct node *n, const struct device_kind *k) {
    if (!k->compatible)
        return says_memory(n);
    for (const char *const *name = k->compatible; n->compatible.val && *name; name++)
        if (fdt_stringlist_contains(n->compatible.val, n->compatible.len, *name))
            return true;
    return false;
}

static void read_devices(struct walk *w, const struct node *parent, const struct node *n) {
    for (size_t i = 0; i < sizeof device_kinds / sizeof device_kinds[0]; i++) {
        const struct device_kind *k = &device_kinds[i];
        struct fdt_range reg;
        if (k->wants(w->out) && is_kind(n, k) && read_reg(parent, n, &reg))
            k->take(w, n, &reg);
    }
}

/* bootargs up to the first NUL (or the whole value if it has none), truncated to fit; the
 * initrd only if both bounds are there and enclose at least a byte. */
static void read_chosen(struct boot_info *out, const struct node *chosen) {
    uint64_t start, end;
    if (chosen->bootargs.val) {
        size_t n = strnlen(chosen->bootargs.val, (size_t)chosen->bootargs.len);
        if (n > FDT_BOOTARGS_MAX - 1)
            n = FDT_BOOTARGS_MAX - 1;
        memcpy(out->bootargs, chosen->bootargs.val, n);
        out->bootargs[n] = '\0';
    }
    if (prop_number(chosen->initrd_start, &start) && prop_number(chosen->initrd_end, &end) && end > start) {
        out->has_initrd = 1;
        out->initrd = (struct fdt_range){start, end - start};
    }
}

/* What firmware keeps for itself: each child of /reserved-memory with a usable reg (OpenSBI
 * adds one for the RAM its PMP protects). The kernel gives pages below itself to the page pool
 * only outside these. */
static void read_reserved(struct boot_info *out, const struct node *parent, const struct node *n) {
    struct fdt_range r;
    if (out->reserved_overflow || !read_reg(parent, n, &r) || r.size == 0)
        return;
    if (out->nreserved == FDT_MAX_RESERVED)
        out->reserved_overflow = 1;
    else
        out->reserved[out->nreserved++] = r;
}

/* The boot hart's cpu node (under /cpus, reg = the hart id), its timebase, and its interrupt
 * controller: its first child that says "interrupt-controller" and has a phandle. */
static void read_cpu(struct walk *w, const struct node *cpus, struct node *cpu) {
    struct fdt_range hart;
    if (!is_cpu(cpu))
        return;
    if (!w->has_cpu_timebase && prop_number(cpu->timebase, &w->cpu_timebase))
        w->has_cpu_timebase = true;
    cpu->boot_cpu = read_reg(cpus, cpu, &hart) && hart.base == w->boot_hart;
}

static void judge(struct walk *w, struct node *stack, int depth) {
    struct node *n = &stack[depth];
    if (n->judged || depth == 0)
        return;
    n->judged = true;
    struct node *parent = &stack[depth - 1];
    read_devices(w, parent, n);
    if (depth == 1) {
        if (!w->seen_cpus && name_is(n, "cpus")) {
            w->seen_cpus = n->is_cpus = true;
            w->has_cpus_timebase = prop_number(n->timebase, &w->cpus_timebase);
        } else if (!w->seen_chosen && name_is(n, "chosen")) {
            w->seen_chosen = true;
            read_chosen(w->out, n);
        } else if (!w->seen_reserved && name_is(n, "reserved-memory")) {
            w->seen_reserved = n->is_reserved = true;
        }
    } else if (depth == 2 && parent->is_cpus) {
        read_cpu(w, parent, n);
    } else if (depth == 2 && parent->is_reserved) {
        read_reserved(w->out, parent, n);
    } else if (depth == 3 && parent->boot_cpu && !w->has_intc && n->interrupt_controller.val &&
               prop_u32(n->phandle, &w->intc_phandle)) {
        w->has_intc = true;
    }
}

/* The index of the (phandle, cause) pair in the PLIC's interrupts-extended that is the boot
 * hart's S-mode external interrupt: that index is the PLIC context to program. */
static int plic_s_context(const struct walk *w) {
    const fdt32_t *ext = w->plic_ext.val;
    if (!ext || !w->has_intc)
        return -1;
    for (int i = 0; i < w->plic_ext.len / 8; i++) {
        if (fdt32_ld(ext + 2 * i) == w->intc_phandle && fdt32_ld(ext + 2 * i + 1) == IRQ_S_EXTERNAL)
            return i;
    }
    return -1;
}

/* One walk over every tag: each libfdt lookup walks the tree from its start, and a property
 * lookup rescans its node's name, so querying node by node cost ~0.9 M guest instructions of
 * every boot (make bench's boot profile); the walk keeps, per open node, the properties the
 * queries need. check_blob bounded the depth and checked every offset and string. */
static void walk_tree(const void *fdt, struct walk *w) {
    struct node stack[FDT_MAX_DEPTH];
    int depth = -1, offset = 0, next;
    for (;;) {
        uint32_t tag = fdt_next_tag(fdt, offset, &next);
        if (next < 0 || tag == FDT_END)
            break;
        if (tag == FDT_BEGIN_NODE) {
            if (depth >= 0)
                judge(w, stack, depth);
            if (++depth == FDT_MAX_DEPTH)
                break;
            /* The name follows the tag; check_full found it NUL-terminated in the block. */
            const char *name = fdt_offset_ptr(fdt, offset + FDT_TAGSIZE, 1);
            stack[depth] = (struct node){.name = name ? name : ""};
        } else if (tag == FDT_END_NODE && depth >= 0) {
            judge(w, stack, depth);
            depth--;
        } else if (tag == FDT_PROP && depth >= 0) {
            /* fdt_next_tag bounded the value by its length; the name is checked here. */
            const struct fdt_property *prop = fdt_offset_ptr(fdt, offset, sizeof *prop);
            const char *name = prop ? fdt_get_string(fdt, (int)fdt32_ld(&prop->nameoff), NULL) : NULL;
            if (name)
                keep_prop(&stack[depth], name, prop->data, (int)fdt32_ld(&prop->len));
        }
        offset = next;
    }
}

int boot_fdt_parse(const void *blob, size_t max_len, uint32_t boot_hart, struct boot_info *out) {
    memset(out, 0, sizeof *out);
    out->plic_s_context = -1;
    int err = check_blob(blob, max_len);
    if (err != BOOT_FDT_OK)
        return err;
    struct walk w = {.boot_hart = boot_hart, .out = out};
    walk_tree(blob, &w);
    if (out->mem.size == 0)
        return BOOT_FDT_NO_MEMORY;
    if (out->has_plic)
        out->plic_s_context = plic_s_context(&w);
    out->timebase_hz = w.has_cpus_timebase ? w.cpus_timebase : w.has_cpu_timebase ? w.cpu_timebase : 0;
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
