#ifndef NEXUS_TRAP_H
#define NEXUS_TRAP_H

#include "fiber.h"

void trap_init(void);
void kernel_trap(void);
void user_trap(struct trapframe *tf);
/* From the scheduler: the interrupt counts by source to /Bus/dev/irq/ (timer, and each PLIC
 * source by name), at most every 20 ms. */
void trap_publish_interrupts(void);

#endif
