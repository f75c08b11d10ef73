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
 * tcp_write does, within tcp_heap_copy_room. Returns the bytes queued (0: lwIP's send queue
 * is full, or no memory may be taken). */
uint32_t tcp_send_pooled(struct tcp_pcb *pcb, const uint8_t *data, uint32_t n);

/* Heap lwIP's copies of sent bytes never take: what every connection needs from it (ACKs,
 * SYN-ACKs, ARP, datagrams) stays there while some connections' peers stop reading. */
#define TCP_HEAP_KEPT (48 * 1024)
/* Once less than TCP_HEAP_PRESSURE of it is left, a connection stops copying sends into lwIP's
 * heap when it has TCP_COPY_QUEUE_MAX queued (lent buffers and chunks of a send area are not
 * heap): a peer that stops reading keeps what its connection holds until lwIP gives up on it,
 * and eight such (wrk stopped mid-download) took the whole heap; no frame's TCP headers could
 * then be copied in (netif_ion.c), so no acknowledgement freed any, and no SYN got an answer
 * for minutes (docs/sockets.md, "Memory for sends"). */
#define TCP_HEAP_PRESSURE (128 * 1024)
#define TCP_COPY_QUEUE_MAX (16 * 1024)

/* The bytes queued on pcb, not yet acknowledged. From the field: tcp_sndbuf() stops at 16 bits
 * and the buffer is larger (an empty one read as 13,305 bytes queued). */
static inline uint32_t tcp_send_queued(const struct tcp_pcb *pcb) { return TCP_SND_BUF - pcb->snd_buf; }

/* The bytes a send on pcb may still copy into lwIP's heap (the two bounds above). */
uint32_t tcp_heap_copy_room(const struct tcp_pcb *pcb);

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
