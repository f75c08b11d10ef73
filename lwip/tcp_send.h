/*
 * Sending on a TCP connection with the payload in the port's TX buffers (tx_buffers.h), so
 * that a full segment reaches the device without being copied again (docs/ion.md, "Zero-copy
 * TX"). Each segment lwIP makes from these writes has its payload alone in one lent buffer,
 * with room in front for the headers: the bytes are written in pieces of exactly one segment,
 * after topping up with a copy whatever room the last unsent segment still has (lwIP would
 * append to it and the next piece would straddle two segments).
 */
#ifndef NEXUS_TCP_SEND_H
#define NEXUS_TCP_SEND_H

#include <stdint.h>

#include "lwip/tcp.h"

/* Queues up to n bytes of data on pcb, in lent buffers while free ones last above the reserve
 * kept for frames; the rest (none lent, or the top-up) is copied into lwIP's memory as
 * tcp_write does. Returns the bytes queued (0: lwIP's send queue is full). */
uint32_t tcp_send_pooled(struct tcp_pcb *pcb, const uint8_t *data, uint32_t n);

#endif
