/*
 * RX demux: a frame the device received goes, as its buffer handle, onto the RX ring of the port
 * its EtherType routes to; what cannot be delivered is dropped and counted by cause. Buffers
 * come back the other way when a service returns them on its RX-free ring, and are posted to
 * the device again, or kept spare until the device has room. Each port may hold at most its RX
 * budget; past it its frames are dropped, so the device keeps buffers for the others. Nothing
 * here reads the frame: route.c's classifier reads its two EtherType bytes and its length.
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

static void drop(enum ns_drop why, uint32_t h) {
    if (ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, OWNER_KERNEL) != 0) {
        refuse_not_device_held();
        return;
    }
    ns_switch.drops[why]++;
    ns_switch.counters_dirty = 1;
    ns_rx_buffer_home(h);
}

static void demux(uint32_t h, uint32_t offset, uint32_t len) {
    uint64_t cost = rx_cost_begin();
    if (!is_rx_handle(h)) { /* not even a buffer of the RX area: read nothing of it */
        refuse_not_device_held();
        return;
    }
    int route = ns_classify(pool_buffer(h) + offset, len);
    if (route < 0) {
        drop((enum ns_drop)(-route - 1), h);
        return;
    }
    ns_switch.rx_by_route[route]++;
    int port = ns_routes[route].port;
    struct port *p = &ns_switch.ports[port];
    if (!p->fiber) {
        drop(DROP_NO_SERVICE, h);
        return;
    }
    if (p->rx_held >= p->rx_budget) {
        p->rx_over_budget++;
        drop(DROP_OVER_BUDGET, h);
        return;
    }
    struct ion_desc d = {h, (uint16_t)offset, (uint16_t)len};
    if (ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, port_owner((unsigned)port)) != 0) {
        refuse_not_device_held();
        return;
    }
    if (ion_ring_enqueue(&p->ring[NEXUS_ION_RING_RX_ACTIVE], &d) != 0) {
        ion_pool_transfer(&ns_switch.owner_table, h, port_owner((unsigned)port), OWNER_DEVICE);
        p->rx_ring_full++;
        drop(DROP_RING_FULL, h);
        return;
    }
    p->rx_held++;
    p->rx_frames++;
    p->rx_bytes += len;
    ns_switch.counters_dirty = 1;
    int wake = ion_ring_producer_should_wake(&p->ring[NEXUS_ION_RING_RX_ACTIVE]);
    rx_cost_end(cost); /* the doorbell, rung only for a sleeping service, is not counted */
    if (wake)
        channel_signal(PORT_CHANNEL_BASE + port);
}

void ns_rx_frame(uint32_t h, uint32_t offset, uint32_t len) {
    demux(h, offset, len);
    ns_rx_refill();
}

/* Buffers the service has finished reading. A handle it does not hold is refused and counted. */
void ns_rx_take_returns(struct port *p, unsigned port) {
    struct ion_desc d[BATCH];
    uint32_t n;
    while ((n = ion_ring_dequeue_batch(&p->ring[NEXUS_ION_RING_RX_FREE], d, BATCH)) > 0) {
        for (uint32_t i = 0; i < n; i++) {
            if (!is_rx_handle(d[i].handle) ||
                ion_pool_transfer(&ns_switch.owner_table, d[i].handle, port_owner(port), OWNER_KERNEL) != 0) {
                ns_switch.returns_refused++;
                continue;
            }
            p->rx_held--;
            ns_rx_buffer_home(d[i].handle);
        }
    }
}
