/*
 * virtio-net (Virtio 1.2, section 5.1) over virtio-mmio. Frames live in packet-pool buffers
 * owned by the NetSwitch: the driver posts empty buffers to the receive queue, the device DMAs
 * header + frame into them, and the driver hands (handle, offset of the frame, length) up
 * without touching a byte. Transmit chains a shared zeroed header to the caller's buffer, so
 * sending copies nothing either.
 */
#ifndef NEXUS_VIRTIO_NET_H
#define NEXUS_VIRTIO_NET_H

#include <stdint.h>

/* What the driver needs from its user (the NetSwitch). */
struct virtio_net_client {
    /* Physical address of pool buffer `handle` (buffers are `buf_size` bytes). */
    uint64_t (*buffer_addr)(uint32_t handle);
    uint32_t buf_size;
    /* A received frame: the first `len` bytes at `offset` in buffer `handle`. */
    void (*rx)(uint32_t handle, uint32_t offset, uint32_t len);
    /* The device is done sending buffer `handle`. */
    void (*tx_done)(uint32_t handle);
    /* Transmit descriptors came free (after a batch of tx_done): frames held back can go. */
    void (*tx_space)(void);
};

struct virtio_net_info {
    uint8_t mac[6];
    int link_up;
    uint32_t version;  /* transport */
    uint32_t hdr_len;  /* 10 legacy, 12 with VERSION_1 */
    uint32_t rx_slots, tx_slots;
};

/* Initialises the device at base/irq. 0 or -1. */
int virtio_net_init(uint64_t base, uint32_t irq, const struct virtio_net_client *client);
const struct virtio_net_info *virtio_net_info(void);
/* Used-ring elements of either queue the device got wrong (virtqueue.h): dropped, or an
 * overlong length whose frame went up empty. */
uint64_t virtio_net_bad_used(void);
/* Notifies written to the device, and those skipped because it said it needed none. */
struct virtio_net_notifies {
    uint64_t sent, skipped;
};
struct virtio_net_notifies virtio_net_notifies(void);
/* Gives an empty buffer to the device. 0, or -1 if the receive queue is full. */
int virtio_net_post_rx(uint32_t handle);
/* Empty buffers virtio_net_post_rx can still give the device right now. */
uint32_t virtio_net_rx_room(void);
/* A part of a frame that lies outside the pool: `len` bytes at physical address `addr`. */
struct virtio_net_part {
    uint64_t addr;
    uint32_t len;
};
#define VIRTIO_NET_TX_PARTS 2 /* parts after the buffer's own bytes */
/* Queues a frame for sending: its 14-byte Ethernet header from `eth` (kernel memory that stays
 * untouched until tx_done), `len` bytes at `offset` in buffer `handle`, then the `nparts` parts
 * (at most VIRTIO_NET_TX_PARTS) in order. 0, or -1 if the transmit queue is full. */
int virtio_net_tx_split(uint32_t handle, const uint8_t *eth, uint32_t offset, uint32_t len,
                        const struct virtio_net_part *parts, unsigned nparts);
/* Frames virtio_net_tx_split can queue right now. */
uint32_t virtio_net_tx_room(void);
/* Collects finished transmissions (tx_done for each) without touching the receive queue.
 * Returns how many. */
int virtio_net_reap_tx(void);
/* Tells the device about buffers posted or queued since the last flush. */
void virtio_net_flush(void);
/* Collects used receive and transmit buffers (also called from the interrupt). */
void virtio_net_poll(void);
/* 1 if the device has used buffers virtio_net_poll would collect. */
int virtio_net_pending(void);
/* The device's interrupts on or off (both queues; a hint the device may ignore). Turned on,
 * check virtio_net_pending before sleeping: what it finished meanwhile raised none. */
void virtio_net_interrupts(int on);

#endif
