/* NS16550A console UART. */
#ifndef NEXUS_UART_H
#define NEXUS_UART_H

#include <stdint.h>

void uart_init(uint64_t base);
void uart_putc(char c);
/* Returns the next received byte, or -1 if none is waiting. */
int uart_getc(void);
/* Enables the receive-data-available interrupt (routed through the PLIC). */
void uart_enable_rx_irq(void);

#endif
