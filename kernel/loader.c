#include "loader.h"

#include <errno.h>
#include <string.h>

#include "elf.h"
#include "memlayout.h"
#include "riscv.h"

#define MAX_ARGS 16
#define ARGS_MAX 512 /* bytes of argument strings */

static uint64_t pte_perm(uint32_t flags) {
    uint64_t perm = 0;
    if (flags & ELF_SEG_R)
        perm |= PTE_R;
    if (flags & ELF_SEG_W)
        perm |= PTE_W | PTE_R; /* W without R is a reserved encoding */
    if (flags & ELF_SEG_X)
        perm |= PTE_X;
    return perm;
}

/* A segment nobody may write, whose bytes lie page for page in the embedded image (which
 * tools/gen-images.sh aligns to pages), is mapped from the image itself rather than copied: no
 * copy, no page of memory, and the same physical code pages at every start, so QEMU's
 * translations of a service's code outlive its crash and a restart runs warm. What follows the
 * segment on its last page is the image's own bytes or the page-alignment padding. */
static int map_from_image(pagetable_t pt, const uint8_t *data, const struct elf_segment *s) {
    const uint8_t *bytes = data + s->offset;
    if ((s->flags & ELF_SEG_W) || s->memsz != s->filesz || (uintptr_t)bytes % PAGE_SIZE != s->vaddr % PAGE_SIZE)
        return 0;
    uint64_t first = PAGE_ROUND_DOWN(s->vaddr);
    uint64_t pages = (PAGE_ROUND_UP(s->vaddr + s->memsz) - first) / PAGE_SIZE;
    return vm_user_map_shared(pt, first, PAGE_ROUND_DOWN((uintptr_t)bytes), pages, pte_perm(s->flags)) ? -ENOMEM : 1;
}

static int load_segment(pagetable_t pt, const uint8_t *data, const struct elf_segment *s) {
    int mapped = map_from_image(pt, data, s);
    if (mapped)
        return mapped < 0 ? mapped : 0;
    uint64_t file_end = s->vaddr + s->filesz;
    for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < s->vaddr + s->memsz; va += PAGE_SIZE) {
        uint8_t *page = vm_user_map_page(pt, va, pte_perm(s->flags));
        if (!page)
            return -ENOMEM;
        /* The part of this page that comes from the file (the rest stays zero: bss). */
        uint64_t lo = va < s->vaddr ? s->vaddr : va;
        uint64_t hi = va + PAGE_SIZE < file_end ? va + PAGE_SIZE : file_end;
        if (hi > lo)
            memcpy(page + (lo - va), data + s->offset + (lo - s->vaddr), hi - lo);
    }
    return 0;
}

int loader_load(pagetable_t pt, const uint8_t *data, size_t len, uint64_t *entry) {
    struct elf_image img;
    /* The image ends below the heap window, so a large image cannot collide with the heap. */
    if (elf_parse(data, len, USER_BASE, USER_HEAP_BASE, &img) != ELF_OK)
        return -ENOEXEC;
    for (int i = 0; i < img.nseg; i++) {
        int err = load_segment(pt, data, &img.seg[i]);
        if (err)
            return err;
    }
    *entry = img.entry;
    return 0;
}

/* Appends one word (up to a space or NUL) to the packed strings; returns the rest or NULL if
 * the strings are full. */
static const char *pack_word(const char *p, char *strings, size_t *n) {
    while (*p && *p != ' ') {
        if (*n + 2 > ARGS_MAX)
            return NULL;
        strings[(*n)++] = *p++;
    }
    strings[(*n)++] = '\0';
    return p;
}

/* argv = name, then the space-separated words of args. Returns argc or -E2BIG. */
static int split_args(const char *name, const char *args, char *strings, size_t *used, size_t offs[]) {
    size_t n = 0;
    int argc = 1;
    offs[0] = 0;
    if (!pack_word(name, strings, &n))
        return -E2BIG;
    for (const char *p = args ? args : ""; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        if (argc == MAX_ARGS)
            return -E2BIG;
        offs[argc++] = n;
        p = pack_word(p, strings, &n);
        if (!p)
            return -E2BIG;
    }
    *used = n;
    return argc;
}

int loader_setup_stack(pagetable_t pt, const char *name, const char *args, struct trapframe *tf) {
    uint8_t *top_page = NULL;
    for (uint64_t va = USER_STACK_BASE; va < USER_STACK_TOP; va += PAGE_SIZE) {
        top_page = vm_user_map_page(pt, va, PTE_R | PTE_W);
        if (!top_page)
            return -ENOMEM;
    }
    char strings[ARGS_MAX];
    size_t offs[MAX_ARGS], used;
    int argc = split_args(name, args, strings, &used, offs);
    if (argc < 0)
        return argc;
    /* Layout, top down: the strings, then argv[] (argc + NULL pointers), 16-byte aligned.
     * All of it fits in the top page (ARGS_MAX + 17 pointers < 4 KiB). */
    uint64_t str_va = (USER_STACK_TOP - used) & ~15ul;
    uint64_t argv_va = (str_va - (uint64_t)(argc + 1) * 8) & ~15ul;
    uint64_t page_va = USER_STACK_TOP - PAGE_SIZE;
    memcpy(top_page + (str_va - page_va), strings, used);
    uint64_t *argv = (uint64_t *)(top_page + (argv_va - page_va));
    for (int i = 0; i < argc; i++)
        argv[i] = str_va + offs[i];
    argv[argc] = 0;
    tf->regs[2] = argv_va;        /* sp */
    tf->regs[10] = (uint64_t)argc; /* a0 */
    tf->regs[11] = argv_va;        /* a1 */
    return 0;
}
