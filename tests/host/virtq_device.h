/*
 * The device's side of a split virtqueue, for host tests and the fuzz target: it reads what the
 * driver posted on the available ring and writes the used ring directly, the way a device (a
 * buggy or a hostile one) can write anything there.
 */
#ifndef NEXUS_TEST_VIRTQ_DEVICE_H
#define NEXUS_TEST_VIRTQ_DEVICE_H

#include <stdint.h>

#include "virtqueue.h"

/* The head of the chain the driver posted last. */
static inline uint16_t device_last_posted(const struct virtq *vq) {
    return vq->avail->ring[(uint16_t)(vq->avail->idx - 1) & (vq->num - 1)];
}

/* Publishes one used element, as the device does: the entry first, then the index. */
static inline void device_complete(struct virtq *vq, uint32_t id, uint32_t len) {
    uint16_t idx = vq->used->idx;
    vq->used->ring[idx & (vq->num - 1)] = (struct virtq_used_elem){id, len};
    vq->used->idx = (uint16_t)(idx + 1);
}

#endif
