/* Supervisor timer: one-shot deadlines in `time` CSR ticks, programmed through SBI. */
#ifndef NEXUS_TIMER_H
#define NEXUS_TIMER_H

#include <stdint.h>

void timer_init(uint64_t timebase_hz);
uint64_t timer_ticks_from_ns(uint64_t ns);
/* The time CSR's frequency (the FDT's timebase-frequency). */
uint64_t timer_hz(void);
uint64_t timer_ns_from_ticks(uint64_t ticks);
/* Fires the timer interrupt at `deadline` ticks (UINT64_MAX: never). Cheap when unchanged. */
void timer_arm(uint64_t deadline);
/* Timer interrupt: forget the fired deadline and let the fibers react. */
void timer_interrupt(int from_user);
/* How many timer interrupts the kernel has taken (/Bus/dev/irq/timer). */
uint64_t timer_interrupts(void);

#endif
