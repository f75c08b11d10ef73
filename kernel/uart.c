/*
 * NS16550A UART, as QEMU virt exposes it at 0x10000000 (from the FDT) with byte-wide registers.
 * QEMU's model needs no baud setup; we still set 8N1 and enable the FIFO so real hardware works.
 * Output polls the transmit-holding-register-empty bit: the console is low volume.
 */
#include "uart.h"

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

void uart_putc(char c) {
    if (!uart_regs)
        return;
    while (!(uart_regs[UART_LSR] & LSR_THR_EMPTY))
        ;
    uart_regs[UART_THR] = (uint8_t)c;
}

int uart_getc(void) {
    if (!uart_regs || !(uart_regs[UART_LSR] & LSR_DATA_READY))
        return -1;
    return uart_regs[UART_RBR];
}

void uart_enable_rx_irq(void) { uart_regs[UART_IER] = IER_RX_AVAIL; }
