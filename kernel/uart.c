/*
 * NS16550A UART, as QEMU virt exposes it at 0x10000000 (from the FDT) with byte-wide registers.
 * QEMU's model needs no baud setup; we still set 8N1 and enable the FIFO so real hardware works.
 * Output is queued and written out when the CPU idles (uart_drain), polling the
 * transmit-holding-register-empty bit once per FIFO's worth.
 */
#include "uart.h"

#include "riscv.h"

enum {
    UART_RBR = 0, /* receive buffer (read) */
    UART_THR = 0, /* transmit holding (write) */
    UART_IER = 1, /* interrupt enable */
    UART_FCR = 2, /* FIFO control */
    UART_LCR = 3, /* line control */
    UART_LSR = 5, /* line status */
};
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define IER_RX_AVAIL   0x01

static volatile uint8_t *uart_regs;

void uart_init(uint64_t base) {
    uart_regs = (volatile uint8_t *)base;
    uart_regs[UART_IER] = 0;
    uart_regs[UART_LCR] = 0x03; /* 8 bits, no parity, one stop bit */
    uart_regs[UART_FCR] = 0x07; /* enable and clear both FIFOs */
}

/* With the FIFOs on (uart_init), THRE says the whole transmit FIFO is empty: 16 bytes may follow
 * one look at the line status. Under QEMU every register access is a trip out of the guest
 * (~0.3-1.5 us of host time a console byte before, two accesses each: docs/sockets.md, "A
 * restart, step by step"); this makes most bytes one. The kernel takes no interrupt inside these
 * functions (interrupts are taken only in the idle loop), so neither count can be raced. */
#define TX_FIFO_BYTES 16
static unsigned tx_room; /* bytes that still fit since THRE was last seen */

static void transmit(char c) {
    if (tx_room == 0) {
        while (!(uart_regs[UART_LSR] & LSR_THR_EMPTY))
            ;
        tx_room = TX_FIFO_BYTES;
    }
    uart_regs[UART_THR] = (uint8_t)c;
    tx_room--;
}

/* Output waits here until the CPU has nothing else to do (uart_drain, from the idle loop), so
 * the console's trips out of the guest are not on the path of the work that printed: at boot,
 * ~2 KB of banner and service lines came before the first request was served (a boot with the
 * console sent nowhere reached its first accept 17 ms sooner by the guest clock). The queue is
 * written out at once when it is full and before the machine stops (uart_flush). */
#define TX_QUEUE_BYTES 8192u
static char tx_queue[TX_QUEUE_BYTES];
static uint32_t tx_head, tx_tail; /* free-running: tx_head - tx_tail bytes wait */
static uint64_t waiting_since;    /* rdtime when the oldest waiting byte began to wait */

void uart_putc(char c) {
    if (!uart_regs)
        return;
    if (tx_head == tx_tail)
        waiting_since = rdtime();
    if (tx_head - tx_tail == TX_QUEUE_BYTES)
        transmit(tx_queue[tx_tail++ % TX_QUEUE_BYTES]);
    tx_queue[tx_head++ % TX_QUEUE_BYTES] = c;
}

int uart_drain(unsigned most) {
    while (tx_tail != tx_head && most-- > 0)
        transmit(tx_queue[tx_tail++ % TX_QUEUE_BYTES]);
    waiting_since = rdtime(); /* what is left waits from now */
    return tx_tail != tx_head;
}

int uart_overdue(uint64_t now, uint64_t most_ticks) { return tx_head != tx_tail && now - waiting_since >= most_ticks; }

void uart_flush(void) {
    if (uart_regs)
        while (uart_drain(TX_QUEUE_BYTES))
            ;
}

int uart_getc(void) {
    if (!uart_regs || !(uart_regs[UART_LSR] & LSR_DATA_READY))
        return -1;
    return uart_regs[UART_RBR];
}

void uart_enable_rx_irq(void) { uart_regs[UART_IER] = IER_RX_AVAIL; }
