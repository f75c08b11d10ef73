/* virtio-rng (Virtio 1.2, section 5.4): the entropy source. One queue of device-writable
 * buffers that the device fills with random bytes. */
#ifndef NEXUS_VIRTIO_RNG_H
#define NEXUS_VIRTIO_RNG_H

#include <stddef.h>
#include <stdint.h>

int virtio_rng_init(uint64_t base, uint32_t irq);
int virtio_rng_present(void);
/* Fills buf with len (<= 256) bytes from the device, polling until it answers. Returns the
 * number of bytes, or -1 without a device. Boot-time use: the caller waits. */
int virtio_rng_read(uint8_t *buf, size_t len);

#endif
