/*
 * The port's TX buffers as the Membrane holds them (docs/ion.md, "Zero-copy TX"). Each is
 * away (the kernel's, until it comes back on TX free), free, on the device with a frame
 * copied into it, lent to lwIP (a TCP segment's payload lives in it, referenced by a custom
 * pbuf, until the peer acknowledges it or the connection dies), or lent and on the device
 * (that segment was sent from the buffer itself). A lent buffer comes home when lwIP frees
 * the pbuf and the device has given the buffer back, in either order.
 *
 * A frame whose pbuf chain is lwIP's headers followed by one lent payload is sent in place:
 * the headers are copied into the room left in front of the payload and the device reads the
 * buffer. Anything else (ARP, ACKs, a retransmission while the device still holds the buffer,
 * a segment lwIP reshaped) is copied whole into a free buffer, as before.
 */
#ifndef NEXUS_TX_BUFFERS_H
#define NEXUS_TX_BUFFERS_H

#include <stdint.h>

#include "lwip/pbuf.h"
#include "port/port.h"

/* Room left in front of a lent payload for the Ethernet, IP and TCP headers (14 + 40 + 20 for
 * IPv6, with room for TCP options). */
#define TX_HEADROOM 128u

/* Free buffers never lent: ARP, ACKs and copied frames need some while lwIP holds the rest. A
 * bulk sender keeps up to TCP_SND_BUF / MSS = 54 segments unacknowledged, more than the 48 a
 * port's 64 leave to lend: its last segments are copied into lwIP's memory. */
#define TX_KEEP_FOR_FRAMES 16u

struct tx_buffer_stats {
    /* frames sent from a lent buffer; payload bytes lwIP took in lent buffers; loans refused
     * because the free buffers were down to those kept for frames; loans lwIP took in an
     * unexpected shape (the buffer stays lent: 0 unless lwIP changes) */
    uint64_t frames_in_place, lent_bytes, lend_refused, lent_lost;
};

void tx_buffers_init(struct port *port);
/* A free buffer for a frame about to be copied and sent: 0 and *handle, or -ENOBUFS. */
int tx_buffer_take(uint32_t *handle);
/* Sends p in place if it is headers + one lent payload and the device does not hold that
 * buffer now: 1 (header bytes copied added to *copied), else 0 and nothing done. */
int tx_send_in_place(struct pbuf *p, uint64_t *copied);
/* Lends a free buffer for up to `len` payload bytes whose source is at `src` (the payload is
 * placed at the same alignment modulo 8, so the copy moves whole words). Returns where to
 * write them and *handle, or NULL when the free buffers are down to those kept for frames. */
uint8_t *tx_buffer_lend(const void *src, uint32_t len, uint32_t *handle);
/* The custom pbuf over a lent buffer's `len` payload bytes; lwIP's freeing it ends the loan. */
struct pbuf *tx_buffer_pbuf(uint32_t handle, uint16_t len);
/* Ends a loan lwIP never took (its tcp_write failed). */
void tx_buffer_unlend(uint32_t handle);
/* A loan lwIP took in a shape tx_buffer_pbuf could not replace: the buffer stays lent (it may
 * still be sent from) and is counted. */
void tx_buffer_lost(uint32_t handle);
/* Sends a frame in parts (port_send_parts): p's own bytes (the headers; p->len at most
 * TX_HEADROOM) copied into a free buffer and counted in *copied, then the `nparts` link parts.
 * tags[k] (0 for none) is handed to the return hook when the device gives that buffer back.
 * 0, or -ENOBUFS. */
int tx_send_parts(const struct pbuf *p, const struct ion_desc *parts, const uint16_t *tags, unsigned nparts,
                  uint64_t *copied);
/* Takes the buffers the device gave back (TX free) without asking the kernel. */
void tx_buffers_reclaim(void);
/* Called with each tag of a buffer of tx_send_parts as it comes back. */
void tx_buffers_on_return(void (*hook)(uint16_t tag));
const struct tx_buffer_stats *tx_buffer_stats(void);
/* Buffers lent now (lent, or lent and on the device). */
uint32_t tx_buffers_lent(void);

#endif
