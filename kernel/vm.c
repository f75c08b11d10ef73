/*
 * Sv39 (three levels of 512 entries, 4 KiB pages, 2 MiB megapages). The kernel map is built
 * once; user address spaces copy its root entries and own only root slot 1 (the user window,
 * see memlayout.h), so tearing one down never touches kernel tables.
 */
#include "vm.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "fdt.h"
#include "kernel.h"
#include "mem.h"
#include "memlayout.h"
#include "riscv.h"

#define USER_ROOT_SLOT 1 /* VA 0x4000_0000..0x7fff_ffff */

extern char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

static pagetable_t kernel_pt;
static uint64_t asid_max; /* the largest address-space identifier the hart keeps; 0: none */
/* Counts user leaves written (map_user_leaf); vm_activate flushes when it moved. */
static uint64_t map_generation, fenced_generation;
static uint64_t satp_writes, flushes; /* by vm_activate and vm_use_kernel_map: /Bus/mem/ */

static uint64_t satp_of(pagetable_t pt, uint64_t asid) {
    return SATP_SV39 | asid << SATP_ASID_SHIFT | (uint64_t)pt >> 12;
}

static inline uint64_t pte_to_pa(pte_t pte) { return (pte >> 10) << 12; }
static inline pte_t pa_to_pte(uint64_t pa) { return (pa >> 12) << 10; }
static inline unsigned vpn(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 0x1ff; }

/* The PTE for va at `level` (0 = 4 KiB leaf, 1 = 2 MiB leaf), allocating tables on the way if
 * alloc is set. NULL if a table is missing (and !alloc) or memory ran out. */
static pte_t *walk(pagetable_t pt, uint64_t va, int level, int alloc) {
    for (int l = 2; l > level; l--) {
        pte_t *pte = &pt[vpn(va, l)];
        if (*pte & PTE_V) {
            if (*pte & (PTE_R | PTE_W | PTE_X))
                return NULL; /* a bigger leaf is already there */
            pt = (pagetable_t)pte_to_pa(*pte);
            continue;
        }
        if (!alloc)
            return NULL;
        pagetable_t next = page_alloc(1);
        if (!next)
            return NULL;
        *pte = pa_to_pte((uint64_t)next) | PTE_V;
        pt = next;
    }
    return &pt[vpn(va, level)];
}

/* Maps [va, va+size) to pa, with megapages where both are 2 MiB aligned. Kernel mappings are
 * global and pre-marked accessed/dirty: nothing here relies on A/D tracking. */
static void map_range(pagetable_t pt, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm) {
    uint64_t end = va + size;
    while (va < end) {
        int mega = !(va % MEGA_SIZE) && !(pa % MEGA_SIZE) && end - va >= MEGA_SIZE;
        pte_t *pte = walk(pt, va, mega ? 1 : 0, 1);
        if (!pte)
            panic("vm: cannot map %#lx", va);
        *pte = pa_to_pte(pa) | perm | PTE_V | PTE_A | PTE_D | PTE_G;
        va += mega ? MEGA_SIZE : PAGE_SIZE;
        pa += mega ? MEGA_SIZE : PAGE_SIZE;
    }
}

static void map_device(const struct fdt_range *r) {
    if (r->size)
        map_range(kernel_pt, PAGE_ROUND_DOWN(r->base), PAGE_ROUND_DOWN(r->base),
                  PAGE_ROUND_UP(r->base + r->size) - PAGE_ROUND_DOWN(r->base), PTE_R | PTE_W);
}

void vm_init(const struct boot_info *bi) {
    kernel_pt = page_alloc(1);
    if (!kernel_pt)
        panic("vm: no page for the kernel root");
    if (bi->has_uart)
        map_device(&bi->uart);
    if (bi->has_plic)
        map_device(&bi->plic);
    if (bi->has_test_dev)
        map_device(&bi->test_dev);
    if (bi->has_rtc)
        map_device(&bi->rtc);
    for (int i = 0; i < bi->nvirtio; i++)
        map_device(&bi->virtio[i].reg);

    uint64_t ks = (uint64_t)__kernel_start, te = (uint64_t)__text_end;
    uint64_t re = (uint64_t)__rodata_end, ram_end = bi->mem.base + bi->mem.size;
    map_range(kernel_pt, ks, ks, te - ks, PTE_R | PTE_X);
    map_range(kernel_pt, te, te, re - te, PTE_R);
    map_range(kernel_pt, re, re, ram_end - re, PTE_R | PTE_W);
    uint64_t below = mem_pool_base(); /* the pool's pages below the kernel, if any (mem.c) */
    if (below < ks)
        map_range(kernel_pt, below, below, ks - below, PTE_R | PTE_W);

    if (kernel_pt[USER_ROOT_SLOT] & PTE_V)
        panic("vm: a device sits in the user window");
    /* satp's ASID field keeps the bits the hart implements (WARL): all ones read back as the
     * largest identifier it has. */
    csr_write(satp, satp_of(kernel_pt, SATP_ASID_MASK >> SATP_ASID_SHIFT));
    asid_max = (csr_read(satp) & SATP_ASID_MASK) >> SATP_ASID_SHIFT;
    csr_write(satp, satp_of(kernel_pt, 0));
    sfence_vma();
    bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/asid_max", "%lu", asid_max);
}

