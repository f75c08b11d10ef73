/*
 * The guest-time profile (test build only; the product kernel compiles every hook to nothing):
 * which layer the guest's instructions (rdinstret) went to. At every change of activity (trap
 * entry, return to U-mode, a fiber giving the CPU to the scheduler and getting it back) the
 * instructions since the last change are charged to the activity that is ending:
 *   - a fiber's own U-mode code                  -> /Bus/fibers/<name>/instret  user=
 *   - the kernel working on that fiber's syscalls -> /Bus/fibers/<name>/instret  kernel=
 *   - device interrupts (virtio driver, NetSwitch demux, waking services)
 *                                                 -> /Bus/kernel/instret/device_irq
 *   - timer interrupts                            -> /Bus/kernel/instret/timer_irq
 *   - the scheduler, the idle loop, reaping and restarts, and this profile's own publishing
 *                                                 -> /Bus/kernel/instret/scheduler
 *     (and, robust to the clock jumps below, how many spans it ran and their median length:
 *      /Bus/kernel/instret/scheduler_spans, scheduler_span_median)
 *   - waiting in wfi                              -> /Bus/kernel/instret/idle
 *     (under -icount QEMU's instret is its virtual clock, which jumps over the time the guest
 *     sleeps: a span across wfi is nanoseconds of sleep, not instructions, so it is kept apart)
 * Syscalls are counted too, by name (/Bus/kernel/syscalls/<name>) and per fiber (syscalls=).
 * A fiber's figures add up over its restarts (they are kept by name). The few instructions of
 * the trap vector before the first hook and after the last are charged to the fiber. make bench
 * reads the figures (tests/e2e/http_profile.py); they count guest instructions only under QEMU's
 * -icount, and exactly only to its translation-block granularity.
 */
#ifndef NEXUS_PROFILE_H
#define NEXUS_PROFILE_H

#include <stdint.h>

struct fiber;

enum profile_kernel_work { PROFILE_DEVICE_IRQ, PROFILE_TIMER_IRQ, PROFILE_SCHEDULER, PROFILE_IDLE, PROFILE_KERNEL_WORKS };

#ifdef NEXUS_TEST_BUILD
/* What is charged from now on; the previous charge, for profile_resume. */
uint64_t *profile_kernel(enum profile_kernel_work work);
uint64_t *profile_user(const struct fiber *f);
uint64_t *profile_syscall(const struct fiber *f);
void profile_resume(uint64_t *charge);
/* Counts one syscall of the current fiber: /Bus/kernel/syscalls/<name> over all fibers, and
 * syscalls= in the fiber's instret figure. nr < SYS_COUNT. */
void profile_count_syscall(const struct fiber *f, unsigned nr, const char *name);
/* Writes the figures that changed to /Bus (the scheduler calls it every few milliseconds). */
void profile_publish(void);
#else
static inline uint64_t *profile_kernel(enum profile_kernel_work work) { (void)work; return 0; }
static inline uint64_t *profile_user(const struct fiber *f) { (void)f; return 0; }
static inline uint64_t *profile_syscall(const struct fiber *f) { (void)f; return 0; }
static inline void profile_resume(uint64_t *charge) { (void)charge; }
static inline void profile_count_syscall(const struct fiber *f, unsigned nr, const char *name) {
    (void)f, (void)nr, (void)name;
}
static inline void profile_publish(void) {}
#endif

#endif
