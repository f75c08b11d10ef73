/* Deliberate faults for containment tests (fault_inject.h), linked into test images only. */
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

void fault_inject_commit(const char *who, const uint8_t *text, size_t len) {
    char name[16] = {0};
    memcpy(name, text, len < sizeof name - 1 ? len : sizeof name - 1);
    name[strcspn(name, "\r\n")] = '\0';
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (!strcmp(name, faults[i].name)) {
            printf("%s: fault injection: committing \"%s\" now\n", who, name);
            fflush(stdout);
            faults[i].commit();
            printf("%s: fault injection: \"%s\" did not fault\n", who, name);
            return;
        }
    }
    printf("%s: fault injection: unknown fault \"%s\" ignored\n", who, name);
}
