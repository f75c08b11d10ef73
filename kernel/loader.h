/* Maps a checked ELF image and a fresh stack into a user address space. */
#ifndef NEXUS_LOADER_H
#define NEXUS_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "fiber.h"
#include "vm.h"

/* Validates the image (elf.c), maps and fills its segments; *entry gets the entry point.
 * 0, -ENOEXEC (bad image) or -ENOMEM. */
int loader_load(pagetable_t pt, const uint8_t *data, size_t len, uint64_t *entry);
/* Maps the user stack and puts argv (name, then the words of args) at its top; sets sp, a0
 * (argc) and a1 (argv) in tf. 0, -E2BIG or -ENOMEM. */
int loader_setup_stack(pagetable_t pt, const char *name, const char *args, struct trapframe *tf);

#endif
