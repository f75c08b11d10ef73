/*
 * Trap dispatch. From U-mode: syscalls, interrupts, and faults (which kill only the fiber).
 * From S-mode: only interrupts are expected (taken in the idle loop); a kernel exception is a
 * kernel bug and panics with the registers that locate it.
 */
#include "trap.h"

#include "bus.h"
#include "fiber.h"
#include "kernel.h"
#include "netswitch.h"
#include "plic.h"
#include "profile.h"
#include "riscv.h"
#include "syscall.h"
#include "timer.h"
#include "vm.h"

extern char trap_vector[];
void user_trap_return(void) __attribute__((noreturn));

void trap_init(void) {
    csr_write(stvec, (uint64_t)trap_vector);
    /* U-mode may read time and instret (rdtime, rdinstret) for its own measurements. */
    csr_write(scounteren, SCOUNTEREN_TM | SCOUNTEREN_IR);
}

static void interrupt(uint64_t cause, int from_user) {
    switch (cause) {
    case IRQ_S_TIMER:
        timer_interrupt(from_user);
        if (from_user) /* no kernel code was interrupted, the NetSwitch's included */
            netswitch_poll();
        break;
    case IRQ_S_EXTERNAL:
        plic_interrupt();
        break;
    default:
        kprintf("trap: unexpected interrupt %lu\n", cause);
    }
}

#define PUBLISH_EVERY_MS 20 /* the scheduler calls it on every dispatch: not a Bus write each time */

void trap_publish_interrupts(void) {
    static uint64_t last_publish, last_timer = UINT64_MAX, every;
    uint64_t now = rdtime();
    if (!every) /* once the timebase is known: a division a scheduler pass is not free */
        every = timer_ticks_from_ns(PUBLISH_EVERY_MS * 1000000ull);
    if (now - last_publish < every)
        return;
    last_publish = now;
    if (timer_interrupts() != last_timer) {
        last_timer = timer_interrupts();
        bus_setf(0, "/Bus/dev/irq/timer", "%lu", last_timer);
    }
    plic_publish();
    vm_publish();
    profile_publish();
}

void kernel_trap(void) {
    uint64_t scause = csr_read(scause);
    if (scause & SCAUSE_INTERRUPT) {
        uint64_t cause = scause & ~SCAUSE_INTERRUPT;
        uint64_t *was = profile_kernel(cause == IRQ_S_TIMER ? PROFILE_TIMER_IRQ : PROFILE_DEVICE_IRQ);
        interrupt(cause, 0);
        profile_resume(was);
        return;
    }
    panic("kernel trap: scause=%#lx stval=%#lx sepc=%#lx", scause, csr_read(stval), csr_read(sepc));
}

void user_trap(struct trapframe *tf) {
    uint64_t scause = csr_read(scause);
    if (scause & SCAUSE_INTERRUPT) {
        /* A flood of device interrupts must not count as the interrupted fiber's own time:
         * the watchdog would take a busy NIC for a spinning service. */
        uint64_t start = rdtime();
        uint64_t cause = scause & ~SCAUSE_INTERRUPT;
        profile_kernel(cause == IRQ_S_TIMER ? PROFILE_TIMER_IRQ : PROFILE_DEVICE_IRQ);
        interrupt(cause, 1);
        fiber_interrupted(cause == IRQ_S_TIMER, rdtime() - start);
    } else if (scause == EXC_ECALL_U) {
        tf->sepc += 4; /* resume after the ecall, also when the syscall blocks */
        profile_syscall(fiber_current());
        syscall_dispatch(fiber_current());
    } else
        fiber_kill_current(END_FAULT, scause, csr_read(stval), tf->sepc);
    user_trap_return();
}
