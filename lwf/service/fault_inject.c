/* Deliberate faults for the LWF service's containment test (fault_inject.h). Compiled into the
 * test image only: the Makefile builds it, and the -DNEXUS_FAULT_INJECTION wire.c that calls it,
 * for build/nexus-test.elf alone. */
#include "fault_inject.h"

#include <stdio.h>
#include <string.h>

#define KERNEL_ADDRESS 0x80200000ul /* where the kernel is loaded: unmapped for users */

static void store_null(void) { *(volatile unsigned long *)0 = 0xdead; }
static void store_kernel(void) { *(volatile unsigned long *)KERNEL_ADDRESS = 0xdead; }
static void illegal(void) { __asm__ volatile("unimp"); }
static void spin(void) {
    for (;;)
        __asm__ volatile("");
}

static const struct {
    const char *name;
    void (*commit)(void);
} faults[] = {
    {"null", store_null},
    {"wild", store_kernel},
    {"illegal", illegal},
    {"spin", spin},
};

void lwf_fault_inject(const uint8_t *msg, uint32_t len) {
    char name[16] = {0};
    memcpy(name, msg, len < sizeof name - 1 ? len : sizeof name - 1);
    name[strcspn(name, "\r\n")] = '\0';
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (!strcmp(name, faults[i].name)) {
            printf("lwf: fault injection: committing \"%s\" now\n", name);
            fflush(stdout);
            faults[i].commit();
            printf("lwf: fault injection: \"%s\" did not fault\n", name);
            return;
        }
    }
    printf("lwf: fault injection: unknown fault \"%s\" ignored\n", name);
}
