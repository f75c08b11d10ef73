/*
 * ELF64 image checker for the user-mode service images embedded in the kernel. It only parses
 * and validates; kernel/loader.c maps what it returns. Portable C: the host tests and the fuzz
 * target compile this same file. Nothing in `data` is trusted: every offset, size and address
 * is checked for overflow and bounds before use.
 */
#ifndef NEXUS_ELF_H
#define NEXUS_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8

#define ELF_SEG_R 4u /* same bits as p_flags PF_R/PF_W/PF_X */
#define ELF_SEG_W 2u
#define ELF_SEG_X 1u

struct elf_segment {
    uint64_t vaddr;  /* where it goes in the user address space */
    uint64_t memsz;  /* bytes in memory (>= filesz; the rest is zero) */
    uint64_t offset; /* where its bytes start in the file */
    uint64_t filesz;
    uint32_t flags;  /* ELF_SEG_* */
};

struct elf_image {
    uint64_t entry;
    int nseg;                                 /* PT_LOAD segments only */
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};

enum elf_error {
    ELF_OK = 0,
    ELF_ERR_TRUNCATED = -1, /* header or program headers run past the data */
    ELF_ERR_FORMAT = -2,    /* not ELF64 little-endian RISC-V ET_EXEC, or bad phentsize */
    ELF_ERR_SEGMENT = -3,   /* a PT_LOAD out of file bounds, filesz > memsz, offset and vaddr
                               not congruent modulo 4096, or outside [lo, hi) */
    ELF_ERR_OVERLAP = -4,   /* two PT_LOAD segments share a 4 KiB page */
    ELF_ERR_TOO_MANY = -5,  /* more than ELF_MAX_SEGMENTS PT_LOAD segments */
    ELF_ERR_ENTRY = -6,     /* entry point not inside an executable segment */
    ELF_ERR_EMPTY = -7,     /* no PT_LOAD segment */
};

/* Validates `data` (len bytes) as an image whose loadable segments must lie entirely inside the
 * user window [lo, hi). On success fills *out, segments sorted by vaddr, and returns ELF_OK. */
int elf_parse(const void *data, size_t len, uint64_t lo, uint64_t hi, struct elf_image *out);

const char *elf_strerror(int err);

#endif
