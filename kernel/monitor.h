/* The kernel console: line commands typed on the UART (help, bus, fibers, mem). */
#ifndef NEXUS_MONITOR_H
#define NEXUS_MONITOR_H

#include <stdint.h>

/* Routes the UART's receive interrupt (PLIC source irq) to the monitor. */
void monitor_init(uint32_t irq);
/* Prints the /Bus keys under prefix on the console. */
void monitor_print_bus(const char *prefix);

#endif
