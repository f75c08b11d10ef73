/*
 * Split virtqueues (Virtio 1.2, section 2.7): a descriptor table, the available ring the driver
 * fills and the used ring the device fills. Each chain carries a 32-bit cookie (the driver's
 * buffer handle) that comes back when the device has used the chain.
 */
#ifndef NEXUS_VIRTQUEUE_H
#define NEXUS_VIRTQUEUE_H

#include <stdint.h>

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

#define VIRTQ_MAX 256

struct virtq {
    uint16_t num;            /* power of two */
    struct virtq_desc *desc; /* physically contiguous with avail and used (legacy layout) */
    struct virtq_avail *avail;
    struct virtq_used *used;
    void *mem;               /* the pages holding all three */
    uint32_t mem_pages;
    uint16_t free_head;      /* free descriptors are chained through .next */
    uint16_t num_free;
    uint16_t last_used;      /* next used-ring entry to look at */
    uint32_t cookie[VIRTQ_MAX];
};

/* One buffer of a chain: physical address and length; device_writes for device-writable. */
struct virtq_buf {
    uint64_t addr;
    uint32_t len;
    int device_writes;
};

/* Allocates and lays out a queue of `num` entries (power of two, <= VIRTQ_MAX). 0 or -1. */
int virtq_create(struct virtq *vq, uint16_t num);
/* Adds a chain; returns 0, or -1 when there are not enough free descriptors. The caller
 * notifies the device (after a batch). */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, int n, uint32_t cookie);
/* Takes the next used chain: 1 with *cookie and *len (bytes the device wrote), 0 if none. */
int virtq_take_used(struct virtq *vq, uint32_t *cookie, uint32_t *len);
/* 1 if the device has used chains not yet taken. */
int virtq_has_used(const struct virtq *vq);

#endif
