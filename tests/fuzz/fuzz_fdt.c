/*
 * libFuzzer target for kernel/fdt.c and the libfdt it reads through (compiled with the same
 * sanitizers). The sanitizers catch any read outside `data`; the checks below catch a
 * "successful" parse that hands the kernel something it cannot use safely.
 */
#include "fdt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_sane(const struct boot_info *bi) {
    if (!memchr(bi->bootargs, 0, sizeof bi->bootargs))
        abort();
    if (bi->nvirtio < 0 || bi->nvirtio > FDT_MAX_VIRTIO)
        abort();
    if (bi->mem.size == 0 || bi->mem.size > UINT64_MAX - bi->mem.base)
        abort();
    if (bi->plic_s_context < -1 || (!bi->has_plic && bi->plic_s_context != -1))
        abort();
    if (bi->has_initrd && bi->initrd.size > UINT64_MAX - bi->initrd.base)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct boot_info bi;
    /* Hart 1 too: it exercises the cpu/interrupt-controller matching differently. */
    for (uint32_t hart = 0; hart < 2; hart++) {
        if (boot_fdt_parse(data, size, hart, &bi) == BOOT_FDT_OK)
            check_sane(&bi);
    }
    if (size >= 8)
        (void)boot_fdt_total_size(data);
    return 0;
}
