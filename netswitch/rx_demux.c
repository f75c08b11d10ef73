/*
 * RX demux: a frame the device received goes, as its buffer handle, onto the RX ring of the port
 * its EtherType routes to; what cannot be delivered is dropped and counted by cause. Buffers
 * come back the other way when a service returns them on its RX-free ring, and are posted to
 * the device again. Nothing here reads the frame: route.c's classifier reads its two EtherType
 * bytes and its length.
 */
#include "kernel.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

/* RX buffers the kernel holds because the device's RX queue was full when they came home.
 * Known gaps, left to their own issue: nothing takes buffers out of rx_spare again, so the RX
 * buffers beyond the device's queue stay parked here; and no port has an RX budget, so one
 * port may hold every buffer the device fills (ns_rx_frame is where a budget would be checked). */
static uint32_t rx_spare[RX_BUFS];
static uint32_t rx_spare_count;

/* An RX buffer came back to the kernel: give it to the device, or keep it spare. */
void ns_rx_buffer_home(uint32_t h) {
    if (ion_pool_transfer(&ns_switch.owner_table, h, OWNER_KERNEL, OWNER_DEVICE) == 0) {
        if (virtio_net_post_rx(h) == 0)
            return;
        ion_pool_transfer(&ns_switch.owner_table, h, OWNER_DEVICE, OWNER_KERNEL);
    }
    rx_spare[rx_spare_count++] = h;
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

void ns_rx_frame(uint32_t h, uint32_t offset, uint32_t len) {
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
    rx_cost_end(cost); /* demux + enqueue; waking the service is not counted */
    if (ion_ring_producer_should_wake(&p->ring[NEXUS_ION_RING_RX_ACTIVE]))
        channel_signal(PORT_CHANNEL_BASE + port);
    p->rx_frames++;
    p->rx_bytes += len;
    ns_switch.counters_dirty = 1;
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
            ns_rx_buffer_home(d[i].handle);
        }
    }
}
