/*
 * virtio-mmio transport (Virtio 1.2, section 4.2), legacy (version 1, QEMU's default) and
 * modern (version 2, `-global virtio-mmio.force-legacy=false`). QEMU virt has eight slots at
 * 0x10001000 + n * 0x1000 with PLIC sources 1 + n; an empty slot reads device id 0.
 */
#ifndef NEXUS_VIRTIO_MMIO_H
#define NEXUS_VIRTIO_MMIO_H

#include <stdint.h>

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

#define VIRTIO_ID_NET     1
#define VIRTIO_ID_ENTROPY 4

#define VIRTIO_F_VERSION_1 32 /* feature bit numbers */

struct virtio_mmio_id {
    uint32_t magic;
    uint32_t version;   /* 1 legacy, 2 modern */
    uint32_t device_id; /* 0 = empty slot, 1 net, 2 block, 4 entropy, ... */
    uint32_t vendor_id;
};

struct virtq;

struct virtio_dev {
    uint64_t base;
    uint32_t version;
    uint32_t irq;
    uint64_t features; /* negotiated */
};

void virtio_mmio_identify(uint64_t base, struct virtio_mmio_id *out);
/* "net", "block", "console", "entropy", ..., "none" for 0, "unknown" otherwise. */
const char *virtio_device_name(uint32_t device_id);

/* Resets the device and negotiates: `wanted` feature bits the driver understands (VERSION_1 is
 * added for modern devices). 0, or -1 if the device refused (status FAILED set). */
int virtio_dev_init(struct virtio_dev *dev, uint64_t base, uint32_t irq, uint64_t wanted);
/* Sets up queue `index` with vq's rings (allocated by virtq_create). 0 or -1. */
int virtio_dev_setup_queue(struct virtio_dev *dev, uint32_t index, struct virtq *vq);
/* Largest size the device accepts for queue `index` (0 if the queue does not exist). */
uint32_t virtio_dev_queue_max(struct virtio_dev *dev, uint32_t index);
/* Sets DRIVER_OK: the device may now use the queues. */
void virtio_dev_ready(struct virtio_dev *dev);
void virtio_dev_notify(struct virtio_dev *dev, uint32_t queue);
/* Reads and acknowledges the interrupt status (bit 0: used buffers, bit 1: config change). */
uint32_t virtio_dev_ack_interrupt(struct virtio_dev *dev);
uint8_t virtio_dev_config8(struct virtio_dev *dev, uint32_t offset);
uint16_t virtio_dev_config16(struct virtio_dev *dev, uint32_t offset);
int virtio_dev_has(const struct virtio_dev *dev, unsigned bit);

#endif
