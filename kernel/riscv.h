/*
 * RISC-V privileged-architecture definitions the kernel uses: CSR access, status bits, trap
 * causes and Sv39 page-table entry bits (RISC-V Privileged Spec v1.12).
 */
#ifndef NEXUS_RISCV_H
#define NEXUS_RISCV_H

#include <stdint.h>

#define csr_read(csr)                                          \
    ({                                                         \
        uint64_t v_;                                           \
        __asm__ volatile("csrr %0, " #csr : "=r"(v_));         \
        v_;                                                    \
    })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint64_t)(val)))
#define csr_set(csr, bits)  __asm__ volatile("csrs " #csr ", %0" ::"r"((uint64_t)(bits)))
#define csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint64_t)(bits)))

/* sstatus */
#define SSTATUS_SIE  (1ul << 1)
#define SSTATUS_SPIE (1ul << 5)
#define SSTATUS_SPP  (1ul << 8)
#define SSTATUS_FS   (3ul << 13)
#define SSTATUS_SUM  (1ul << 18)

/* sie / sip */
#define SIE_SSIE (1ul << 1)
#define SIE_STIE (1ul << 5)
#define SIE_SEIE (1ul << 9)

/* scounteren: let U-mode read time and instret (rdtime/rdinstret) */
#define SCOUNTEREN_TM (1ul << 1)
#define SCOUNTEREN_IR (1ul << 2)

/* scause */
#define SCAUSE_INTERRUPT        (1ul << 63)
#define IRQ_S_TIMER             5
#define IRQ_S_EXTERNAL          9
#define EXC_INST_MISALIGNED     0
#define EXC_INST_ACCESS         1
#define EXC_ILLEGAL_INSTRUCTION 2
#define EXC_BREAKPOINT          3
#define EXC_LOAD_MISALIGNED     4
#define EXC_LOAD_ACCESS         5
#define EXC_STORE_MISALIGNED    6
#define EXC_STORE_ACCESS        7
#define EXC_ECALL_U             8
#define EXC_INST_PAGE_FAULT     12
#define EXC_LOAD_PAGE_FAULT     13
#define EXC_STORE_PAGE_FAULT    15

/* Sv39 */
#define PAGE_SIZE  4096ul
#define PAGE_SHIFT 12
#define MEGA_SIZE  (2ul << 20)
#define PTE_V (1ul << 0)
#define PTE_R (1ul << 1)
#define PTE_W (1ul << 2)
#define PTE_X (1ul << 3)
#define PTE_U (1ul << 4)
#define PTE_G (1ul << 5)
#define PTE_A (1ul << 6)
#define PTE_D (1ul << 7)
#define PTE_SHARED (1ul << 8) /* RSW bit: page owned elsewhere, not freed with the address space */
#define SATP_SV39 (8ul << 60)
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK (0xfffful << SATP_ASID_SHIFT)

static inline uint64_t rdtime(void) {
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

static inline uint64_t rdinstret(void) {
    uint64_t n;
    __asm__ volatile("rdinstret %0" : "=r"(n));
    return n;
}

static inline void sfence_vma(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }

static inline void irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }

#define PAGE_ROUND_UP(x)   (((uint64_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((uint64_t)(x) & ~(PAGE_SIZE - 1))

#endif
