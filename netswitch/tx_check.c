/*
 * TX checks: frames a service queued on its TX-active ring go to the device only if the handle
 * is one of the port's own TX buffers and it holds it, the length is an Ethernet frame's, and
 * the EtherType is one the port is granted (route.c). Sent buffers return to the port's TX-free
 * ring. A service's kick (the ion_kick syscall) lands here too: it also hands back RX buffers.
 */
#include <errno.h>
#include <string.h>

#include "cspace.h"
#include "link.h"
#include "netswitch.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

_Static_assert(NEXUS_ION_TX_LINK_PARTS <= VIRTIO_NET_TX_PARTS, "the device takes every link part a frame may have");

static uint8_t tx_eth[POOL_BUFS][16]; /* the checked Ethernet header of each TX in flight */

void ns_tx_done(uint32_t h) {
    unsigned p = (h - RX_BUFS) / TX_BUFS_PER_PORT;
    if (p >= NS_PORTS || ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, OWNER_KERNEL) != 0)
        return;
    if (!ns_switch.ports[p].fiber)
        return; /* the service died meanwhile; its successor gets the buffer at bind */
    struct ion_desc d = {h, 0, 0};
    ion_pool_transfer(&ns_switch.owner_table, h, OWNER_KERNEL, port_owner(p));
    if (ion_ring_enqueue(&ns_switch.ports[p].ring[NEXUS_ION_RING_TX_FREE], &d) != 0)
        ion_pool_transfer(&ns_switch.owner_table, h, port_owner(p), OWNER_KERNEL);
    else if (ion_ring_producer_should_wake(&ns_switch.ports[p].ring[NEXUS_ION_RING_TX_FREE]))
        channel_signal(PORT_CHANNEL_BASE + (int)p);
}

/* Returns a TX buffer the kernel refused to send to its service's free ring. */
static void tx_give_back(struct port *p, unsigned port, uint32_t h) {
    struct ion_desc d = {h, 0, 0};
    if (ion_ring_enqueue(&p->ring[NEXUS_ION_RING_TX_FREE], &d) != 0)
        ion_pool_transfer(&ns_switch.owner_table, h, port_owner(port), OWNER_KERNEL);
}

/* Where a link part of a frame lies (NEXUS_ION_TX_MORE): in a link the port's fiber serves, else
 * 0. The kernel reads none of its bytes. */
static uint64_t link_part_at(const struct port *p, const struct ion_desc *part) {
    uint32_t len = part->length & ~NEXUS_ION_TX_MORE;
    if (!(part->handle & NEXUS_ION_TX_LINK_FLAG) || len == 0)
        return 0;
    uint32_t id = (part->handle & ~NEXUS_ION_TX_LINK_FLAG) >> 4, window = part->handle & 15;
    return link_server_span(p->fiber, id, (uint64_t)window << 16 | part->offset, len);
}

/* Checks one TX descriptor and the link parts after it (none, or up to NEXUS_ION_TX_LINK_PARTS,
 * as drain_tx gathered them) and hands the frame to the device. The Ethernet header is copied
 * into kernel memory first (source MAC set to the NIC's), so the EtherType checked is the one
 * sent even if the service rewrites its buffer meanwhile. */
static void send_one(struct port *p, unsigned port, const struct ion_desc *d, const struct ion_desc *parts,
                     unsigned nparts) {
    uint32_t h = d->handle;
    if (h < tx_first(port) || h >= tx_first(port) + TX_BUFS_PER_PORT ||
        ion_pool_owner(&ns_switch.owner_table, h) != port_owner(port)) {
        p->tx_refused_handle++;
        return;
    }
    uint32_t len = d->length & ~NEXUS_ION_TX_MORE, total = len;
    struct virtio_net_part at[NEXUS_ION_TX_LINK_PARTS];
    /* Every part but the last says another follows; each lies in a link the port's fiber serves. */
    int whole = nparts <= NEXUS_ION_TX_LINK_PARTS && !(d->length & NEXUS_ION_TX_MORE) == (nparts == 0);
    for (unsigned i = 0; i < nparts && whole; i++) {
        at[i].addr = link_part_at(p, &parts[i]);
        at[i].len = parts[i].length & ~NEXUS_ION_TX_MORE;
        total += at[i].len;
        whole = at[i].addr && !(parts[i].length & NEXUS_ION_TX_MORE) == (i + 1 == nparts);
    }
    if (!whole) {
        p->tx_refused_handle++; /* a part without the rest, or not the port's to send */
        tx_give_back(p, port, h);
        return;
    }
    if ((uint32_t)d->offset + len > BUF_SIZE || len < ETH_HDR_LEN || total > ETH_FRAME_MAX) {
        p->tx_bad_length++;
        tx_give_back(p, port, h);
        return;
    }
    uint8_t *eth = tx_eth[h];
    memcpy(eth, pool_buffer(h) + d->offset, ETH_HDR_LEN);
    if (!ns_tx_granted(port, ns_ethertype(eth))) {
        p->tx_refused_ethertype++;
        tx_give_back(p, port, h);
        return;
    }
    memcpy(eth + 6, virtio_net_info()->mac, 6);
    ion_pool_transfer(&ns_switch.owner_table, h, port_owner(port), OWNER_DEVICE);
    if (virtio_net_tx_split(h, eth, (uint32_t)d->offset + ETH_HDR_LEN, len - ETH_HDR_LEN, at, nparts) != 0) {
        ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, port_owner(port)); /* cannot happen: drain_tx checks room */
        tx_give_back(p, port, h);
        return;
    }
    p->tx_frames++;
    p->tx_bytes += total;
}

