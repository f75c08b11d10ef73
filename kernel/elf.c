/*
 * ELF64 image checker. Every field is decoded byte by byte as little-endian, which needs no
 * alignment and gives the same answer on any host, so the host tests exercise exactly what the
 * kernel runs. Results are built in a local image and copied out only on success.
 */
#include "elf.h"

#include <string.h>

#define EHDR_SIZE 64u
#define PHDR_SIZE 56u
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)

#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_RISCV 243
#define PT_LOAD 1

/* Offsets of the fields we use inside the ELF64 header and program header. */
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_VERSION 20
#define EH_ENTRY 24
#define EH_PHOFF 32
#define EH_PHENTSIZE 54
#define EH_PHNUM 56
#define PH_TYPE 0
#define PH_FLAGS 4
#define PH_OFFSET 8
#define PH_VADDR 16
#define PH_FILESZ 32
#define PH_MEMSZ 40

/* Reads an n-byte little-endian field; callers have already bounds-checked p..p+n. */
static uint64_t read_le(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static int header_ok(const uint8_t *d) {
    return memcmp(d, "\177ELF", 4) == 0 && d[4] == ELFCLASS64 && d[5] == ELFDATA2LSB &&
           d[6] == EV_CURRENT && read_le(d + EH_VERSION, 4) == EV_CURRENT &&
           read_le(d + EH_TYPE, 2) == ET_EXEC && read_le(d + EH_MACHINE, 2) == EM_RISCV &&
           read_le(d + EH_PHENTSIZE, 2) == PHDR_SIZE;
}

static struct elf_segment read_segment(const uint8_t *ph) {
    struct elf_segment s;
    s.vaddr = read_le(ph + PH_VADDR, 8);
    s.memsz = read_le(ph + PH_MEMSZ, 8);
    s.offset = read_le(ph + PH_OFFSET, 8);
    s.filesz = read_le(ph + PH_FILESZ, 8);
    s.flags = (uint32_t)read_le(ph + PH_FLAGS, 4) & (ELF_SEG_R | ELF_SEG_W | ELF_SEG_X);
    return s;
}

/* Each comparison is arranged so that no sum can wrap around. */
static int segment_ok(const struct elf_segment *s, size_t len, uint64_t lo, uint64_t hi) {
    return s->filesz <= s->memsz && s->offset <= len && s->filesz <= len - s->offset &&
           s->memsz <= UINT64_MAX - s->vaddr && s->vaddr >= lo && s->vaddr + s->memsz <= hi &&
           s->vaddr % PAGE_SIZE == s->offset % PAGE_SIZE;
}

/* Collects the non-empty PT_LOAD segments of the program header table into img. */
static int collect_segments(const uint8_t *d, size_t len, uint64_t phoff, unsigned phnum,
                            uint64_t lo, uint64_t hi, struct elf_image *img) {
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (uint64_t)i * PHDR_SIZE;
        if (read_le(ph + PH_TYPE, 4) != PT_LOAD)
            continue;
        struct elf_segment s = read_segment(ph);
        if (s.memsz == 0)
            continue; /* maps nothing, so there is nothing to check or load */
        if (!segment_ok(&s, len, lo, hi))
            return ELF_ERR_SEGMENT;
        if (img->nseg == ELF_MAX_SEGMENTS)
            return ELF_ERR_TOO_MANY;
        img->seg[img->nseg++] = s;
    }
    return img->nseg == 0 ? ELF_ERR_EMPTY : ELF_OK;
}

/* Insertion sort: at most ELF_MAX_SEGMENTS entries. */
static void sort_segments(struct elf_image *img) {
    for (int i = 1; i < img->nseg; i++) {
        struct elf_segment s = img->seg[i];
        int j = i;
        for (; j > 0 && img->seg[j - 1].vaddr > s.vaddr; j--)
            img->seg[j] = img->seg[j - 1];
        img->seg[j] = s;
    }
}

/* With segments sorted, any two sharing a page imply a neighbouring pair that does, because
 * page numbers of later segments start no lower. Pages are compared as page numbers of the
 * first and last byte, which cannot overflow even at the top of the address space. */
static int segments_disjoint(const struct elf_image *img) {
    for (int i = 1; i < img->nseg; i++) {
        const struct elf_segment *a = &img->seg[i - 1], *b = &img->seg[i];
        if (b->vaddr >> PAGE_SHIFT <= (a->vaddr + a->memsz - 1) >> PAGE_SHIFT)
            return 0;
    }
    return 1;
}

static int entry_executable(const struct elf_image *img) {
    for (int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        if ((s->flags & ELF_SEG_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            return 1;
    }
    return 0;
}

int elf_parse(const void *data, size_t len, uint64_t lo, uint64_t hi, struct elf_image *out) {
    const uint8_t *d = data;
    if (len < EHDR_SIZE)
        return ELF_ERR_TRUNCATED;
    if (!header_ok(d))
        return ELF_ERR_FORMAT;
    uint64_t phoff = read_le(d + EH_PHOFF, 8);
    unsigned phnum = (unsigned)read_le(d + EH_PHNUM, 2);
    if (phnum == 0)
        return ELF_ERR_EMPTY;
    /* phnum < 2^16, so the table size cannot wrap; compare against what remains after phoff. */
    if (phoff > len || (uint64_t)phnum * PHDR_SIZE > len - phoff)
        return ELF_ERR_TRUNCATED;

    struct elf_image img = {.entry = read_le(d + EH_ENTRY, 8), .nseg = 0};
    int err = collect_segments(d, len, phoff, phnum, lo, hi, &img);
    if (err != ELF_OK)
        return err;
    sort_segments(&img);
    if (!segments_disjoint(&img))
        return ELF_ERR_OVERLAP;
    if (!entry_executable(&img))
        return ELF_ERR_ENTRY;
    *out = img;
    return ELF_OK;
}

const char *elf_strerror(int err) {
    switch (err) {
    case ELF_OK: return "ok";
    case ELF_ERR_TRUNCATED: return "truncated header or program headers";
    case ELF_ERR_FORMAT: return "not an ELF64 little-endian RISC-V executable";
    case ELF_ERR_SEGMENT: return "loadable segment out of bounds or malformed";
    case ELF_ERR_OVERLAP: return "loadable segments share a page";
    case ELF_ERR_TOO_MANY: return "too many loadable segments";
    case ELF_ERR_ENTRY: return "entry point not in an executable segment";
    case ELF_ERR_EMPTY: return "no loadable segment";
    default: return "unknown ELF error";
    }
}
