/*
 * The `time` CSR counts at the FDT's timebase-frequency (10 MHz on QEMU virt). Deadlines are
 * one-shot: the kernel asks for the earliest moment something must happen (a sleeper wakes,
 * the watchdog looks at the running fiber) instead of ticking periodically, so an idle system
 * takes no interrupts at all. An SBI call costs a trip to M-mode, so an unchanged deadline is
 * not re-sent.
 */
#include "timer.h"

#include "fiber.h"
#include "riscv.h"
#include "sbi.h"

static uint64_t hz = 10000000;
static uint64_t armed = UINT64_MAX;

void timer_init(uint64_t timebase_hz) {
    if (timebase_hz)
        hz = timebase_hz;
    sbi_set_timer(UINT64_MAX);
    csr_set(sie, SIE_STIE);
}

uint64_t timer_ticks_from_ns(uint64_t ns) {
    return ns / 1000000000ull * hz + ns % 1000000000ull * hz / 1000000000ull;
}

uint64_t timer_ns_from_ticks(uint64_t ticks) {
    return ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
}

void timer_arm(uint64_t deadline) {
    if (deadline == armed)
        return;
    armed = deadline;
    sbi_set_timer(deadline);
}

void timer_interrupt(int from_user) {
    armed = UINT64_MAX;
    sbi_set_timer(UINT64_MAX); /* clears STIP until the next timer_arm */
    fiber_timer_tick(from_user);
}
