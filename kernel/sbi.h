/* Calls into OpenSBI (RISC-V SBI v1.0): timer and system reset. */
#ifndef NEXUS_SBI_H
#define NEXUS_SBI_H

#include <stdint.h>

void sbi_set_timer(uint64_t stime_value);
/* Asks the firmware to power the machine off; returns only if it refused. */
void sbi_shutdown(void);

#endif
