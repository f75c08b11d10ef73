/*
 * libFuzzer target for kernel/elf.c: any input must be either rejected or yield an image the
 * loader can map without further checks. The invariants below are what kernel/loader.c relies
 * on, so they are re-derived here from the output alone.
 */
#include "elf.h"

#include <stdint.h>
#include <stdlib.h>

#define LO 0x40000000ull
#define HI 0x80000000ull

/* abort() rather than assert(): the check must survive -DNDEBUG builds. */
#define REQUIRE(cond)  \
    do {               \
        if (!(cond))   \
            abort();   \
    } while (0)

static void check_image(const struct elf_image *img, size_t size) {
    REQUIRE(img->nseg >= 1 && img->nseg <= ELF_MAX_SEGMENTS);
    int entry_ok = 0;
    for (int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        REQUIRE(s->memsz > 0 && s->filesz <= s->memsz);
        REQUIRE(s->offset <= size && s->filesz <= size - s->offset);
        REQUIRE(s->vaddr >= LO && s->vaddr < HI && s->memsz <= HI - s->vaddr);
        REQUIRE((s->flags & ~7u) == 0);
        /* Sorted, and no page shared with the previous segment. */
        if (i > 0)
            REQUIRE(s->vaddr / 4096 > (img->seg[i - 1].vaddr + img->seg[i - 1].memsz - 1) / 4096);
        if ((s->flags & ELF_SEG_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            entry_ok = 1;
    }
    REQUIRE(entry_ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct elf_image img;
    int err = elf_parse(data, size, LO, HI, &img);
    REQUIRE(err <= ELF_OK && err >= ELF_ERR_EMPTY);
    REQUIRE(elf_strerror(err) != NULL);
    if (err == ELF_OK)
        check_image(&img, size);
    return 0;
}
