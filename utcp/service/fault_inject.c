/* Deliberate faults for the UTCP service's containment test (fault_inject.h). Compiled into the
 * test image only, with the -DNEXUS_FAULT_INJECTION sockets.c that calls it. */
#include "fault_inject.h"

#include <stdio.h>
#include <string.h>

static void store_null(void) { *(volatile unsigned long *)0 = 0xdead; }
static void illegal(void) { __asm__ volatile("unimp"); }
static void spin(void) {
    for (;;)
        __asm__ volatile("");
}

static const struct {
    const char *name;
    void (*commit)(void);
} faults[] = {{"null", store_null}, {"illegal", illegal}, {"spin", spin}};

void utcp_fault_inject(const uint8_t *data, size_t len) {
    char name[16] = {0};
    memcpy(name, data, len < sizeof name - 1 ? len : sizeof name - 1);
    name[strcspn(name, "\r\n")] = '\0';
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (!strcmp(name, faults[i].name)) {
            printf("utcp: fault injection: committing \"%s\" now\n", name);
            fflush(stdout);
            faults[i].commit();
        }
    }
    printf("utcp: fault injection: unknown fault \"%s\" ignored\n", name);
}
