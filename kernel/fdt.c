/*
 * Flattened device tree reader, written from the Devicetree Specification (v0.4, chapter 5).
 *
 * One pass over the structure block. The spec requires a node's properties to precede its
 * subnodes, so a node's properties are complete when its first child begins or when it ends;
 * only then is the node interpreted ("finished"). That lets us keep the properties of just one
 * node at a time, plus a small fixed stack of per-depth facts (#address-cells/#size-cells and
 * what kind of node it is), instead of recursing or buffering the tree.
 *
 * Everything read from the blob is untrusted: every offset and length is checked against the
 * block that contains it before use, and arithmetic on them is done in 64 bits.
 */
#include "fdt.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FDT_MAGIC       0xd00dfeedu
#define FDT_HEADER_SIZE 40u /* the v17 header; v16 lacks only the last field */
#define FDT_MAX_DEPTH   16  /* nodes nested deeper than this (root = 1) are rejected */
#define IRQ_S_EXTERNAL  9u  /* RISC-V interrupt cause: supervisor external interrupt */

enum fdt_token {
    FDT_BEGIN_NODE = 1,
    FDT_END_NODE = 2,
    FDT_PROP = 3,
    FDT_NOP = 4,
    FDT_END = 9,
};

/* The properties we look at; anything else is skipped. */
enum prop_slot {
    P_REG,
    P_COMPATIBLE,
    P_DEVICE_TYPE,
    P_INTERRUPTS,
    P_INTERRUPTS_EXT,
    P_NDEV,
    P_TIMEBASE,
    P_BOOTARGS,
    P_PHANDLE,
    P_ADDR_CELLS,
    P_SIZE_CELLS,
    P_INTC,
    P_COUNT
};

static const char *const prop_names[P_COUNT] = {
    [P_REG] = "reg",
    [P_COMPATIBLE] = "compatible",
    [P_DEVICE_TYPE] = "device_type",
    [P_INTERRUPTS] = "interrupts",
    [P_INTERRUPTS_EXT] = "interrupts-extended",
    [P_NDEV] = "riscv,ndev",
    [P_TIMEBASE] = "timebase-frequency",
    [P_BOOTARGS] = "bootargs",
    [P_PHANDLE] = "phandle",
    [P_ADDR_CELLS] = "#address-cells",
    [P_SIZE_CELLS] = "#size-cells",
    [P_INTC] = "interrupt-controller",
};

/* A property value inside the blob; data == NULL means absent (empty properties are not). */
struct prop {
    const uint8_t *data;
    uint32_t len;
};

enum node_kind { NODE_OTHER, NODE_CPUS, NODE_CPU, NODE_BOOT_CPU, NODE_CHOSEN };

/* What children need to know about an open node. */
struct frame {
    uint32_t addr_cells; /* how the children's "reg" is encoded */
    uint32_t size_cells;
    enum node_kind kind;
};

/* Where timebase_hz came from: /cpus overrides a cpu node, never the reverse. */
enum timebase_src { TB_NONE, TB_CPU, TB_CPUS };

struct walker {
    const uint8_t *st; /* structure block */
    uint64_t st_size;
    uint64_t pos;      /* next token, always 4-aligned and <= st_size */
    const uint8_t *strings;
    uint64_t strings_size;

    uint32_t boot_hart;
    struct boot_info *out;

    struct frame stack[FDT_MAX_DEPTH];
    int depth;
    int root_done;

    const char *name; /* the newest node, while its properties are still being collected */
    struct prop props[P_COUNT];
    int collecting;

    enum timebase_src timebase_src;
    int have_mem;
    int have_boot_intc;
    uint32_t boot_intc;  /* phandle of the boot hart's interrupt controller */
    struct prop plic_ext; /* the PLIC's interrupts-extended, resolved after the walk */
};

/* The root has no parent; give it the spec's defaults so every node has one. */
static const struct frame root_parent = {2, 1, NODE_OTHER};

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A 1- or 2-cell big-endian number. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells) {
    return cells == 2 ? (uint64_t)be32(p) << 32 | be32(p + 4) : be32(p);
}

static uint64_t align4(uint64_t n) {
    return (n + 3) & ~(uint64_t)3;
}

/* ---- property values ---- */

static int prop_u32(struct prop p, uint32_t *v) {
    if (!p.data || p.len < 4)
        return 0;
    *v = be32(p.data);
    return 1;
}

