/* RISC-V Platform-Level Interrupt Controller: device interrupts for the boot hart's S-mode. */
#ifndef NEXUS_PLIC_H
#define NEXUS_PLIC_H

#include <stdint.h>

void plic_init(uint64_t base, int context, uint32_t ndev);
/* Routes source irq to handler at priority 1; `name` (a string constant) names its count in
 * /Bus/dev/irq/. 0, or -1 for a bad irq or a full table. */
int plic_enable(uint32_t irq, const char *name, void (*handler)(void));
/* External interrupt: claims, dispatches and completes every pending source. */
void plic_interrupt(void);
/* How many interrupts source irq has delivered (for /Bus and the tests). */
uint64_t plic_count(uint32_t irq);
/* Writes /Bus/dev/irq/<name> = claims of each enabled source, where one changed. */
void plic_publish(void);

#endif
