/*
 * RX demux: a frame the device received goes, as its buffer handle, onto the RX ring of the port
 * its EtherType routes to; what cannot be delivered is dropped and counted by cause. Buffers
 * come back the other way when a service returns them on its RX-free ring, and are posted to
 * the device again, or kept spare until the device has room. Each port may hold at most its RX
 * budget; past it its frames are dropped, so the device keeps buffers for the others. Nothing
 * here reads the frame: route.h's classifier reads its two EtherType bytes and its length.
 */
#include "kernel.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

/* The RX buffers the kernel holds: they came home while the device's queue was full, and are
 * posted again as soon as it has room (ns_rx_refill), so every RX buffer no port holds
 * circulates. Each buffer the kernel holds is here once, so RX_BUFS entries always suffice; a
 * push onto a full list, or an entry the kernel no longer holds, is a bookkeeping bug: counted
 * (rx_spare_errors), never written past the array nor posted. */
static uint32_t rx_spare[RX_BUFS];
static uint32_t rx_spare_count;

uint32_t ns_rx_spare_count(void) { return rx_spare_count; }

static void spare_error(void) {
    ns_switch.rx_spare_errors++;
    ns_switch.counters_dirty = 1;
}

static void spare_push(uint32_t h) {
    if (rx_spare_count == RX_BUFS) {
        spare_error();
        return;
    }
    rx_spare[rx_spare_count++] = h;
}

/* Gives the device buffer h, which the kernel holds. 0, or -1 if the kernel does not hold it
 * or the device's queue is full (nothing changes). */
static int post(uint32_t h) {
    if (ion_pool_transfer(&ns_switch.owner_table, h, OWNER_KERNEL, OWNER_DEVICE) != 0)
        return -1;
    if (virtio_net_post_rx(h) == 0)
        return 0;
    ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, OWNER_KERNEL);
    return -1;
}

/* An RX buffer came back to the kernel: give it to the device, or keep it spare. */
void ns_rx_buffer_home(uint32_t h) {
    if (virtio_net_rx_room() == 0 || post(h) != 0)
        spare_push(h);
}

/* Every frame the device hands up frees a slot of its queue; a spare buffer takes it. */
void ns_rx_refill(void) {
    while (rx_spare_count > 0 && virtio_net_rx_room() > 0)
        if (post(rx_spare[--rx_spare_count]) != 0)
            spare_error(); /* the entry was stale: whoever holds that buffer keeps it */
    uint32_t posted = virtio_net_info()->rx_slots - virtio_net_rx_room();
    if (posted < ns_switch.rx_posted_low)
        ns_switch.rx_posted_low = posted;
}

/* The device handed up a buffer it did not hold (a driver or device bug): whoever holds it keeps
 * it, so it is neither delivered nor sent home, only counted. */
static void refuse_not_device_held(void) {
    ns_switch.rx_not_device_held++;
    ns_switch.counters_dirty = 1;
}

/* What cannot be delivered leaves the hot path through these, out of line (cold): the path
 * then keeps few registers to save, and the refusals keep every check and count they had. */
#define RX_SLOW __attribute__((noinline, cold))

static RX_SLOW void drop(enum ns_drop why, uint32_t h) {
    if (ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, OWNER_KERNEL) != 0) {
        refuse_not_device_held();
        return;
    }
    ns_switch.drops[why]++;
    ns_switch.counters_dirty = 1;
    ns_rx_buffer_home(h);
}

static RX_SLOW void refuse_handle(void) { refuse_not_device_held(); }

static RX_SLOW void drop_bad_length(uint32_t len, uint32_t h) { drop(ns_length_drop(len), h); }

/* Lane n's port has no credit: the type is unknown (lane NS_LANE_NONE), no service holds the
 * port, or it holds its whole budget. */
static RX_SLOW void refuse_no_credit(unsigned long n, uint32_t h) {
    struct port *p = ns_switch.lanes[n].port;
    if (n == NS_LANE_NONE) {
        drop(DROP_UNKNOWN, h);
        return;
    }
    ns_switch.rx_refused_by_lane[n]++;
    if (!p->fiber) {
        drop(DROP_NO_SERVICE, h);
        return;
    }
    p->rx_over_budget++;
    drop(DROP_OVER_BUDGET, h);
}

static RX_SLOW void refuse_not_held_at_port(unsigned long n) {
    ns_switch.rx_refused_by_lane[n]++;
    ns_switch.lanes[n].port->rx_credit++;
    refuse_not_device_held();
}

