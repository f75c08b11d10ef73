#include "virtio_rng.h"

#include <string.h>

#include "virtio_mmio.h"
#include "virtqueue.h"

static struct virtio_dev dev;
static struct virtq vq;
static int present;
static uint8_t bounce[256] __attribute__((aligned(64)));

int virtio_rng_init(uint64_t base, uint32_t irq) {
    if (virtio_dev_init(&dev, base, irq, 0) != 0 || virtq_create(&vq, 8) != 0 ||
        virtio_dev_setup_queue(&dev, 0, &vq) != 0)
        return -1;
    virtio_dev_ready(&dev);
    present = 1;
    return 0;
}

int virtio_rng_present(void) { return present; }

int virtio_rng_read(uint8_t *buf, size_t len) {
    if (!present)
        return -1;
    if (len > sizeof bounce)
        len = sizeof bounce;
    struct virtq_buf b = {(uint64_t)bounce, (uint32_t)len, 1};
    if (virtq_add(&vq, &b, 1, 0) != 0)
        return -1;
    virtio_dev_notify(&dev, 0);
    uint32_t cookie, got;
    enum virtq_used_result r;
    for (uint32_t spins = 0; (r = virtq_take_used(&vq, &cookie, &got)) == VIRTQ_USED_NONE; spins++)
        if (spins > 100000000u) /* a device that never answers must not hang the kernel */
            return -1;
    if (r == VIRTQ_USED_OVERLONG)
        return -1;
    memcpy(buf, bounce, got);
    return (int)got;
}
