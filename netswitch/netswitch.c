/*
 * NetSwitch bring-up: allocates the packet pool and the ports' ring pages, joins the virtio-net
 * driver (its RX, TX-done and TX-space callbacks lead into rx_demux.c and tx_check.c) and posts
 * the first RX buffers. It also owns the state every concern shares: the pool, who holds each
 * buffer, and the ports.
 */
#include "netswitch.h"

#include "bus.h"
#include "kernel.h"
#include "mem.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

struct netswitch_state ns_switch;
static uint8_t owners[POOL_BUFS]; /* the ownership table's storage */
static int up;

/* netswitch_internal.h says why these numbers. */
static const uint32_t rx_budgets[NS_PORTS] = {
    [PORT_MEMBRANE] = RX_BUDGET_MEMBRANE,
    [PORT_UTCP] = RX_BUDGET_SERVICE,
    [PORT_LWF] = RX_BUDGET_SERVICE,
};
static const uint32_t ring_capacities[NS_PORTS] = {
    [PORT_MEMBRANE] = RING_CAPACITY_MEMBRANE,
    [PORT_UTCP] = RING_CAPACITY_SERVICE,
    [PORT_LWF] = RING_CAPACITY_SERVICE,
};

uint64_t netswitch_buffer_addr(uint32_t h) { return (uint64_t)pool_buffer(h); }

int netswitch_up(void) { return up; }

uint32_t netswitch_rx_buffers_home(void) {
    return ion_pool_count(&ns_switch.owner_table, OWNER_KERNEL) + ion_pool_count(&ns_switch.owner_table, OWNER_DEVICE);
}

static uint64_t buffer_addr_cb(uint32_t h) { return netswitch_buffer_addr(h); }

static const struct virtio_net_client client = {
    .buffer_addr = buffer_addr_cb,
    .buf_size = BUF_SIZE,
    .rx = ns_rx_frame,
    .tx_done = ns_tx_done,
    .tx_space = ns_tx_space,
};

int netswitch_init(uint64_t base, uint32_t irq) {
    ns_switch.pool = page_alloc(POOL_BUFS * BUF_SIZE / PAGE_SIZE);
    if (!ns_switch.pool)
        return -1;
    ns_route_table_init(ns_switch.route_table);
    ns_switch.lanes[NS_LANE_NONE].port = &ns_switch.no_port; /* no fiber, no credit, ever */
    for (unsigned r = 0; r < NS_ROUTES; r++) {
        struct rx_lane *lane = &ns_switch.lanes[1 + r];
        lane->port_index = ns_routes[r].port;
        lane->port = &ns_switch.ports[lane->port_index];
        lane->owner = port_owner(lane->port_index);
    }
    for (unsigned p = 0; p < NS_PORTS; p++) {
        ns_switch.ports[p].rx_budget = rx_budgets[p];
        ns_switch.ports[p].ring_capacity = ring_capacities[p];
        for (int r = 0; r < RINGS_PER_PORT; r++)
            if (!(ns_switch.ports[p].ring_pages[r] = page_alloc(1)))
                return -1;
    }
    ion_pool_init(&ns_switch.owner_table, POOL_BUFS, owners, OWNER_KERNEL);
    if (virtio_net_init(base, irq, &client) != 0)
        return -1;
    if (virtio_net_info()->hdr_len % 2) { /* ns_wire_type loads the EtherType as one halfword */
        kprintf("  net: virtio-net header of %u bytes leaves frames odd-aligned; networking off\n",
                virtio_net_info()->hdr_len);
        return -1;
    }
    for (uint32_t h = RX_BUFS; h-- > 0;)
        ns_rx_buffer_home(h);
    virtio_net_flush();
    ns_switch.rx_posted_low = RX_BUFS; /* the first refill sets the real figure */
    ns_rx_refill();
    up = 1;
    const struct virtio_net_info *ni = virtio_net_info();
    bus_setf(0, "/Bus/net/nic/mac", "%02x:%02x:%02x:%02x:%02x:%02x", ni->mac[0], ni->mac[1], ni->mac[2],
             ni->mac[3], ni->mac[4], ni->mac[5]);
    bus_setf(0, "/Bus/net/nic/transport", "virtio-mmio v%u", ni->version);
    bus_setf(0, "/Bus/net/pool/buffers", "%u", POOL_BUFS);
    bus_setf(0, "/Bus/net/pool/buffer_size", "%u", BUF_SIZE);
    kprintf("  net: virtio-net %#lx irq %u, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u rx / %u tx slots\n",
            base, irq, ni->mac[0], ni->mac[1], ni->mac[2], ni->mac[3], ni->mac[4], ni->mac[5],
            ni->link_up ? "up" : "down", ni->rx_slots, ni->tx_slots);
    netswitch_publish();
    return 0;
}
