/*
 * Ports and the fibers holding them: binding gives a fiber a port's doorbell channel, maps its
 * rings and the pool into the fiber's address space and hands it the port's TX buffers; when the
 * fiber dies, every buffer it held comes back. Also answers a holder's ion_info syscall with the
 * layout it was given.
 */
#include <errno.h>
#include <string.h>

#include "cspace.h"
#include "mem.h"
#include "netswitch.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

/* Maps the port's rings (with WRITE read-write: each side writes its own index) and the pool:
 * RX buffers read-only for every service, the Membrane included, so no service can alter a
 * frame the kernel routed to another (the Membrane copies the few frames lwIP writes into:
 * docs/security.md); the port's own TX buffers writable, nobody else's TX buffers at all.
 * Without WRITE, everything is read-only. */
static int map_port(unsigned port, pagetable_t pt, unsigned rights) {
    uint64_t rw = rights & CAP_WRITE ? PTE_R | PTE_W : PTE_R;
    for (int r = 0; r < RINGS_PER_PORT; r++)
        if (vm_user_map_shared(pt, ION_RINGS_VA + (uint64_t)r * PAGE_SIZE, (uint64_t)ns_switch.ports[port].ring_pages[r], 1, rw))
            return -ENOMEM;
    if (vm_user_map_shared(pt, ION_POOL_VA, (uint64_t)ns_switch.pool, PAGE_ROUND_UP(RX_BUFS * BUF_SIZE) / PAGE_SIZE, PTE_R))
        return -ENOMEM;
    uint64_t tx_off = (uint64_t)tx_first(port) * BUF_SIZE;
    if (vm_user_map_shared(pt, ION_POOL_VA + tx_off, (uint64_t)ns_switch.pool + tx_off, PAGE_ROUND_UP(TX_BUFS_PER_PORT * BUF_SIZE) / PAGE_SIZE, rw))
        return -ENOMEM;
    return 0;
}

/* Moves buffer h to `to` if `from` holds it; 1 if it moved. The owner is asked first because
 * binding and taking back a dead service's buffers look at every buffer, expecting most to be
 * elsewhere: a bare transfer would count each of those in the pool's refusals, which are meant
 * for hand-overs a service claims and cannot back (/Bus/net/pool/refused_transfers). A bulk
 * ion_pool_reclaim does not fit here: each RX buffer that comes back must be reposted, and
 * afterwards it could not be told from the spare ones the kernel already held. */
static int take_if_held(uint32_t h, uint8_t from, uint8_t to) {
    return ion_pool_owner(&ns_switch.owner_table, h) == from &&
           ion_pool_transfer(&ns_switch.owner_table, h, from, to) == 0;
}

int netswitch_bind(unsigned port, struct fiber *f, unsigned rights) {
    if (!netswitch_up())
        return -ENODEV;
    if (port >= NS_PORTS || ns_switch.ports[port].fiber || !f->pt || f->net_port >= 0)
        return -EBUSY;
    int err = cspace_grant(&f->caps, PORT_CHANNEL_BASE + port, rights);
    if (!err)
        err = map_port(port, f->pt, rights);
    if (err)
        return err;
    struct port *p = &ns_switch.ports[port];
    p->tx_blocked = 0;
    for (int r = 0; r < RINGS_PER_PORT; r++)
        ion_ring_init(&p->ring[r], p->ring_pages[r], p->ring_capacity);
    /* Every TX buffer of the port that is home goes to the new service. */
    for (uint32_t h = tx_first(port); h < tx_first(port) + TX_BUFS_PER_PORT; h++) {
        if (!take_if_held(h, OWNER_KERNEL, port_owner(port)))
            continue;
        struct ion_desc d = {h, 0, 0};
        ion_ring_enqueue(&p->ring[NEXUS_ION_RING_TX_FREE], &d);
    }
    p->fiber = f;
    ns_rx_fold(); /* before the port gets credit (struct rx_lane) */
    p->rx_credit = p->rx_budget; /* it holds no RX buffer yet: netswitch_fiber_gone took them back */
    f->net_port = (int)port;
    ns_publish_port_holder(port);
    return 0;
}

void netswitch_fiber_gone(struct fiber *f) {
    int port = port_of_fiber(f);
    if (port < 0)
        return;
    struct port *p = &ns_switch.ports[port];
    /* Buffers the dead service held: RX ones go back to the device, TX ones wait at home for
     * the next holder. Buffers still with the device come back through the used rings. */
    for (uint32_t h = 0; h < POOL_BUFS; h++) {
        if (take_if_held(h, port_owner((unsigned)port), OWNER_KERNEL) && is_rx_handle(h))
            ns_rx_buffer_home(h);
    }
    p->rx_credit = 0; /* no fiber, no frames: the RX path's one test refuses them as no_service */
    virtio_net_flush();
    p->fiber = NULL;
    f->net_port = -1;
    ns_publish_port_holder((unsigned)port);
}

int netswitch_info(struct fiber *f, struct nexus_ion_info *out) {
    int port = port_of_fiber(f);
    if (port < 0)
        return -ENODEV;
    memset(out, 0, sizeof *out);
    out->rings_va = ION_RINGS_VA;
    out->pool_va = ION_POOL_VA;
    out->ring_capacity = ns_switch.ports[port].ring_capacity;
    out->buf_size = BUF_SIZE;
    out->tx_first = tx_first((unsigned)port);
    out->tx_count = TX_BUFS_PER_PORT;
    out->channel = PORT_CHANNEL_BASE + (uint32_t)port;
    out->port = (uint32_t)port;
    memcpy(out->mac, virtio_net_info()->mac, 6);
    return 0;
}
