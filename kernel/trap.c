/*
 * Trap dispatch. From U-mode: syscalls, interrupts, and faults (which kill only the fiber).
 * From S-mode: only interrupts are expected (taken in the idle loop); a kernel exception is a
 * kernel bug and panics with the registers that locate it.
 */
#include "trap.h"

#include "fiber.h"
#include "kernel.h"
#include "plic.h"
#include "riscv.h"
#include "syscall.h"
#include "timer.h"

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
        break;
    case IRQ_S_EXTERNAL:
        plic_interrupt();
        break;
    default:
        kprintf("trap: unexpected interrupt %lu\n", cause);
    }
}

void kernel_trap(void) {
    uint64_t scause = csr_read(scause);
    if (scause & SCAUSE_INTERRUPT) {
        interrupt(scause & ~SCAUSE_INTERRUPT, 0);
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
        interrupt(scause & ~SCAUSE_INTERRUPT, 1);
        fiber_irq_ticks(rdtime() - start);
    } else if (scause == EXC_ECALL_U) {
        tf->sepc += 4; /* resume after the ecall, also when the syscall blocks */
        syscall_dispatch(fiber_current());
    } else
        fiber_kill_current(END_FAULT, scause, csr_read(stval), tf->sepc);
    user_trap_return();
}
