/*
 * Split virtqueues (Virtio 1.2, section 2.7): a descriptor table, the available ring the driver
 * fills and the used ring the device fills. Each chain carries a 32-bit cookie (the driver's
 * buffer handle) that comes back when the device has used the chain.
 *
 * The device is not trusted with the driver's bookkeeping: all of it lives in struct virtq, which
 * the device never sees, and every used-ring element is checked against it. An element naming a
 * descriptor outside the queue, or one that is not the head of a chain in flight (never posted,
 * or already completed), is dropped and counted in bad_used: no descriptor is freed twice and no
 * stale cookie comes back. An element whose length exceeds what the chain let the device write
 * still ends its chain (the device is done with it) but is reported as VIRTQ_USED_OVERLONG, and
 * counted, so the caller takes its buffer back without trusting what is in it.
 */
#ifndef NEXUS_VIRTQUEUE_H
#define NEXUS_VIRTQUEUE_H

#include <stdint.h>

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_USED_F_NO_NOTIFY 1 /* in used->flags: the device asks not to be notified */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1 /* in avail->flags: the driver asks for no interrupt */

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

/* The driver's record of a chain in flight, at the index of its head descriptor. */
struct virtq_chain {
    uint64_t writable_bytes; /* the most the device may say it wrote into the chain */
    uint32_t cookie;
    uint16_t descriptors;    /* 0: no chain in flight starts here (the in-flight mark) */
};

struct virtq {
    uint16_t num;            /* power of two */
    struct virtq_desc *desc; /* physically contiguous with avail and used (legacy layout) */
    struct virtq_avail *avail;
    struct virtq_used *used;
    void *mem;               /* the pages holding all three */
    uint32_t mem_pages;
    uint16_t free_head;      /* free descriptors are chained through link[] */
    uint16_t num_free;
    uint16_t last_used;      /* next used-ring entry to look at */
    uint64_t bad_used;       /* used elements dropped or overlong (see above) */
    /* The successor of each descriptor, in its chain or in the free list. The device may
     * rewrite desc[].next; the driver follows only this copy. */
    uint16_t link[VIRTQ_MAX];
    struct virtq_chain chain[VIRTQ_MAX];
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
/* What virtq_take_used found. */
enum virtq_used_result {
    VIRTQ_USED_NONE = 0,     /* no used chain left */
    VIRTQ_USED_OK = 1,       /* a chain: *cookie, and *len bytes the device wrote */
    VIRTQ_USED_OVERLONG = 2, /* a chain, *cookie, but the device claimed more bytes than it could
                              * write: *len is 0 and the buffers' contents are not to be trusted */
};
/* Asks the device to interrupt when it uses a chain (on), or not to (a hint it may ignore).
 * After turning them on, look at the used ring once more: a chain used before the device saw
 * the change raised none. */
void virtq_set_interrupts(struct virtq *vq, int on);
/* Takes the next used chain, skipping (and counting) elements that name no chain in flight.
 * The chain's descriptors are free again once it returns OK or OVERLONG. */
enum virtq_used_result virtq_take_used(struct virtq *vq, uint32_t *cookie, uint32_t *len);
/* 1 if the device has used-ring entries not yet looked at (some may turn out to be bad). */
int virtq_has_used(const struct virtq *vq);
/* 0 if the device said it needs no notification now (VIRTQ_USED_F_NO_NOTIFY: it is working
 * through the queue, or has buffers enough), after the chains added so far are visible to it
 * (virtio 1.2, 2.7.10). A notification it did not ask for is still harmless, but under QEMU
 * each one is an exit to the host that takes QEMU's global lock. */
int virtq_device_wants_notify(const struct virtq *vq);

#endif
