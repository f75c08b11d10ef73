/* Deliberate faults for containment tests (fault_inject.h). Compiled into test images only: the
 * Makefile builds it, and the -DNEXUS_FAULT_INJECTION Membrane that calls it, for
 * build/nexus-test.elf alone. */
#include "fault_inject.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "lwip/udp.h"

#define KERNEL_ADDRESS 0x80200000ul /* where the kernel is loaded: unmapped for users */

static void store_null(struct pbuf *p) { (void)p, *(volatile unsigned long *)0 = 0xdead; }
static void store_kernel(struct pbuf *p) { (void)p, *(volatile unsigned long *)KERNEL_ADDRESS = 0xdead; }
static void illegal(struct pbuf *p) {
    (void)p;
    __asm__ volatile("unimp");
}
static void spin(struct pbuf *p) {
    (void)p;
    for (;;)
        __asm__ volatile("");
}
/* A store into the received frame itself: UDP is zero copy, so the trigger's payload lies in
 * the RX pool, which no service may write (docs/security.md). It must fault. */
static void store_rx_frame(struct pbuf *p) {
    volatile uint8_t *payload = p->payload;
    *payload = *payload;
}

static const struct {
    const char *name;
    void (*commit)(struct pbuf *p);
} faults[] = {
    {"null", store_null},
    {"wild", store_kernel},
    {"illegal", illegal},
    {"spin", spin},
    {"rxwrite", store_rx_frame},
};

static void on_trigger(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *from, u16_t port) {
    (void)arg, (void)pcb, (void)from, (void)port;
    char name[16] = {0};
    pbuf_copy_partial(p, name, sizeof name - 1, 0);
    name[strcspn(name, "\r\n")] = '\0';
    int committed = 0;
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (!strcmp(name, faults[i].name)) {
            printf("membrane: fault injection: committing \"%s\" now\n", name);
            fflush(stdout);
            faults[i].commit(p); /* p is deliberately still held: the kernel must take it back */
            committed = 1;
        }
    }
    printf(committed ? "membrane: fault injection: \"%s\" did not fault\n"
                     : "membrane: fault injection: unknown fault \"%s\" ignored\n", name);
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
