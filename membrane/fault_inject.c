/* Deliberate faults for containment tests (fault_inject.h). Compiled into test images only: the
 * Makefile builds it, and the -DNEXUS_FAULT_INJECTION Membrane that calls it, for
 * build/nexus-test.elf alone. */
#include "fault_inject.h"

#include <stdio.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "lwip/udp.h"

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

static void on_trigger(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *from, u16_t port) {
    (void)arg, (void)pcb, (void)from, (void)port;
    char name[16] = {0};
    pbuf_copy_partial(p, name, sizeof name - 1, 0);
    name[strcspn(name, "\r\n")] = '\0';
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (!strcmp(name, faults[i].name)) {
            printf("membrane: fault injection: committing \"%s\" now\n", name);
            fflush(stdout);
            faults[i].commit(); /* p is deliberately still held: the kernel must take it back */
        }
    }
    printf("membrane: fault injection: unknown fault \"%s\" ignored\n", name);
    pbuf_free(p);
}

void fault_inject_start(void) {
    struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    if (!pcb || udp_bind(pcb, IP_ANY_TYPE, FAULT_INJECT_UDP_PORT) != ERR_OK) {
        printf("membrane: fault injection: cannot open udp port %d\n", FAULT_INJECT_UDP_PORT);
        return;
    }
    udp_recv(pcb, on_trigger, NULL);
    printf("membrane: TEST BUILD: fault injection on udp port %d\n", FAULT_INJECT_UDP_PORT);
}
