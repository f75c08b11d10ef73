/*
 * An lwIP network interface over the caller's NetSwitch port (docs/ion.md). Receive is zero
 * copy: each frame is handed to lwIP as a custom pbuf over the pool buffer the device wrote,
 * and the buffer goes back on the RX-free ring when lwIP frees the pbuf. The pool is read-only
 * here, so the frames lwIP writes into are copied first (rx_frame_policy.h): TCP headers (the
 * payload stays in the pool), IPv4 echo requests and IP fragments whole. Transmit sends a TCP
 * segment whose payload lwIP holds in a lent TX buffer from that buffer, its headers copied in
 * front (tx_buffers.h); any other frame is copied into a free TX buffer (lwIP's own memory is
 * not device visible). The kernel checks the EtherType before the device sends it. Of a
 * connection's pure ACKs in one batch, lwIP sees only the last when that changes nothing its
 * congestion control counts (rx_ack_coalesce.h).
 */
#ifndef NEXUS_NETIF_ION_H
#define NEXUS_NETIF_ION_H

#include <stdint.h>

#include "lwip/netif.h"

struct ion_netif_stats {
    uint64_t rx_frames, rx_bad_handle, rx_refused, tx_frames, tx_no_buffer, tx_oversize;
    /* Copies out of the read-only pool: whole frames (echo requests, fragments), TCP headers,
     * and frames dropped because lwIP's heap had no room for the copy. */
    uint64_t rx_copied_frames, rx_copied_bytes, rx_header_bytes, rx_no_memory;
    /* Frame bytes copied from lwIP's pbufs into TX pool buffers: whole frames, and apart the
     * headers of frames whose payload is sent where it lies (a send area's chunk, a lent
     * buffer); and bytes lwIP checksummed in software (both directions: lwIP sums RX and TX
     * through the same routine). */
    uint64_t tx_frame_copied_bytes, tx_header_bytes, checksummed_bytes;
    /* Pure ACKs returned unseen by lwIP: a later one of the same connection in the same batch
     * said more (rx_ack_coalesce.h). */
    uint64_t rx_acks_coalesced;
};

/* Attaches to the port and adds `netif` to lwIP (not yet up). 0, or -errno if this fiber holds
 * no port. */
int ion_netif_add(struct netif *netif);
/* Feeds up to one batch of received frames to lwIP. Returns how many. */
unsigned ion_netif_poll(struct netif *netif);
/* Hands queued TX frames and returned RX buffers to the kernel (one syscall, only if needed). */
void ion_netif_flush(void);
/* The same without the syscall, for a loop that yields or waits next (the Membrane's, after
 * every pass): the kernel takes them then (port_hand_over). */
void ion_netif_hand_over(void);
/* Frames lwIP sent since the last ion_netif_flush: the ones it will hand to the kernel. */
unsigned ion_netif_unflushed(void);
/* Before sleeping: 1 if nothing is waiting on the RX ring (and the kernel will signal). */
int ion_netif_sleep_prepare(void);
/* The channel the kernel signals when frames arrive. */
uint32_t ion_netif_channel(void);
const struct ion_netif_stats *ion_netif_stats(void);

#endif
