#ifndef NEXUS_TRAP_H
#define NEXUS_TRAP_H

#include "fiber.h"

void trap_init(void);
void kernel_trap(void);
void user_trap(struct trapframe *tf);

#endif
