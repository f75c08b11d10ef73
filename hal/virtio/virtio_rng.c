#include "virtio_rng.h"

#include <errno.h>
#include <string.h>

#include "riscv.h"
#include "timer.h"
#include "virtio_mmio.h"
#include "virtqueue.h"

/* The kernel polls with interrupts off: a device that stalls must cost a bounded time. A
 * healthy QEMU device answers in microseconds; a rate-limited one (max-bytes/period) may take
 * its period, and its answer is then collected by the next read. */
#define VIRTIO_RNG_WAIT_MS 100

static struct virtio_dev dev;
static struct virtq vq;
static int present;
/* One request at a time, into one bounce buffer. While the device has not answered, the buffer
 * is the device's: a timed-out request stays posted and no second one is made, so the device
 * never writes into a buffer the kernel has handed on. */
static int request_posted;
static uint8_t bounce[VIRTIO_RNG_READ_MAX] __attribute__((aligned(64)));

/* Asks for a whole buffer unless a request is out. A read posts the next one as it returns, so
 * the one after finds the answer there: QEMU delivers it from its own thread, and a read that
 * posted and then waited spun for as long as the host took to run that thread (a restarted
 * Membrane's first random numbers, its DHCP request's transaction id among them, waited so). */
static int post_request(void) {
    if (request_posted)
        return 0;
    struct virtq_buf b = {(uint64_t)bounce, (uint32_t)sizeof bounce, 1};
    if (virtq_add(&vq, &b, 1, 0) != 0)
        return -EIO;
    request_posted = 1;
    virtio_dev_notify(&dev, 0);
    return 0;
}

int virtio_rng_init(uint64_t base, uint32_t irq) {
    if (virtio_dev_init(&dev, base, irq, 0) != 0 || virtq_create(&vq, 8) != 0 ||
        virtio_dev_setup_queue(&dev, 0, &vq) != 0)
        return -1;
    virtio_dev_ready(&dev);
    present = 1;
    post_request();
    return 0;
}

int virtio_rng_present(void) { return present; }

int virtio_rng_read(uint8_t *buf, size_t len) {
    if (!present)
        return -ENODEV;
    if (len > sizeof bounce)
        len = sizeof bounce;
    if (post_request() != 0)
        return -EIO;
    uint64_t deadline = rdtime() + timer_ticks_from_ns(VIRTIO_RNG_WAIT_MS * 1000000ull);
    uint32_t cookie, got;
    enum virtq_used_result r;
    while ((r = virtq_take_used(&vq, &cookie, &got)) == VIRTQ_USED_NONE)
        if (rdtime() > deadline)
            return -EAGAIN;
    request_posted = 0;
    if (r == VIRTQ_USED_OVERLONG) {
        post_request();
        return -EIO;
    }
    if (got > len)
        got = (uint32_t)len;
    memcpy(buf, bounce, got);
    memset(bounce, 0, got); /* handed on: not kept for anyone else (the device overwrites the rest) */
    post_request();
    return (int)got;
}