/* The port's ring was full (or its peer corrupted it): the buffer goes home from the port. */
static RX_SLOW void refuse_ring_full(unsigned long n, uint32_t h) {
    struct rx_lane *lane = &ns_switch.lanes[n];
    ion_pool_transfer(&ns_switch.owner_table, h, lane->owner, OWNER_DEVICE);
    ns_switch.rx_refused_by_lane[n]++;
    lane->port->rx_credit++;
    lane->port->rx_ring_full++;
    drop(DROP_RING_FULL, h);
}

/* The path of every frame: a handle check, the classifier (length, two bytes, a table entry),
 * the lane's port's credit, the buffer's holder, one slot on the port's ring and the lane's
 * counters. Whatever is refused is counted by cause on the way out (above); counters_dirty is
 * not written per frame, since netswitch_idle compares the delivered count with the one it
 * last published. */
static void demux(uint32_t h, uint32_t offset, uint32_t len) {
    uint64_t cost = rx_cost_begin();
    /* &ns_switch, formed where the compiler cannot see what it is: it then reaches every field,
     * the route table included, as an offset from this one register, rather than forming the
     * table's address anew. Volatile, so it stays inside the measured bracket. */
    struct netswitch_state *sw;
    __asm__ volatile("lla %0, ns_switch" : "=r"(sw));
    if (!is_rx_handle(h)) { /* not even a buffer of the RX area: read nothing of it */
        refuse_handle();
        return;
    }
    if (!ns_length_routable(len)) {
        drop_bad_length(len, h);
        return;
    }
    uint16_t at = (uint16_t)offset; /* the offset the descriptor carries is the one classified */
    unsigned long n = ns_lane(sw->route_table, sw->pool + (uint64_t)h * BUF_SIZE + at);
    struct rx_lane *lane = &sw->lanes[n];
    struct port *p = lane->port;
    uint32_t credit = p->rx_credit;
    if (credit == 0) {
        refuse_no_credit(n, h);
        return;
    }
    p->rx_credit = credit - 1; /* here, while the value is at hand; the refusals below give it back */
    /* is_rx_handle bounded h, and a lane's owner is a port's: only the holder is left to check */
    if (ion_pool_transfer_bounded(&sw->owner_table, h, OWNER_DEVICE, lane->owner) != 0) {
        refuse_not_held_at_port(n);
        return;
    }
    struct ion_ring ring = p->ring[NEXUS_ION_RING_RX_ACTIVE]; /* a local view: the fences below
                                                               * then do not make it reload */
    struct ion_desc d = {h, at, (uint16_t)len};
    if (ion_ring_enqueue(&ring, &d) != ION_RING_OK) {
        refuse_ring_full(n, h);
        return;
    }
    lane->pending += ((uint64_t)d.length << 48 >> (48 - RX_PENDING_BYTES_SHIFT)) + RX_PENDING_FRAME;
    int wake = ion_ring_producer_should_wake(&ring);
    rx_cost_end(cost); /* the doorbell, rung only for a sleeping service, is not counted */
    if (wake)
        channel_signal(PORT_CHANNEL_BASE + lane->port_index);
}

void ns_rx_fold(void) {
    for (unsigned n = 0; n < NS_LANES; n++) {
        struct rx_lane *lane = &ns_switch.lanes[n];
        lane->delivered += (uint32_t)lane->pending;
        lane->bytes += lane->pending >> RX_PENDING_BYTES_SHIFT;
        lane->pending = 0;
    }
}

uint64_t ns_lane_delivered(const struct rx_lane *lane) { return lane->delivered + (uint32_t)lane->pending; }
uint64_t ns_lane_bytes(const struct rx_lane *lane) { return lane->bytes + (lane->pending >> RX_PENDING_BYTES_SHIFT); }

void ns_rx_frame(uint32_t h, uint32_t offset, uint32_t len) {
    demux(h, offset, len);
    ns_rx_refill();
}

/* Buffers the service has finished reading. A handle it does not hold is refused and counted. */
void ns_rx_take_returns(struct port *p, unsigned port) {
    struct ion_desc d[BATCH];
    uint32_t n;
    ns_rx_fold(); /* before any credit comes back (struct rx_lane) */
    while ((n = ion_ring_dequeue_batch(&p->ring[NEXUS_ION_RING_RX_FREE], d, BATCH)) > 0) {
        for (uint32_t i = 0; i < n; i++) {
            if (!is_rx_handle(d[i].handle) ||
                ion_pool_transfer(&ns_switch.owner_table, d[i].handle, port_owner(port), OWNER_KERNEL) != 0) {
                ns_switch.returns_refused++;
                continue;
            }
            p->rx_credit++;
            ns_rx_buffer_home(d[i].handle);
        }
    }
}
