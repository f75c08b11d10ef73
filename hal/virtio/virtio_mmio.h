/*
 * virtio-mmio transport (Virtio 1.2, section 4.2). This first part only identifies what sits in
 * each slot: QEMU virt always has eight slots, and an empty one reads device id 0.
 */
#ifndef NEXUS_VIRTIO_MMIO_H
#define NEXUS_VIRTIO_MMIO_H

#include <stdint.h>

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

struct virtio_mmio_id {
    uint32_t magic;
    uint32_t version;   /* 1 legacy, 2 modern */
    uint32_t device_id; /* 0 = empty slot, 1 net, 2 block, 4 entropy, ... */
    uint32_t vendor_id;
};

void virtio_mmio_identify(uint64_t base, struct virtio_mmio_id *out);
/* "net", "block", "console", "entropy", ..., "none" for 0, "unknown" otherwise. */
const char *virtio_device_name(uint32_t device_id);

#endif
