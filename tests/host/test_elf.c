/*
 * Host unit tests for kernel/elf.c. Images are assembled in memory by a tiny builder so each
 * check can corrupt exactly one field; a real RISC-V binary from tests/host/data (argv[1],
 * default "tests/host/data") guards against the builder and the parser sharing a misreading.
 * Inputs are copied into exact-size heap blocks so ASan flags any read past `len`.
 */
#include "check.h"
#include "elf.h"

#include <stdlib.h>
#include <string.h>

#define LO 0x40000000ull
#define HI 0x80000000ull
#define PT_LOAD 1u
#define PT_NOTE 4u
#define RX (ELF_SEG_R | ELF_SEG_X)
#define RW (ELF_SEG_R | ELF_SEG_W)

struct seg_spec {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

/* Field offsets in the ELF64 header, written independently of kernel/elf.c on purpose. */
enum { E_IDENT_CLASS = 4, E_IDENT_DATA = 5, E_IDENT_VERSION = 6, E_TYPE = 16, E_MACHINE = 18,
       E_VERSION = 20, E_ENTRY = 24, E_PHOFF = 32, E_PHENTSIZE = 54, E_PHNUM = 56 };

static uint8_t image[8192];

static void put(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Fills each segment's file bytes with a pattern, then writes the header and the program
 * headers at 64 over them (so a segment at offset 0 covers the headers, as real ones do).
 * File bytes that would not fit in `image` are left out, making the segment run past the end.
 * Returns the file length. */
static size_t build(uint64_t entry, const struct seg_spec *segs, int n) {
    memset(image, 0, sizeof image);
    size_t len = 64 + (size_t)n * 56;
    for (int i = 0; i < n; i++) {
        uint64_t off = segs[i].offset, size = segs[i].filesz;
        if (off <= sizeof image && size <= sizeof image - off) {
            memset(image + off, 0xa0 + i, size);
            len = off + size > len ? off + size : len;
        }
    }
    memcpy(image, "\177ELF", 4);
    image[E_IDENT_CLASS] = 2;
    image[E_IDENT_DATA] = 1;
    image[E_IDENT_VERSION] = 1;
    put(image + E_TYPE, 2, 2);
    put(image + E_MACHINE, 243, 2);
    put(image + E_VERSION, 1, 4);
    put(image + E_ENTRY, entry, 8);
    put(image + E_PHOFF, 64, 8);
    put(image + 52, 64, 2); /* e_ehsize */
    put(image + E_PHENTSIZE, 56, 2);
    put(image + E_PHNUM, (uint64_t)n, 2);
    for (int i = 0; i < n; i++) {
        uint8_t *ph = image + 64 + i * 56;
        put(ph, segs[i].type, 4);
        put(ph + 4, segs[i].flags, 4);
        put(ph + 8, segs[i].offset, 8);
        put(ph + 16, segs[i].vaddr, 8);
        put(ph + 24, segs[i].vaddr, 8);
        put(ph + 32, segs[i].filesz, 8);
        put(ph + 40, segs[i].memsz, 8);
        put(ph + 48, 4096, 8);
    }
    return len;
}

/* Parses a private exact-size copy of data[0..len). */
static int parse_in(const void *data, size_t len, uint64_t lo, uint64_t hi, struct elf_image *out) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    int r = elf_parse(copy, len, lo, hi, out);
    free(copy);
    return r;
}

static int parse(size_t len, struct elf_image *out) {
    return parse_in(image, len, LO, HI, out);
}

/* Text at 0x40000200 (RX), data+bss at 0x40001280 (RW); data comes first in the table so the
 * parser has to sort. The data bytes end the file, so every truncation must fail. */
static const struct seg_spec two[] = {
    {PT_LOAD, RW, 0x280, 0x40001280, 0x20, 0x300},
    {PT_LOAD, RX, 0x200, 0x40000200, 0x80, 0x80},
};
#define TWO_ENTRY 0x40000210ull

static size_t build_two(void) {
    return build(TWO_ENTRY, two, 2);
}

/* Builds the two-segment image with seg[0] replaced, and parses it. */
static int parse_variant(struct seg_spec data_seg, uint64_t entry, uint64_t lo, uint64_t hi) {
    struct seg_spec s[2] = {data_seg, two[1]};
    struct elf_image img;
    return parse_in(image, build(entry, s, 2), lo, hi, &img);
}

static void test_valid(void) {
    struct elf_image img;
    size_t len = build_two();
    CHECK("valid_ok", parse(len, &img) == ELF_OK);
    CHECK("valid_entry", img.entry == TWO_ENTRY);
    CHECK("valid_nseg", img.nseg == 2);
    CHECK("valid_sorted_text_first", img.seg[0].vaddr == 0x40000200 && img.seg[0].offset == 0x200 &&
                                         img.seg[0].filesz == 0x80 && img.seg[0].memsz == 0x80 &&
                                         img.seg[0].flags == RX);
    CHECK("valid_data_bss", img.seg[1].vaddr == 0x40001280 && img.seg[1].offset == 0x280 &&
                                img.seg[1].filesz == 0x20 && img.seg[1].memsz == 0x300 &&
                                img.seg[1].flags == RW);
    /* Odd start address: every multi-byte field is misaligned (UBSan would flag casts). */
    uint8_t *odd = malloc(len + 1);
    memcpy(odd + 1, image, len);
    CHECK("valid_unaligned_buffer", elf_parse(odd + 1, len, LO, HI, &img) == ELF_OK && img.nseg == 2);
    free(odd);
}

static void test_truncation(void) {
    size_t len = build_two();
    int ok = 1;
    for (size_t n = 0; n < len; n++) {
        struct elf_image img;
        int want = n < 64 + 2 * 56 ? ELF_ERR_TRUNCATED : ELF_ERR_SEGMENT;
        ok &= parse(n, &img) == want;
    }
    CHECK("every_truncation_rejected", ok);
}

static void test_header_errors(void) {
    struct elf_image img = {.nseg = 99};
    static const struct {
        const char *name;
        int off, width;
        uint64_t value;
    } bad[] = {
        {"bad_magic", 1, 1, 'X'},        {"class32", E_IDENT_CLASS, 1, 1},
        {"big_endian", E_IDENT_DATA, 1, 2}, {"ident_version", E_IDENT_VERSION, 1, 0},
        {"e_version", E_VERSION, 4, 2},  {"type_dyn", E_TYPE, 2, 3},
        {"machine_x86_64", E_MACHINE, 2, 62}, {"phentsize_32", E_PHENTSIZE, 2, 32},
        {"phentsize_64", E_PHENTSIZE, 2, 64},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = build_two();
        put(image + bad[i].off, bad[i].value, bad[i].width);
        CHECK(bad[i].name, parse(len, &img) == ELF_ERR_FORMAT);
    }
    CHECK("failure_leaves_out_untouched", img.nseg == 99);

    size_t len = build_two();
    put(image + E_PHNUM, 0, 2);
    CHECK("phnum_zero_empty", parse(len, &img) == ELF_ERR_EMPTY);
    put(image + E_PHNUM, 2, 2);
    put(image + E_PHOFF, len - 56, 8);
    CHECK("phdrs_past_end", parse(len, &img) == ELF_ERR_TRUNCATED);
    put(image + E_PHOFF, UINT64_MAX - 55, 8); /* phoff + 56 wraps to 0 */
    CHECK("phoff_wraps", parse(len, &img) == ELF_ERR_TRUNCATED);
    put(image + E_PHOFF, 64, 8);
    put(image + E_PHNUM, 0xffff, 2);
    CHECK("phnum_max_truncated", parse(len, &img) == ELF_ERR_TRUNCATED);
}

static void test_empty(void) {
    struct elf_image img;
    struct seg_spec note = {PT_NOTE, RX, 0x200, 0x40000200, 0x10, 0x10};
    CHECK("only_note_empty", parse(build(0x40000200, &note, 1), &img) == ELF_ERR_EMPTY);
    struct seg_spec zero = {PT_LOAD, RX, 0x200, 0x40000200, 0, 0};
    CHECK("only_memsz0_empty", parse(build(0x40000200, &zero, 1), &img) == ELF_ERR_EMPTY);
    /* A memsz-0 PT_LOAD is skipped even when its other fields are nonsense. */
    struct seg_spec junk = {PT_LOAD, RW, UINT64_MAX, 1, 0, 0};
    CHECK("memsz0_skipped", parse_variant(junk, TWO_ENTRY, LO, HI) == ELF_OK);
}

static void test_segment_errors(void) {
    struct seg_spec s = two[0];
    s.filesz = s.memsz + 1;
    CHECK("filesz_gt_memsz", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_SEGMENT);
    s = two[0];
    s.filesz = s.memsz = 0x10000; /* too big for the builder, so the file ends first */
    CHECK("file_bytes_past_end", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_SEGMENT);
    s = two[0];
    s.offset = UINT64_MAX - 0xfff + 0x280;
    s.filesz = s.memsz = 0x1000; /* congruent, and offset + filesz wraps to 0x280 */
    CHECK("offset_wraps", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_SEGMENT);
    s = two[0];
    s.vaddr = UINT64_MAX - 0xfff + 0x280;
    s.memsz = 0x2000; /* vaddr + memsz wraps to a small number */
    CHECK("vaddr_memsz_wraps", parse_variant(s, TWO_ENTRY, 0, UINT64_MAX) == ELF_ERR_SEGMENT);
    s = two[0];
    s.vaddr = LO - 0x1000 + 0x280;
    CHECK("below_window", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_SEGMENT);
    s = two[0];
    s.vaddr = HI - 0x1000 + 0x280;
    s.memsz = 0x1000;
    CHECK("past_window", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_SEGMENT);
    s.memsz = 0x1000 - 0x280;
    CHECK("ends_exactly_at_hi_ok", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_OK);
    s = two[0];
    s.vaddr += 8;
    CHECK("offset_not_congruent", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_SEGMENT);
    CHECK("empty_window", parse_variant(two[0], TWO_ENTRY, HI, LO) == ELF_ERR_SEGMENT);
}

static void test_overlap(void) {
    struct seg_spec s = two[0];
    s.vaddr = 0x40000280; /* same page as the end of the text */
    CHECK("shared_page_overlap", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_OVERLAP);
    s = two[1];
    CHECK("same_segment_twice", parse_variant(s, TWO_ENTRY, LO, HI) == ELF_ERR_OVERLAP);
    /* Text ends exactly on a page boundary; data starts on the next page. */
    struct seg_spec t[2] = {{PT_LOAD, RX, 0x0, 0x40000000, 0x1000, 0x1000},
                            {PT_LOAD, RW, 0x1000, 0x40001000, 0x10, 0x10}};
    struct elf_image img;
    CHECK("adjacent_pages_ok", parse(build(0x40000000, t, 2), &img) == ELF_OK);
    t[0].memsz = 0x1001;
    CHECK("bss_spills_into_next_page", parse(build(0x40000000, t, 2), &img) == ELF_ERR_OVERLAP);
    /* Non-neighbouring overlap: a large first segment covers the third one's page too. */
    struct seg_spec u[3] = {{PT_LOAD, RX, 0x0, 0x40000000, 0x100, 0x5000},
                            {PT_LOAD, RW, 0x200, 0x40005200, 0x10, 0x10},
                            {PT_LOAD, RW, 0x300, 0x40002300, 0x10, 0x10}};
    CHECK("overlap_found_after_sort", parse(build(0x40000000, u, 3), &img) == ELF_ERR_OVERLAP);
}

static void test_too_many(void) {
    struct seg_spec s[ELF_MAX_SEGMENTS + 1];
    for (int i = 0; i < ELF_MAX_SEGMENTS + 1; i++)
        s[i] = (struct seg_spec){PT_LOAD, RX, 0x800 + 0x10 * (uint64_t)i,
                                 0x40000800 + 0x1000 * (uint64_t)i + 0x10 * (uint64_t)i, 0x10, 0x10};
    struct elf_image img;
    CHECK("max_segments_ok", parse(build(0x40000800, s, ELF_MAX_SEGMENTS), &img) == ELF_OK &&
                                 img.nseg == ELF_MAX_SEGMENTS);
    CHECK("nine_segments_too_many", parse(build(0x40000800, s, ELF_MAX_SEGMENTS + 1), &img) == ELF_ERR_TOO_MANY);
    s[3].type = PT_NOTE;
    CHECK("non_load_not_counted", parse(build(0x40000800, s, ELF_MAX_SEGMENTS + 1), &img) == ELF_OK);
}

static void test_entry(void) {
    CHECK("entry_in_rw_segment", parse_variant(two[0], 0x40001290, LO, HI) == ELF_ERR_ENTRY);
    CHECK("entry_past_text", parse_variant(two[0], 0x40000280, LO, HI) == ELF_ERR_ENTRY);
    CHECK("entry_before_text", parse_variant(two[0], 0x400001ff, LO, HI) == ELF_ERR_ENTRY);
    CHECK("entry_last_text_byte", parse_variant(two[0], 0x4000027f, LO, HI) == ELF_OK);
    CHECK("entry_zero", parse_variant(two[0], 0, LO, HI) == ELF_ERR_ENTRY);
}

static void test_strerror(void) {
    int distinct = 1;
    for (int a = ELF_ERR_EMPTY; a <= ELF_OK; a++)
        for (int b = a + 1; b <= ELF_OK; b++)
            distinct &= strcmp(elf_strerror(a), elf_strerror(b)) != 0;
    CHECK("strerror_distinct", distinct);
    CHECK("strerror_unknown", elf_strerror(-100) != NULL && elf_strerror(1) != NULL);
}

static uint8_t *read_file(const char *dir, const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Linked with -Wl,-Ttext-segment=0x40000000, so its first segment (headers + .text) starts at
 * the bottom of the window. */
static void test_real_sample(const char *dir) {
    size_t len = 0;
    uint8_t *elf = read_file(dir, "user-sample.elf", &len);
    CHECK("sample_readable", elf != NULL);
    if (!elf)
        return;
    struct elf_image img;
    CHECK("sample_parses", elf_parse(elf, len, LO, HI, &img) == ELF_OK);
    CHECK("sample_entry_in_window", img.entry >= LO && img.entry < HI);
    CHECK("sample_text_then_data", img.nseg == 2 && img.seg[0].flags == RX && img.seg[1].flags == RW &&
                                       img.seg[1].memsz > img.seg[1].filesz);
    /* Truncations fail exactly while some segment's file bytes are cut off. */
    uint64_t need = 0;
    for (int i = 0; i < img.nseg; i++)
        if (img.seg[i].offset + img.seg[i].filesz > need)
            need = img.seg[i].offset + img.seg[i].filesz;
    int ok = 1;
    for (size_t n = 0; n < len; n++)
        ok &= (parse_in(elf, n, LO, HI, &img) == ELF_OK) == (n >= need);
    CHECK("sample_truncations", ok);
    free(elf);
}

/* Linked with plain -Wl,-Ttext=0x40000000: ld puts the ELF headers in the text segment a page
 * *below* .text, at 0x3ffff000, so the image must be refused for the [LO, HI) window. */
static void test_ttext_sample(const char *dir) {
    size_t len = 0;
    uint8_t *elf = read_file(dir, "user-sample-ttext.elf", &len);
    CHECK("ttext_sample_readable", elf != NULL);
    if (!elf)
        return;
    struct elf_image img;
    CHECK("ttext_sample_below_window", elf_parse(elf, len, LO, HI, &img) == ELF_ERR_SEGMENT);
    CHECK("ttext_sample_ok_in_wider_window", elf_parse(elf, len, LO - 0x1000, HI, &img) == ELF_OK &&
                                                 img.entry == LO);
    free(elf);
}

int main(int argc, char **argv) {
    check_suite = "elf";
    const char *data_dir = argc > 1 ? argv[1] : "tests/host/data";
    test_valid();
    test_truncation();
    test_header_errors();
    test_empty();
    test_segment_errors();
    test_overlap();
    test_too_many();
    test_entry();
    test_strerror();
    test_real_sample(data_dir);
    test_ttext_sample(data_dir);
    return check_exit();
}