static void switch_and_flush(uint64_t value) {
    csr_write(satp, value);
    sfence_vma();
    satp_writes++;
    flushes++;
}

void vm_use_kernel_map(void) { switch_and_flush(satp_of(kernel_pt, 0)); }

void vm_activate(pagetable_t pt, uint64_t asid) {
    if (asid > asid_max) {
        switch_and_flush(satp_of(pt, 0));
        return;
    }
    uint64_t want = satp_of(pt, asid);
    if (csr_read(satp) != want) {
        csr_write(satp, want);
        satp_writes++;
    }
    /* A leaf written since the last flush, into any table: a hart may have cached its
     * invalid entry under that table's identifier. */
    if (fenced_generation != map_generation) {
        fenced_generation = map_generation;
        sfence_vma();
        flushes++;
    }
}

void vm_publish(void) {
    static uint64_t published_writes = UINT64_MAX, published_flushes = UINT64_MAX;
    if (satp_writes != published_writes)
        bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/satp_writes", "%lu", published_writes = satp_writes);
    if (flushes != published_flushes)
        bus_setf(BUS_OWNER_KERNEL, "/Bus/mem/tlb_flushes", "%lu", published_flushes = flushes);
}

pagetable_t vm_user_create(void) {
    pagetable_t pt = page_alloc(1);
    if (pt) {
        memcpy(pt, kernel_pt, PAGE_SIZE);
        pt[USER_ROOT_SLOT] = 0;
    }
    return pt;
}

/* Frees a user-window table at `level` and everything below it. */
static void free_user_table(pagetable_t t, int level) {
    for (int i = 0; i < 512; i++) {
        pte_t pte = t[i];
        if (!(pte & PTE_V))
            continue;
        int leaf = level == 0 || (pte & (PTE_R | PTE_W | PTE_X));
        if (!leaf)
            free_user_table((pagetable_t)pte_to_pa(pte), level - 1);
        else if (!(pte & PTE_SHARED))
            page_free((void *)pte_to_pa(pte), 1); /* user leaves are 4 KiB */
    }
    page_free(t, 1);
}

/* The leaf table that mapped the last user page: a spawn maps its image, its stack, a port's
 * pool and its links page after page (~600 at a Membrane's restart), nearly all in the 2 MiB
 * of the page before, and a walk from the root for each was about half the cost of mapping
 * a shared page (a restarted Membrane's spawn: 73 k -> 60 k instructions for its grants; and
 * vm_user_map_shared now writes a region's further PTEs in a row).
 * Tables are freed only with their address space, which forgets it (vm_user_destroy). */
static struct {
    pagetable_t root;
    uint64_t region; /* va >> 21 */
    pagetable_t leaf;
} last_leaf;

void vm_user_destroy(pagetable_t pt) {
    if (last_leaf.root == pt)
        last_leaf.root = NULL;
    if (pt[USER_ROOT_SLOT] & PTE_V)
        free_user_table((pagetable_t)pte_to_pa(pt[USER_ROOT_SLOT]), 1);
    page_free(pt, 1);
}

/* Installs a 4 KiB user leaf va -> pa (`flags` adds PTE_SHARED where the page is not ours to
 * free). 0, or -1 for an address outside the window, misaligned, already mapped, or no memory
 * for a page table. */
static int map_user_leaf(pagetable_t pt, uint64_t va, uint64_t pa, uint64_t flags) {
    if (va < USER_BASE || va >= USER_TOP || va % PAGE_SIZE || pa % PAGE_SIZE)
        return -1;
    pte_t *pte;
    if (last_leaf.root == pt && last_leaf.region == va >> 21) {
        pte = &last_leaf.leaf[vpn(va, 0)];
    } else {
        pte = walk(pt, va, 0, 1);
        if (pte)
            last_leaf = (typeof(last_leaf)){pt, va >> 21, pte - vpn(va, 0)};
    }
    if (!pte || (*pte & PTE_V))
        return -1;
    *pte = pa_to_pte(pa) | flags | PTE_U | PTE_V | PTE_A | PTE_D;
    map_generation++;
    return 0;
}

void *vm_user_map_page(pagetable_t pt, uint64_t va, uint64_t perm) {
    void *page = page_alloc(1);
    if (page && map_user_leaf(pt, va, (uint64_t)page, perm) != 0) {
        page_free(page, 1);
        page = NULL;
    }
    return page;
}

