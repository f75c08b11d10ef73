/*
 * The switch's figures and their publication under /Bus/net: drops by cause, frames per route,
 * each port's traffic, refusals and holder, and the pool's buffers by holder. Counting is cheap
 * (an increment where it happens); publishing formats strings, so it waits until the system is
 * idle or someone asks.
 */
#include "bus.h"
#include "kernel.h"
#include "netswitch.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

static uint64_t rx_copied_bytes; /* RX payload bytes copied anywhere: must stay 0 */
/* TX payload bytes the kernel copied: must stay 0. Only the 14-byte Ethernet header is copied,
 * for the EtherType check (tx_check.c); the device reads the payload in place. */
static uint64_t tx_copied_bytes;
/* The driver drops bad used elements without calling the switch, so nothing marks the counters
 * dirty: idle compares against the value last published instead. So for delivered frames: the
 * RX path only counts them, per route (rx_demux.c). */
static uint64_t published_bad_used;
static uint64_t published_rx_delivered;

static uint64_t rx_delivered(void) {
    uint64_t n = 0;
    for (unsigned l = 1; l < NS_LANES; l++)
        n += ns_lane_delivered(&ns_switch.lanes[l]);
    return n;
}

/* A lane counter summed over the lanes that lead to `port`. */
static uint64_t port_sum(unsigned port, uint64_t (*count)(const struct rx_lane *)) {
    uint64_t n = 0;
    for (unsigned l = 1; l < NS_LANES; l++)
        if (ns_switch.lanes[l].port_index == port)
            n += count(&ns_switch.lanes[l]);
    return n;
}

uint64_t ns_port_rx_frames(unsigned port) { return port_sum(port, ns_lane_delivered); }

uint64_t ns_port_rx_bytes(unsigned port) { return port_sum(port, ns_lane_bytes); }

void ns_publish_port_holder(unsigned port) {
    char path[BUS_PATH_MAX];
    snprintf(path, sizeof path, "/Bus/net/switch/port/%s/fiber", ns_port_names[port]);
    bus_set(path, ns_switch.ports[port].fiber ? ns_switch.ports[port].fiber->name : "none", 0);
}

static void publish_port(unsigned port) {
    const struct port *p = &ns_switch.ports[port];
    static const char *const names[] = {"rx_frames", "rx_bytes", "tx_frames", "tx_bytes", "rx_ring_full",
                                        "rx_budget", "rx_over_budget", "tx_refused_ethertype",
                                        "tx_refused_handle", "tx_bad_length", "tx_queue_full"};
    const uint64_t values[] = {ns_port_rx_frames(port), ns_port_rx_bytes(port), p->tx_frames, p->tx_bytes, p->rx_ring_full,
                               p->rx_budget, p->rx_over_budget, p->tx_refused_ethertype,
                               p->tx_refused_handle, p->tx_bad_length, p->tx_queue_full};
    _Static_assert(ARRAY_LEN(names) == ARRAY_LEN(values), "a port figure without a name");
    char path[BUS_PATH_MAX];
    for (unsigned i = 0; i < ARRAY_LEN(names); i++) {
        snprintf(path, sizeof path, "/Bus/net/switch/port/%s/%s", ns_port_names[port], names[i]);
        bus_setf(0, path, "%lu", values[i]);
    }
    snprintf(path, sizeof path, "/Bus/net/switch/port/%s/rx_ring_fill", ns_port_names[port]);
    bus_setf(0, path, "%u", p->fiber ? ion_ring_count(&p->ring[NEXUS_ION_RING_RX_ACTIVE]) : 0);
}

void netswitch_publish(void) {
    if (!netswitch_up())
        return;
    char path[BUS_PATH_MAX];
    for (unsigned d = 0; d < NS_DROPS; d++) {
        snprintf(path, sizeof path, "/Bus/net/switch/drop/%s", ns_drop_names[d]);
        bus_setf(0, path, "%lu", ns_switch.drops[d]);
    }
    for (unsigned p = 0; p < NS_PORTS; p++)
        publish_port(p);
    for (unsigned r = 0; r < NS_ROUTES; r++) {
        snprintf(path, sizeof path, "/Bus/net/switch/rx/%#06x", ns_routes[r].ethertype);
        bus_setf(0, path, "%lu", ns_lane_delivered(&ns_switch.lanes[1 + r]) + ns_switch.rx_refused_by_lane[1 + r]);
    }
    bus_setf(0, "/Bus/net/switch/rx_copied_bytes", "%lu", rx_copied_bytes);
    bus_setf(0, "/Bus/net/switch/tx_copied_bytes", "%lu", tx_copied_bytes);
    bus_setf(0, "/Bus/net/switch/returns_refused", "%lu", ns_switch.returns_refused);
    bus_setf(0, "/Bus/net/switch/rx_not_device_held", "%lu", ns_switch.rx_not_device_held);
    bus_setf(0, "/Bus/net/pool/home", "%u", netswitch_rx_buffers_home());
    for (unsigned p = 0; p < NS_PORTS; p++) {
        snprintf(path, sizeof path, "/Bus/net/pool/held/%s", ns_port_names[p]);
        bus_setf(0, path, "%u", ion_pool_count(&ns_switch.owner_table, port_owner(p)));
    }
    bus_setf(0, "/Bus/net/pool/refused_transfers", "%lu", ns_switch.owner_table.refused);
    bus_setf(0, "/Bus/net/pool/rx_posted", "%u", virtio_net_info()->rx_slots - virtio_net_rx_room());
    bus_setf(0, "/Bus/net/pool/rx_posted_low", "%u", ns_switch.rx_posted_low);
    bus_setf(0, "/Bus/net/pool/rx_spare", "%u", ns_rx_spare_count());
    bus_setf(0, "/Bus/net/pool/rx_spare_errors", "%lu", ns_switch.rx_spare_errors);
    bus_setf(0, "/Bus/net/nic/rx_slots", "%u", virtio_net_info()->rx_slots);
    bus_setf(0, "/Bus/net/nic/link", "%s", virtio_net_info()->link_up ? "up" : "down");
    published_bad_used = virtio_net_bad_used();
    bus_setf(0, "/Bus/net/nic/bad_used", "%lu", published_bad_used);
    bus_setf(0, "/Bus/net/nic/notifies", "%lu", virtio_net_notifies().sent);
    bus_setf(0, "/Bus/net/nic/notifies_skipped", "%lu", virtio_net_notifies().skipped);
    ns_rx_cost_publish();
    published_rx_delivered = rx_delivered();
    ns_switch.counters_dirty = 0;
}

void netswitch_poll(void) {
    if (netswitch_up() && virtio_net_pending())
        virtio_net_poll();
}

void netswitch_fibers_run(void) {
    if (netswitch_up())
        virtio_net_interrupts(0);
}

int netswitch_sleep_prepare(void) {
    if (!netswitch_up())
        return 1;
    virtio_net_interrupts(1);
    return !virtio_net_pending();
}

void netswitch_idle(void) {
    /* Sent frames are reaped between fibers and at interrupts: take them back before
     * sleeping too, so a quiet system holds no buffer in the device's TX queue and the pool
     * counts settle. */
    if (netswitch_up() && (virtio_net_reap_tx() || virtio_net_bad_used() != published_bad_used ||
                           rx_delivered() != published_rx_delivered))
        ns_switch.counters_dirty = 1;
    if (ns_switch.counters_dirty)
        netswitch_publish();
}
