#include "keyblob.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "fiber.h"
#include "kernel.h"
#include "mem.h"
#include "pagealloc.h"
#include "vm.h"

#define KEYBLOB_BUS_KEY "/Bus/boot/keyblob"

enum keyblob_state { KEYBLOB_NONE, KEYBLOB_REFUSED, KEYBLOB_WAITING, KEYBLOB_TAKEN };

static struct {
    enum keyblob_state state;
    uint64_t start, len;          /* the blob's bytes */
    uint64_t first_page, npages;  /* the pages that hold them, reserved until the take */
    const char *refusal;          /* why a present initrd is not kept */
    struct fdt_range initrd;
} blob;

void keyblob_init(const struct boot_info *boot) {
    if (!boot->has_initrd)
        return;
    uint64_t start = boot->initrd.base, len = boot->initrd.size;
    uint64_t ram_end = boot->mem.base + boot->mem.size;
    blob.initrd = boot->initrd;
    blob.state = KEYBLOB_REFUSED;
    /* Both bounds come from the device tree: check them without overflowing. */
    if (start < boot->mem.base || start >= ram_end || len > ram_end - start) {
        blob.refusal = "not in RAM";
        return;
    }
    uint64_t first = start & ~(PA_PAGE_SIZE - 1);
    uint64_t npages = (start + len - first + PA_PAGE_SIZE - 1) / PA_PAGE_SIZE;
    if (page_reserve(first, npages) != 0) {
        blob.refusal = "overlaps memory the kernel holds";
        return;
    }
    blob.start = start;
    blob.len = len;
    blob.first_page = first;
    blob.npages = npages;
    blob.state = KEYBLOB_WAITING;
}

void keyblob_announce(void) {
    switch (blob.state) {
    case KEYBLOB_NONE:
        bus_set(KEYBLOB_BUS_KEY, "none", BUS_OWNER_KERNEL);
        break;
    case KEYBLOB_REFUSED:
        kprintf("  keyblob: initrd %#lx+%lu refused: %s\n", blob.initrd.base, blob.initrd.size, blob.refusal);
        bus_setf(BUS_OWNER_KERNEL, KEYBLOB_BUS_KEY, "none (initrd refused: %s)", blob.refusal);
        break;
    default:
        kprintf("  keyblob: %lu bytes at %#lx (initrd), %lu page(s) held for the fiber pledged \"keyblob\"\n",
                blob.len, blob.start, blob.npages);
        bus_setf(BUS_OWNER_KERNEL, KEYBLOB_BUS_KEY, "%lu bytes, waiting", blob.len);
        break;
    }
}

long keyblob_take(struct fiber *f, uint64_t uva, uint64_t len) {
    if (blob.state != KEYBLOB_WAITING)
        return -ENOENT;
    if (len < blob.len)
        return -EINVAL;
    /* copy_to_user checks the whole range before it writes a byte: a bad buffer consumes nothing. */
    if (copy_to_user(f->pt, uva, (const void *)(uintptr_t)blob.start, blob.len))
        return -EFAULT;
    /* The secret now lives in the taker only: wipe the kernel's copy before the pages go back.
     * The barrier keeps the compiler from dropping a store to memory it sees freed next. */
    memset((void *)(uintptr_t)blob.first_page, 0, blob.npages * PA_PAGE_SIZE);
    __asm__ volatile("" ::: "memory");
    page_free((void *)(uintptr_t)blob.first_page, blob.npages);
    mem_publish();
    blob.state = KEYBLOB_TAKEN;
    bus_setf(BUS_OWNER_KERNEL, KEYBLOB_BUS_KEY, "taken by %s", f->name);
    kprintf("keyblob: %lu bytes taken by %s#%u; the kernel's copy is wiped\n", blob.len, f->name, f->id);
    return (long)blob.len;
}