/* True if the string list `p` (NUL-separated; a missing final NUL is tolerated) contains s. */
static int prop_has_string(struct prop p, const char *s) {
    size_t want = strlen(s);
    const uint8_t *entry = p.data, *end = p.data ? p.data + p.len : NULL;
    while (entry < end) {
        const uint8_t *nul = memchr(entry, 0, (size_t)(end - entry));
        size_t n = nul ? (size_t)(nul - entry) : (size_t)(end - entry);
        if (n == want && memcmp(entry, s, n) == 0)
            return 1;
        if (!nul)
            break;
        entry = nul + 1;
    }
    return 0;
}

/* First (address, size) pair of a "reg" encoded with the parent's cell counts. Only 1 or 2
 * address cells and 0..2 size cells are understood (0 is normal under /cpus); a range whose
 * end does not fit in 64 bits is refused. *r is written only on success. */
static int decode_reg(struct prop reg, const struct frame *parent, struct fdt_range *r) {
    uint32_t ac = parent->addr_cells, sc = parent->size_cells;
    if (!reg.data || ac < 1 || ac > 2 || sc > 2 || reg.len < 4 * (ac + sc))
        return 0;
    uint64_t base = read_cells(reg.data, ac);
    uint64_t size = sc ? read_cells(reg.data + 4 * ac, sc) : 0;
    if (size > UINT64_MAX - base)
        return 0;
    r->base = base;
    r->size = size;
    return 1;
}

/* ---- interpreting one node once its properties are complete ---- */

static enum node_kind node_kind(const struct walker *w, const struct frame *parent) {
    struct prop dtype = w->props[P_DEVICE_TYPE];
    if (w->depth == 2 && strcmp(w->name, "cpus") == 0)
        return NODE_CPUS;
    if (w->depth == 2 && strcmp(w->name, "chosen") == 0)
        return NODE_CHOSEN;
    if (parent->kind != NODE_CPUS)
        return NODE_OTHER;
    if (!prop_has_string(dtype, "cpu") && strncmp(w->name, "cpu@", 4) != 0)
        return NODE_OTHER; /* e.g. /cpus/cpu-map */
    struct fdt_range hart;
    if (decode_reg(w->props[P_REG], parent, &hart) && hart.base == w->boot_hart)
        return NODE_BOOT_CPU;
    return NODE_CPU;
}

static void note_cells(struct walker *w, struct frame *self) {
    uint32_t v;
    if (prop_u32(w->props[P_ADDR_CELLS], &v))
        self->addr_cells = v;
    if (prop_u32(w->props[P_SIZE_CELLS], &v))
        self->size_cells = v;
}

static void note_timebase(struct walker *w, enum node_kind kind) {
    struct prop tb = w->props[P_TIMEBASE];
    enum timebase_src src = kind == NODE_CPUS ? TB_CPUS : TB_CPU;
    if (kind != NODE_CPUS && kind != NODE_CPU && kind != NODE_BOOT_CPU)
        return;
    if (!tb.data || (tb.len != 4 && tb.len != 8) || w->timebase_src >= src)
        return;
    w->out->timebase_hz = read_cells(tb.data, tb.len / 4);
    w->timebase_src = src;
}

/* The boot hart's interrupt controller is the child of its cpu node that says so. */
static void note_boot_intc(struct walker *w, const struct frame *parent) {
    if (parent->kind != NODE_BOOT_CPU || w->have_boot_intc || !w->props[P_INTC].data)
        return;
    w->have_boot_intc = prop_u32(w->props[P_PHANDLE], &w->boot_intc);
}

static void note_memory(struct walker *w, const struct frame *parent) {
    struct fdt_range r;
    int is_memory = prop_has_string(w->props[P_DEVICE_TYPE], "memory") ||
                    strncmp(w->name, "memory@", 7) == 0;
    if (w->have_mem || !is_memory || !decode_reg(w->props[P_REG], parent, &r) || r.size == 0)
        return;
    w->out->mem = r;
    w->have_mem = 1;
}

/* Devices are recorded only with a usable reg: the kernel must never probe a made-up address.
 * The first match of each kind wins. */
