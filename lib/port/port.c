/* A network service's end of its NetSwitch port (port.h). */
#include "port.h"

#include <errno.h>

#include "nexus.h"

static void attach_ring(struct port *p, struct ion_ring *r, int index) {
    ion_ring_attach(r, (void *)(p->info.rings_va + (uint64_t)index * NEXUS_ION_RING_STRIDE), p->info.ring_capacity);
}

int port_attach(struct port *p) {
    if (nx_ion_info(&p->info) != 0)
        return -ENODEV;
    attach_ring(p, &p->rx_active, NEXUS_ION_RING_RX_ACTIVE);
    attach_ring(p, &p->rx_free, NEXUS_ION_RING_RX_FREE);
    attach_ring(p, &p->tx_active, NEXUS_ION_RING_TX_ACTIVE);
    attach_ring(p, &p->tx_free, NEXUS_ION_RING_TX_FREE);
    p->kick_pending = 0;
    return 0;
}

uint8_t *port_buffer(const struct port *p, uint32_t handle) {
    return (uint8_t *)(p->info.pool_va + (uint64_t)handle * p->info.buf_size);
}

int port_is_rx_buffer(const struct port *p, uint32_t handle) { return handle < p->info.tx_first; }

static int frame_fits(const struct port *p, const struct ion_desc *d) {
    return d->length >= NEXUS_ETH_HDR_LEN && (uint32_t)d->offset + d->length <= p->info.buf_size;
}

/* Enqueues on a ring the kernel drains, kicking it while the ring is full. */
static void enqueue_for_kernel(struct port *p, struct ion_ring *r, const struct ion_desc *d) {
    while (ion_ring_enqueue(r, d) == ION_RING_FULL)
        nx_ion_kick();
    p->kick_pending = 1;
}

uint32_t port_receive(struct port *p, struct ion_desc *d, uint32_t max) {
    uint32_t n = ion_ring_dequeue_batch(&p->rx_active, d, max), kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!port_is_rx_buffer(p, d[i].handle) || !frame_fits(p, &d[i])) {
            p->rx_refused++;
            if (port_is_rx_buffer(p, d[i].handle))
                port_return(p, d[i].handle); /* a real RX buffer with a bad length: still ours */
            continue;
        }
        d[kept++] = d[i];
    }
    return kept;
}

void port_return(struct port *p, uint32_t handle) {
    struct ion_desc back = {handle, 0, 0};
    enqueue_for_kernel(p, &p->rx_free, &back);
}

int port_tx_poll(struct port *p, uint32_t *handle) {
    struct ion_desc d;
    if (ion_ring_dequeue(&p->tx_free, &d) != ION_RING_OK)
        return -ENOBUFS;
    if (d.handle < p->info.tx_first || d.handle - p->info.tx_first >= p->info.tx_count)
        return -ENOBUFS; /* not one of our TX buffers: the kernel would refuse to send it */
    *handle = d.handle;
    return 0;
}

int port_tx_take(struct port *p, uint32_t *handle) {
    if (port_tx_poll(p, handle) == 0)
        return 0;
    nx_ion_kick(); /* reclaims completed transmissions onto TX free */
    p->kick_pending = 0;
    return port_tx_poll(p, handle);
}

void port_send_at(struct port *p, uint32_t handle, uint16_t offset, uint16_t len) {
    struct ion_desc out = {handle, offset, len};
    enqueue_for_kernel(p, &p->tx_active, &out);
}

void port_send(struct port *p, uint32_t handle, uint16_t len) { port_send_at(p, handle, 0, len); }

int port_send_parts(struct port *p, uint32_t handle, uint16_t offset, uint16_t len, const struct ion_desc *parts,
                    unsigned nparts) {
    if (nparts == 0 || nparts > NEXUS_ION_TX_LINK_PARTS)
        return -EINVAL;
    struct ion_desc all[1 + NEXUS_ION_TX_LINK_PARTS];
    all[0] = (struct ion_desc){handle, offset, (uint16_t)(len | NEXUS_ION_TX_MORE)};
    for (unsigned i = 0; i < nparts; i++) {
        all[1 + i] = parts[i];
        if (i + 1 < nparts)
            all[1 + i].length |= NEXUS_ION_TX_MORE;
    }
    /* Every part in one batch: the kernel never sees a frame without the rest of it. */
    while (ion_ring_free_space(&p->tx_active) < 1 + nparts && !ion_ring_corrupt(&p->tx_active))
        nx_ion_kick();
    ion_ring_enqueue_batch(&p->tx_active, all, 1 + nparts);
    p->kick_pending = 1;
    return 0;
}

void port_flush(struct port *p) {
    if (p->kick_pending) {
        p->kick_pending = 0;
        nx_ion_kick();
    }
}

void port_hand_over(struct port *p) { p->kick_pending = 0; }

int port_sleep_prepare(struct port *p) { return ion_ring_consumer_sleep_prepare(&p->rx_active); }

int port_tx_sleep_prepare(struct port *p) { return ion_ring_consumer_sleep_prepare(&p->tx_free); }
