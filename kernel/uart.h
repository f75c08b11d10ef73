/* NS16550A console UART. */
#ifndef NEXUS_UART_H
#define NEXUS_UART_H

#include <stdint.h>

void uart_init(uint64_t base);
/* Queues c for the console; it is written out by uart_drain (the idle loop), or at once when
 * the queue is full. */
void uart_putc(char c);
/* Writes out up to `most` queued bytes; 1 if bytes still wait. */
int uart_drain(unsigned most);
/* 1 if bytes have waited `most_ticks` (of rdtime) or longer: a machine that never idles still
 * answers at its console (the scheduler drains the queue then). */
int uart_overdue(uint64_t now, uint64_t most_ticks);
/* Writes out every queued byte (before the machine stops). */
void uart_flush(void);
/* Returns the next received byte, or -1 if none is waiting. */
int uart_getc(void);
/* Enables the receive-data-available interrupt (routed through the PLIC). */
void uart_enable_rx_irq(void);

#endif
