#ifndef NEXUS_SYSCALL_H
#define NEXUS_SYSCALL_H

#include "fiber.h"

/* Runs the syscall in the current fiber's trapframe (a7, a0..a5) and stores the result in a0. */
void syscall_dispatch(struct fiber *f);

#endif
