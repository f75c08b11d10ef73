/* Sv39 page tables: the kernel map and per-fiber user address spaces. */
#ifndef NEXUS_VM_H
#define NEXUS_VM_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t pte_t;
typedef pte_t *pagetable_t; /* one 4 KiB page of 512 PTEs */

struct boot_info;

/* Builds the kernel page table (identity map of devices and RAM) and turns on Sv39. */
void vm_init(const struct boot_info *bi);

/* A new user address space: the kernel's root entries, an empty user window. NULL if out of
 * memory. */
pagetable_t vm_user_create(void);
/* Frees every page mapped in the user window, the user-window page tables and the root. */
void vm_user_destroy(pagetable_t pt);
/* Maps one fresh zeroed page at user va with PTE_R/W/X bits `perm`; returns its kernel address
 * or NULL. */
void *vm_user_map_page(pagetable_t pt, uint64_t va, uint64_t perm);
/* Maps `pages` existing pages from pa on (owned by the kernel, e.g. ring or pool pages) at user
 * va on. They are not freed with the address space. 0 or -1 (what was mapped before a failure
 * stays mapped, to go with the address space). */
int vm_user_map_shared(pagetable_t pt, uint64_t va, uint64_t pa, uint64_t pages, uint64_t perm);
/* Unmaps the page at user va and frees it (a shared page is only unmapped); flushes the TLB.
 * Nothing happens if va is not mapped. */
void vm_user_unmap_page(pagetable_t pt, uint64_t va);
/* Physical address behind user va (any permission), or 0 if unmapped. */
uint64_t vm_user_translate(pagetable_t pt, uint64_t va);
/* Switches satp to the kernel table (before freeing a user table that may be active), and
 * flushes every address space's translations: an address-space identifier is free for reuse
 * after it (vm_activate). */
void vm_use_kernel_map(void);
/* Makes pt the active address space under identifier asid (1 up, unique among live tables; the
 * kernel's own is 0). Where the hart keeps enough ASIDs, a switch flushes no translations, and
 * activating the active table writes nothing: each flush costs QEMU a clear of its whole TLB
 * and jump cache and the refills after it. A hart without them flushes on every call. */
void vm_activate(pagetable_t pt, uint64_t asid);
/* /Bus/mem/satp_writes and /Bus/mem/tlb_flushes: address-space switches and whole-TLB flushes
 * (a page's own flush in vm_user_unmap_page is not counted). */
void vm_publish(void);

/* Copies between kernel memory and a user address space after checking that every byte lies
 * in the user window, is mapped with U and with R (copy_from_user) or W (copy_to_user).
 * Return 0 or -EFAULT. */
int copy_from_user(pagetable_t pt, void *dst, uint64_t uva, size_t len);
int copy_to_user(pagetable_t pt, uint64_t uva, const void *src, size_t len);
/* Copies a NUL-terminated string of at most max-1 bytes. 0, -EFAULT, or -ENAMETOOLONG. */
int copy_str_from_user(pagetable_t pt, char *dst, uint64_t uva, size_t max);

#endif
