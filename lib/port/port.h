/*
 * The port half of the service skeleton: a network service's end of its NetSwitch port
 * (nexus/syscall.h, struct nexus_ion_info; docs/ion.md), written once for the Membrane's netif,
 * the test services and the LWF and UTCP services to come. The kernel gives the port four
 * rings in pairs: RX active (frames for us) and RX free (buffers we give back), TX active
 * (frames we send) and TX free (our TX buffers coming back). Received frames are read in place
 * in the pool; every RX buffer taken must be returned. Writes onto the kernel's rings are
 * batched: port_flush() kicks the kernel once for everything queued since the last flush.
 */
#ifndef NEXUS_PORT_H
#define NEXUS_PORT_H

#include <stdint.h>

#include "ion_ring.h"
#include "nexus/syscall.h"


struct port {
    struct nexus_ion_info info;
    struct ion_ring rx_active, rx_free, tx_active, tx_free;
    int kick_pending;
    uint64_t rx_refused; /* descriptors from the kernel that named no RX buffer or overran it */
};

/* Maps this fiber's port. 0, or -ENODEV if it holds none. */
int port_attach(struct port *p);
/* Up to max received frames; descriptors that name no RX buffer of the pool or a frame
 * that does not fit its buffer are counted in rx_refused and never returned. */
uint32_t port_receive(struct port *p, struct ion_desc *d, uint32_t max);
/* Gives an RX buffer back (after its frame is done with). */
void port_return(struct port *p, uint32_t handle);
/* A buffer's memory (RX: the frame at its offset; TX: ours to fill). */
uint8_t *port_buffer(const struct port *p, uint32_t handle);
/* 1 if handle is one of the pool's RX buffers. */
int port_is_rx_buffer(const struct port *p, uint32_t handle);
/* Takes a free TX buffer, asking the kernel to reclaim finished transmissions if none is
 * free. 0 and *handle, or -ENOBUFS if every TX buffer is still in flight. */
int port_tx_take(struct port *p, uint32_t *handle);
/* The same without asking the kernel: a TX buffer already back on TX free, or -ENOBUFS. */
int port_tx_poll(struct port *p, uint32_t *handle);
/* Queues TX buffer `handle` holding a frame of len bytes for the device. */
void port_send(struct port *p, uint32_t handle, uint16_t len);
/* The same for a frame that starts `offset` bytes into the buffer. */
void port_send_at(struct port *p, uint32_t handle, uint16_t offset, uint16_t len);
/* A frame in parts (NEXUS_ION_TX_MORE): its first len bytes at `offset` in TX buffer `handle`,
 * the rest as the `nparts` link parts say, in order (1 to NEXUS_ION_TX_LINK_PARTS, in links this
 * fiber serves; their lengths without NEXUS_ION_TX_MORE, which this sets). 0, or -EINVAL for
 * another count of parts. */
int port_send_parts(struct port *p, uint32_t handle, uint16_t offset, uint16_t len, const struct ion_desc *parts,
                    unsigned nparts);
/* Hands everything queued to the kernel (one syscall, only if something was). */
void port_flush(struct port *p);
/* For a loop that yields or waits right after: what is queued goes out then, since the kernel
 * takes a port's returns and sends its queued frames whenever its fiber gives up the CPU
 * (docs/ion.md). Saves the kick, a syscall. */
void port_hand_over(struct port *p);
/* Before sleeping: 1 if nothing is waiting on the RX ring (and the kernel will signal). */
int port_sleep_prepare(struct port *p);
/* Before sleeping for a TX buffer: 1 if none has come back yet (and the kernel will signal when
 * one does). */
int port_tx_sleep_prepare(struct port *p);
/* The channel the kernel signals when frames arrive or TX buffers come back. */
static inline int port_channel(const struct port *p) { return (int)p->info.channel; }

#endif