/* The next descriptor of the batch d[*i..n), else of the ring (a frame's parts are enqueued in
 * one batch, so they may only lie past this batch): 1 if there was one. */
static int next_part(struct port *p, const struct ion_desc *d, uint32_t n, uint32_t *i, struct ion_desc *out,
                     long *taken) {
    if (*i + 1 < n) {
        *out = d[++*i];
        return 1;
    }
    if (ion_ring_dequeue(&p->ring[NEXUS_ION_RING_TX_ACTIVE], out) != ION_RING_OK)
        return 0;
    ++*taken;
    return 1;
}

/* Sends what the port queued, as far as the device has descriptors. What does not fit stays on
 * TX-active (never dropped: TCP would wait for a retransmission timeout) and goes out from
 * ns_tx_space when the device finishes earlier frames. */
static long drain_tx(struct port *p, unsigned port) {
    struct ion_desc d[BATCH];
    long taken = 0;
    for (;;) {
        uint32_t room = virtio_net_tx_room();
        if (room == 0) {
            if (ion_ring_count(&p->ring[NEXUS_ION_RING_TX_ACTIVE]) && !p->tx_blocked) {
                p->tx_blocked = 1;
                p->tx_queue_full++;
            }
            return taken;
        }
        uint32_t n = ion_ring_dequeue_batch(&p->ring[NEXUS_ION_RING_TX_ACTIVE], d, room < BATCH ? room : BATCH);
        if (n == 0) {
            p->tx_blocked = 0;
            return taken;
        }
        for (uint32_t i = 0; i < n; i++) {
            /* The link parts that follow it: up to one more than allowed, so that too many are
             * refused whole. */
            struct ion_desc first = d[i], parts[NEXUS_ION_TX_LINK_PARTS + 1], next;
            unsigned nparts = 0;
            uint32_t more = first.length & NEXUS_ION_TX_MORE;
            while (more && nparts <= NEXUS_ION_TX_LINK_PARTS && next_part(p, d, n, &i, &next, &taken)) {
                if (!(next.handle & NEXUS_ION_TX_LINK_FLAG)) {
                    send_one(p, port, &first, parts, nparts); /* refused: the next part is a frame of its own */
                    first = next;
                    nparts = 0;
                } else {
                    parts[nparts++] = next;
                }
                more = next.length & NEXUS_ION_TX_MORE;
            }
            send_one(p, port, &first, parts, nparts);
        }
        taken += n;
    }
}

void ns_tx_space(void) {
    for (unsigned port = 0; port < NS_PORTS; port++)
        if (ns_switch.ports[port].fiber && ns_switch.ports[port].tx_blocked)
            drain_tx(&ns_switch.ports[port], port);
}

/* The returns taken and the queued frames sent, for f's port (`port`, WRITE checked). */
static long kick(int port) {
    struct port *p = &ns_switch.ports[port];
    ns_rx_take_returns(p, (unsigned)port);
    virtio_net_reap_tx();
    long taken = drain_tx(p, (unsigned)port);
    virtio_net_flush();
    ns_switch.counters_dirty = 1;
    return taken;
}

/* f's port if f may kick it (bound, and WRITE on its channel), else -ENODEV or -EPERM. */
static int kickable_port(struct fiber *f) {
    int port = port_of_fiber(f);
    if (port < 0)
        return -ENODEV;
    if (!(cspace_rights(&f->caps, PORT_CHANNEL_BASE + (unsigned)port) & CAP_WRITE))
        return -EPERM;
    return port;
}

long netswitch_kick(struct fiber *f) {
    int port = kickable_port(f);
    return port < 0 ? port : kick(port);
}

void netswitch_giving_up_cpu(struct fiber *f) {
    int port = kickable_port(f);
    if (port < 0)
        return;
    struct port *p = &ns_switch.ports[port];
    if (ion_ring_count(&p->ring[NEXUS_ION_RING_TX_ACTIVE]) || ion_ring_count(&p->ring[NEXUS_ION_RING_RX_FREE]))
        kick(port); /* nothing to take, the common case, costs the two reads */
}
