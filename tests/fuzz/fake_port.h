/*
 * The kernel's end of one NetSwitch port, in host memory, so that lib/port/port.c and
 * lwip/netif_ion.c run natively under the fuzzer unchanged. It answers the two syscalls the
 * port makes (nx_ion_info, nx_ion_kick) the way the NetSwitch does (docs/ion.md): four ION rings,
 * a pool of RX buffers followed by the port's TX buffers, RX frames at the virtio-net header's
 * offset. As on Nexus, the service's view of the RX buffers is read-only (the pool is one memfd
 * mapped twice: the "kernel" writes frames through its own view), so a write by lwIP into a
 * frame the Membrane passed on without copying is a fault, as it is in the guest.
 *
 * The kernel's rules become checks (abort): an RX buffer comes back at most once and only after
 * it was handed out; a TX descriptor names one of the port's TX buffers that the service took,
 * and a frame of 14..1514 bytes, and not one the device still holds.
 */
#ifndef NEXUS_FAKE_PORT_H
#define NEXUS_FAKE_PORT_H

#include <stdint.h>

#define FAKE_PORT_RX_OFFSET 12 /* a modern virtio-net header precedes the frame */

typedef void (*fake_port_tx_fn)(const uint8_t *frame, uint32_t len);

/* Maps the pool and rings once; every TX buffer starts on the TX-free ring. */
void fake_port_init(const uint8_t mac[6], fake_port_tx_fn on_tx);
/* Copies a frame of len bytes (at most fake_port_frame_max()) into a free RX buffer and queues
 * it on the RX-active ring. 0, or -1 if no RX buffer is free or the ring is full. */
int fake_port_deliver(const uint8_t *frame, uint32_t len);
uint32_t fake_port_frame_max(void);
/* RX buffers handed to the service and not yet returned. */
uint32_t fake_port_rx_outstanding(void);
/* While holding, the device keeps what it sends (a slow device): a TX buffer sent again before
 * it came back is a check failure. Ending the hold gives them all back on TX free. */
void fake_port_hold_tx(int hold);
/* Lets frames end in the pages of link `id` (size bytes at base), as the kernel does for a
 * link the service serves: the observer sees such a frame whole. */
void fake_port_link(uint32_t id, const uint8_t *base, uint32_t size);

#endif
