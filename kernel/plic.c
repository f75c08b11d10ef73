/*
 * PLIC (RISC-V PLIC spec 1.0): per-source priority words at base + 4*irq; per-context enable
 * bitmaps at base + 0x2000 + 0x80*ctx; per-context threshold and claim/complete at
 * base + 0x200000 + 0x1000*ctx. QEMU virt has 95 sources; the boot hart's S-mode context comes
 * from the FDT (1 for hart 0).
 */
#include "plic.h"

#include "bus.h"
#include "kernel.h"
#include "riscv.h"

#define PLIC_MAX_SOURCES 128

static volatile uint32_t *plic;
static int ctx;
static uint32_t nsources;
static void (*handlers[PLIC_MAX_SOURCES])(void);
static uint64_t counts[PLIC_MAX_SOURCES];
static uint64_t published[PLIC_MAX_SOURCES];
static const char *names[PLIC_MAX_SOURCES];

static volatile uint32_t *reg(uint64_t offset) { return plic + offset / 4; }

void plic_init(uint64_t base, int context, uint32_t ndev) {
    plic = (volatile uint32_t *)base;
    ctx = context;
    nsources = ndev < PLIC_MAX_SOURCES ? ndev + 1 : PLIC_MAX_SOURCES;
    for (uint32_t w = 0; w < (nsources + 31) / 32; w++)
        *reg(0x2000 + 0x80 * (uint64_t)ctx + 4 * w) = 0;
    *reg(0x200000 + 0x1000 * (uint64_t)ctx) = 0; /* threshold: accept every priority > 0 */
    csr_set(sie, SIE_SEIE);
}

int plic_enable(uint32_t irq, const char *name, void (*handler)(void)) {
    if (!plic || irq == 0 || irq >= nsources)
        return -1;
    handlers[irq] = handler;
    names[irq] = name;
    published[irq] = UINT64_MAX; /* publish the first count, 0 included */
    *reg(4 * (uint64_t)irq) = 1;
    *reg(0x2000 + 0x80 * (uint64_t)ctx + 4 * (irq / 32)) |= 1u << (irq % 32);
    return 0;
}

void plic_interrupt(void) {
    volatile uint32_t *claim = reg(0x200004 + 0x1000 * (uint64_t)ctx);
    for (uint32_t irq; (irq = *claim) != 0;) {
        if (irq < nsources && handlers[irq]) {
            counts[irq]++;
            handlers[irq]();
        } else
            kprintf("plic: spurious source %u\n", irq);
        *claim = irq;
    }
}

uint64_t plic_count(uint32_t irq) { return irq < PLIC_MAX_SOURCES ? counts[irq] : 0; }

void plic_publish(void) {
    char path[BUS_PATH_MAX];
    for (uint32_t irq = 1; irq < nsources; irq++) {
        if (!handlers[irq] || published[irq] == counts[irq])
            continue;
        published[irq] = counts[irq];
        snprintf(path, sizeof path, "/Bus/dev/irq/%s", names[irq]);
        bus_setf(0, path, "%lu", counts[irq]);
    }
}
