/* virtio-rng (Virtio 1.2, section 5.4): the entropy source. One queue of device-writable
 * buffers that the device fills with random bytes. QEMU exposes it with
 * `-device virtio-rng-device` on a virtio-mmio slot; a machine may have none. */
#ifndef NEXUS_VIRTIO_RNG_H
#define NEXUS_VIRTIO_RNG_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_RNG_READ_MAX 256 /* the most one read returns */

int virtio_rng_init(uint64_t base, uint32_t irq);
int virtio_rng_present(void);
/* Up to len (<= VIRTIO_RNG_READ_MAX) bytes from the device into buf, polling at most
 * VIRTIO_RNG_WAIT_MS for its answer. Returns the bytes written, which may be fewer than len
 * (the device may answer short, or with 0 bytes; the caller asks again), or -ENODEV without a
 * device, -EAGAIN when it has not answered in time (its buffer stays posted and is collected by
 * a later read), -EIO when it claimed more bytes than the buffer holds. Each read that got an
 * answer asks for the next before it returns (as init asks for the first), so a read seldom
 * waits for the device. */
int virtio_rng_read(uint8_t *buf, size_t len);

#endif