static void note_devices(struct walker *w, const struct frame *parent) {
    struct boot_info *out = w->out;
    struct prop compat = w->props[P_COMPATIBLE], reg = w->props[P_REG];
    if (!compat.data)
        return;
    if (!out->has_uart && prop_has_string(compat, "ns16550a") &&
        decode_reg(reg, parent, &out->uart)) {
        out->has_uart = 1;
        prop_u32(w->props[P_INTERRUPTS], &out->uart_irq);
    }
    if (!out->has_plic &&
        (prop_has_string(compat, "riscv,plic0") || prop_has_string(compat, "sifive,plic-1.0.0")) &&
        decode_reg(reg, parent, &out->plic)) {
        out->has_plic = 1;
        prop_u32(w->props[P_NDEV], &out->plic_ndev);
        w->plic_ext = w->props[P_INTERRUPTS_EXT];
    }
    if (!out->has_test_dev && prop_has_string(compat, "sifive,test0") &&
        decode_reg(reg, parent, &out->test_dev))
        out->has_test_dev = 1;
    if (out->nvirtio < FDT_MAX_VIRTIO && prop_has_string(compat, "virtio,mmio") &&
        decode_reg(reg, parent, &out->virtio[out->nvirtio].reg)) {
        prop_u32(w->props[P_INTERRUPTS], &out->virtio[out->nvirtio].irq);
        out->nvirtio++;
    }
}

/* Copies up to the first NUL (or the whole value if it has none), truncating to fit. */
static void note_bootargs(struct walker *w) {
    struct prop p = w->props[P_BOOTARGS];
    if (!p.data)
        return;
    const uint8_t *nul = memchr(p.data, 0, p.len);
    size_t n = nul ? (size_t)(nul - p.data) : p.len;
    if (n > FDT_BOOTARGS_MAX - 1)
        n = FDT_BOOTARGS_MAX - 1;
    memcpy(w->out->bootargs, p.data, n);
    w->out->bootargs[n] = '\0';
}

static void finish_node(struct walker *w) {
    struct frame *self = &w->stack[w->depth - 1];
    const struct frame *parent = w->depth >= 2 ? &w->stack[w->depth - 2] : &root_parent;
    w->collecting = 0;
    note_cells(w, self);
    self->kind = node_kind(w, parent);
    note_timebase(w, self->kind);
    note_boot_intc(w, parent);
    note_memory(w, parent);
    note_devices(w, parent);
    if (self->kind == NODE_CHOSEN)
        note_bootargs(w);
}

/* ---- structure block ---- */

/* Advances past n bytes plus padding to the next token; 0 if the block ends first. */
static int skip(struct walker *w, uint64_t n) {
    uint64_t padded = align4(n);
    if (padded > w->st_size - w->pos)
        return 0;
    w->pos += padded;
    return 1;
}

static int take_u32(struct walker *w, uint32_t *v) {
    if (w->st_size - w->pos < 4)
        return 0;
    *v = be32(w->st + w->pos);
    w->pos += 4;
    return 1;
}

/* A property name: an offset into the strings block, NUL-terminated inside it. */
static const char *string_at(const struct walker *w, uint32_t off) {
    if (off >= w->strings_size)
        return NULL;
    const char *s = (const char *)w->strings + off;
    return memchr(s, 0, w->strings_size - off) ? s : NULL;
}

static int begin_node(struct walker *w) {
    if (w->root_done || w->depth == FDT_MAX_DEPTH)
        return FDT_ERR_STRUCTURE; /* a second root, or nested too deep */
    const char *name = (const char *)w->st + w->pos;
    const char *nul = memchr(name, 0, w->st_size - w->pos);
    if (!nul)
        return FDT_ERR_STRUCTURE;
    if (!skip(w, (uint64_t)(nul - name) + 1))
        return FDT_ERR_TRUNCATED;
    if (w->collecting)
        finish_node(w); /* the parent's properties are complete */
    w->stack[w->depth] = root_parent;
    w->depth++;
    w->name = name;
    memset(w->props, 0, sizeof w->props);
    w->collecting = 1;
    return FDT_OK;
}

static int property(struct walker *w) {
    uint32_t len, nameoff;
    if (!w->collecting)
        return FDT_ERR_STRUCTURE; /* outside any node, or after a subnode */
    if (!take_u32(w, &len) || !take_u32(w, &nameoff))
        return FDT_ERR_TRUNCATED;
    if (len > w->st_size - w->pos)
        return FDT_ERR_STRUCTURE;
    const char *name = string_at(w, nameoff);
    if (!name)
        return FDT_ERR_STRUCTURE;
    for (int i = 0; i < P_COUNT; i++) {
        if (strcmp(name, prop_names[i]) == 0) {
            w->props[i] = (struct prop){w->st + w->pos, len};
            break;
        }
    }
    return skip(w, len) ? FDT_OK : FDT_ERR_TRUNCATED;
}