/* The first page of each 2 MiB region goes through map_user_leaf's checks and walk; the rest of
 * the region's pages are PTEs in the leaf table it found (last_leaf), written in a row: a
 * restarted Membrane maps ~470 shared pages (its port's pool and rings, its links), which one
 * call each took 0.025 M instructions longer. The window ends on a 2 MiB boundary, so a region
 * that starts in it lies in it. */
int vm_user_map_shared(pagetable_t pt, uint64_t va, uint64_t pa, uint64_t pages, uint64_t perm) {
    uint64_t flags = perm | PTE_SHARED;
    while (pages) {
        if (map_user_leaf(pt, va, pa, flags))
            return -1;
        uint64_t left_in_region = ((va | (MEGA_SIZE - 1)) + 1 - va) / PAGE_SIZE;
        uint64_t n = pages < left_in_region ? pages : left_in_region;
        pte_t *pte = &last_leaf.leaf[vpn(va, 0)];
        for (uint64_t k = 1; k < n; k++) {
            if (pte[k] & PTE_V)
                return -1;
            pte[k] = pa_to_pte(pa + k * PAGE_SIZE) | flags | PTE_U | PTE_V | PTE_A | PTE_D;
        }
        va += n * PAGE_SIZE;
        pa += n * PAGE_SIZE;
        pages -= n;
    }
    return 0;
}

void vm_user_unmap_page(pagetable_t pt, uint64_t va) {
    if (va < USER_BASE || va >= USER_TOP)
        return;
    pte_t *pte = walk(pt, va, 0, 0);
    if (!pte || !(*pte & PTE_V))
        return;
    if (!(*pte & PTE_SHARED))
        page_free((void *)pte_to_pa(*pte), 1);
    *pte = 0;
    sfence_vma(); /* the page may be reused at once: no stale translation may reach it */
}

uint64_t vm_user_translate(pagetable_t pt, uint64_t va) {
    if (va < USER_BASE || va >= USER_TOP)
        return 0;
    pte_t *pte = walk(pt, va, 0, 0);
    return pte && (*pte & PTE_V) ? pte_to_pa(*pte) + va % PAGE_SIZE : 0;
}

/* Kernel address of user va if it is mapped for U-mode with all of `need`, else NULL. */
static void *user_addr(pagetable_t pt, uint64_t va, uint64_t need) {
    if (va < USER_BASE || va >= USER_TOP)
        return NULL;
    pte_t *pte = walk(pt, va, 0, 0);
    if (!pte || (*pte & (PTE_V | PTE_U | need)) != (PTE_V | PTE_U | need))
        return NULL;
    return (void *)(pte_to_pa(*pte) + (va % PAGE_SIZE));
}

/* Calls fn on each page-sized piece of [uva, uva+len) after checking it; -EFAULT stops. */
static int for_user_range(pagetable_t pt, uint64_t uva, size_t len, uint64_t need,
                          void (*fn)(void *kaddr, size_t off, size_t n, void *ctx), void *ctx) {
    if (uva + len < uva || uva + len > USER_TOP)
        return -EFAULT;
    size_t done = 0;
    while (done < len) {
        uint64_t va = uva + done;
        size_t n = PAGE_SIZE - (va % PAGE_SIZE);
        if (n > len - done)
            n = len - done;
        void *k = user_addr(pt, va, need);
        if (!k)
            return -EFAULT;
        fn(k, done, n, ctx);
        done += n;
    }
    return 0;
}

static void no_piece(void *k, size_t off, size_t n, void *ctx) { (void)k, (void)off, (void)n, (void)ctx; }
static void copy_out_piece(void *k, size_t off, size_t n, void *src) { memcpy(k, (char *)src + off, n); }
static void copy_in_piece(void *k, size_t off, size_t n, void *dst) { memcpy((char *)dst + off, k, n); }

int copy_to_user(pagetable_t pt, uint64_t uva, const void *src, size_t len) {
    /* Check the whole range first, so a bad range leaves user memory untouched. */
    int err = for_user_range(pt, uva, len, PTE_W, no_piece, NULL);
    if (err)
        return err;
    return for_user_range(pt, uva, len, PTE_W, copy_out_piece, (void *)src);
}

int copy_from_user(pagetable_t pt, void *dst, uint64_t uva, size_t len) {
    return for_user_range(pt, uva, len, PTE_R, copy_in_piece, dst);
}

int copy_str_from_user(pagetable_t pt, char *dst, uint64_t uva, size_t max) {
    /* One translation a page, not a byte: a /Bus key of 40 bytes was 40 page-table walks. */
    size_t i = 0;
    while (i < max) {
        const char *k = uva + i < uva ? NULL : user_addr(pt, uva + i, PTE_R);
        if (!k)
            return -EFAULT;
        size_t n = PAGE_SIZE - (uva + i) % PAGE_SIZE;
        if (n > max - i)
            n = max - i;
        for (size_t j = 0; j < n; j++, i++) {
            dst[i] = k[j];
            if (!k[j])
                return 0;
        }
    }
    return -ENAMETOOLONG;
}
