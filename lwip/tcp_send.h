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

/* The bytes tcp_write puts in one segment of pcb now. */
u16_t tcp_send_segment_size(const struct tcp_pcb *pcb);

/* A pbuf lwIP may keep over `len` bytes at `at` (they stay valid until lwIP frees it), or NULL
 * to have them copied instead. */
typedef struct pbuf *(*tcp_send_ref_fn)(const uint8_t *at, u16_t len, void *ctx);

/* Queues up to n bytes of data on pcb without copying them where `ref` gives a pbuf for them:
 * the same pieces as tcp_send_pooled, each new segment's payload referenced in place; the
 * top-up, and any piece ref refuses, is copied into lwIP's memory and counted in *copied.
 * Returns the bytes queued. */
uint32_t tcp_send_referenced(struct tcp_pcb *pcb, const uint8_t *data, uint32_t n, tcp_send_ref_fn ref, void *ctx,
                             uint64_t *copied);
/* References tcp_send_referenced left with lwIP in a shape it could not swap (0 unless lwIP
 * changes how it builds segments): their bytes stay held for good. */
uint64_t tcp_send_refs_lost(void);

#endif