static int end_node(struct walker *w) {
    if (w->depth == 0)
        return FDT_ERR_STRUCTURE;
    if (w->collecting)
        finish_node(w);
    w->depth--;
    w->root_done = w->depth == 0;
    return FDT_OK;
}

/* Each iteration consumes at least one 4-byte token, so the loop is bounded by the block. */
static int walk(struct walker *w) {
    for (;;) {
        uint32_t token;
        int err;
        if (!take_u32(w, &token))
            return FDT_ERR_TRUNCATED;
        switch (token) {
        case FDT_BEGIN_NODE: err = begin_node(w); break;
        case FDT_END_NODE: err = end_node(w); break;
        case FDT_PROP: err = property(w); break;
        case FDT_NOP: err = FDT_OK; break;
        case FDT_END: return w->root_done ? FDT_OK : FDT_ERR_STRUCTURE;
        default: return FDT_ERR_STRUCTURE;
        }
        if (err != FDT_OK)
            return err;
    }
}

/* The context whose (phandle, cause) pair is the boot hart's S-mode external interrupt. */
static int plic_s_context(const struct walker *w) {
    struct prop ext = w->plic_ext;
    if (!w->have_boot_intc || !ext.data)
        return -1;
    for (uint32_t i = 0; i < ext.len / 8; i++) {
        if (be32(ext.data + 8 * i) == w->boot_intc && be32(ext.data + 8 * i + 4) == IRQ_S_EXTERNAL)
            return (int)i;
    }
    return -1;
}

/* ---- header ---- */

/* A block [off, off + size) must start inside the blob and end inside it. */
static int locate_block(const uint8_t *b, uint32_t total, uint32_t off, uint32_t size,
                        const uint8_t **start) {
    if (off > total)
        return FDT_ERR_STRUCTURE;
    if (size > total - off)
        return FDT_ERR_TRUNCATED;
    *start = b + off;
    return FDT_OK;
}

static int read_header(const uint8_t *b, size_t max_len, struct walker *w) {
    if (!b || max_len < 4)
        return FDT_ERR_TRUNCATED;
    if (be32(b) != FDT_MAGIC)
        return FDT_ERR_MAGIC;
    if (max_len < FDT_HEADER_SIZE)
        return FDT_ERR_TRUNCATED;
    uint32_t total = be32(b + 4), off_struct = be32(b + 8), off_strings = be32(b + 12);
    uint32_t version = be32(b + 20), last_comp = be32(b + 24), size_strings = be32(b + 32);
    if (total < FDT_HEADER_SIZE || total > max_len)
        return FDT_ERR_TRUNCATED;
    if (version < 16 || last_comp > 17)
        return FDT_ERR_VERSION;
    if (off_struct % 4 != 0 || off_struct > total)
        return FDT_ERR_STRUCTURE;
    /* v16 has no size_dt_struct: the structure block may run to the end of the blob. */
    uint32_t size_struct = version >= 17 ? be32(b + 36) : total - off_struct;
    int err = locate_block(b, total, off_struct, size_struct, &w->st);
    if (err == FDT_OK)
        err = locate_block(b, total, off_strings, size_strings, &w->strings);
    w->st_size = size_struct;
    w->strings_size = size_strings;
    return err;
}

int fdt_parse(const void *blob, size_t max_len, uint32_t boot_hart, struct boot_info *out) {
    struct walker w;
    memset(out, 0, sizeof *out);
    out->plic_s_context = -1;
    memset(&w, 0, sizeof w);
    w.boot_hart = boot_hart;
    w.out = out;
    int err = read_header(blob, max_len, &w);
    if (err == FDT_OK)
        err = walk(&w);
    if (err != FDT_OK)
        return err;
    out->plic_s_context = plic_s_context(&w);
    return w.have_mem ? FDT_OK : FDT_ERR_NOMEM;
}

uint32_t fdt_total_size(const void *blob) {
    const uint8_t *b = blob;
    return be32(b) == FDT_MAGIC ? be32(b + 4) : 0;
}

const char *fdt_strerror(int err) {
    switch (err) {
    case FDT_OK: return "ok";
    case FDT_ERR_TRUNCATED: return "device tree truncated";
    case FDT_ERR_MAGIC: return "bad device tree magic";
    case FDT_ERR_VERSION: return "unsupported device tree version";
    case FDT_ERR_STRUCTURE: return "malformed device tree structure";
    case FDT_ERR_NOMEM: return "no usable memory node in device tree";
    default: return "unknown error";
    }
}
