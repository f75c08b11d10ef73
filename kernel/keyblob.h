/*
 * The key blob: the bytes QEMU's -initrd placed in RAM (make run IDENTITY=FILE), held for the one
 * fiber whose pledge has "keyblob" and handed over once (SYS_KEYBLOB_TAKE), after which the kernel
 * keeps no copy. The kernel never reads the bytes: it does not know they are a key
 * (docs/identity.md).
 */
#ifndef NEXUS_KEYBLOB_H
#define NEXUS_KEYBLOB_H

#include <stdint.h>

#include "fdt.h"

struct fiber;

/* Right after mem_init: keeps the initrd's pages out of the page allocator if its bounds lie in
 * RAM the allocator manages; otherwise refuses it (keyblob_announce says why). */
void keyblob_init(const struct boot_info *boot);

/* Prints what happened to the initrd and publishes /Bus/boot/keyblob. */
void keyblob_announce(void);

/* SYS_KEYBLOB_TAKE for f: copies the blob to [uva, uva + len) and returns its length, then zeroes
 * its pages and frees them. -ENOENT when there is none or it was taken, -EINVAL when len is
 * smaller than the blob, -EFAULT for a bad buffer; those two leave the blob in place. */
long keyblob_take(struct fiber *f, uint64_t uva, uint64_t len);

#endif
