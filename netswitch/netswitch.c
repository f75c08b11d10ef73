#include "netswitch.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "cspace.h"
#include "fiber.h"
#include "ion_pool.h"
#include "ion_ring.h"
#include "kernel.h"
#include "mem.h"
#include "memlayout.h"
#include "riscv.h"
#include "uapi/nexus_syscall.h"
#include "virtio_net.h"

#define BUF_SIZE        2048u
#define RX_BUFS         256u
#define TX_BUFS_PER_PORT 64u
#define POOL_BUFS       (RX_BUFS + NS_PORTS * TX_BUFS_PER_PORT)
/* Smaller than the RX buffers in circulation, so a service that stops reading overruns its
 * ring (dropped and counted here) before the device runs dry (which would drop uncounted). */
#define RING_CAPACITY   64u
#define RINGS_PER_PORT  4
#define PORT_CHANNEL_BASE NEXUS_PORT_CHANNEL(0) /* wait/signal channels 48.. are the ports' doorbells */
#define BATCH           32


enum { OWNER_KERNEL = 0, OWNER_DEVICE = 1, OWNER_PORT0 = 2 };

struct port {
    struct fiber *fiber;                   /* NULL while no service holds the port */
    void *ring_pages[RINGS_PER_PORT];
    struct ion_ring ring[RINGS_PER_PORT];  /* our trusted views */
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t rx_ring_full, tx_refused_ethertype, tx_refused_handle, tx_bad_length, tx_queue_full;
    int tx_blocked; /* frames wait on TX-active for device descriptors */
};

static int up;
static uint8_t *pool;                       /* POOL_BUFS * BUF_SIZE, physically contiguous */
static uint8_t owners[POOL_BUFS];
static struct ion_pool owner_table;
static uint32_t rx_spare[RX_BUFS];          /* RX buffers the kernel holds, not yet posted */
static uint32_t rx_spare_count;
static uint8_t tx_eth[POOL_BUFS][16];       /* the checked Ethernet header of each TX in flight */
static struct port ports[NS_PORTS];
static uint64_t drops[NS_DROPS];
static uint64_t rx_by_route[NS_ROUTES];
static uint64_t rx_copied_bytes;            /* RX payload bytes copied anywhere: must stay 0 */
static uint64_t returns_refused;
static int dirty;

/* Histogram of rdinstret spent in the RX demux + enqueue path of every delivered frame, for
 * make bench; the last bin collects everything above it. */
#define INSTRET_BINS 512
static uint32_t instret_histogram[INSTRET_BINS];

uint64_t netswitch_buffer_addr(uint32_t h) { return (uint64_t)(pool + (uint64_t)h * BUF_SIZE); }
static uint8_t port_owner(unsigned p) { return (uint8_t)(OWNER_PORT0 + p); }
static int is_rx_handle(uint32_t h) { return h < RX_BUFS; }
static uint32_t tx_first(unsigned p) { return RX_BUFS + p * TX_BUFS_PER_PORT; }
static int port_of_fiber(const struct fiber *f) { return f && f->net_port >= 0 ? f->net_port : -1; }

int netswitch_up(void) { return up; }

static void publish_port_holder(unsigned port) {
    char path[BUS_PATH_MAX];
    snprintf(path, sizeof path, "/Bus/net/switch/port/%s/fiber", ns_port_names[port]);
    bus_set(path, ports[port].fiber ? ports[port].fiber->name : "none", 0);
}

/* An RX buffer came back to the kernel: give it to the device, or keep it spare. */
static void rx_buffer_home(uint32_t h) {
    if (ion_pool_transfer(&owner_table, h, OWNER_KERNEL, OWNER_DEVICE) == 0) {
        if (virtio_net_post_rx(h) == 0)
            return;
        ion_pool_transfer(&owner_table, h, OWNER_DEVICE, OWNER_KERNEL);
    }
    rx_spare[rx_spare_count++] = h;
}

static void drop(enum ns_drop why, uint32_t h) {
    drops[why]++;
    dirty = 1;
    ion_pool_transfer(&owner_table, h, OWNER_DEVICE, OWNER_KERNEL);
    rx_buffer_home(h);
}

static void on_rx(uint32_t h, uint32_t offset, uint32_t len) {
    uint64_t start = rdinstret();
    const uint8_t *frame = pool + (uint64_t)h * BUF_SIZE + offset;
    int route = ns_classify(frame, len);
    if (route < 0) {
        drop((enum ns_drop)(-route - 1), h);
        return;
    }
    rx_by_route[route]++;
    int port = ns_routes[route].port;
    struct port *p = &ports[port];
    if (!p->fiber) {
        drop(DROP_NO_SERVICE, h);
        return;
    }
    struct ion_desc d = {h, (uint16_t)offset, (uint16_t)len};
    ion_pool_transfer(&owner_table, h, OWNER_DEVICE, port_owner((unsigned)port));
    if (ion_ring_enqueue(&p->ring[NEXUS_ION_RING_RX_ACTIVE], &d) != 0) {
        ion_pool_transfer(&owner_table, h, port_owner((unsigned)port), OWNER_DEVICE);
        p->rx_ring_full++;
        drop(DROP_RING_FULL, h);
        return;
    }
    uint64_t spent = rdinstret() - start; /* demux + enqueue; waking the service is not counted */
    instret_histogram[spent < INSTRET_BINS - 1 ? spent : INSTRET_BINS - 1]++;
    if (ion_ring_producer_should_wake(&p->ring[NEXUS_ION_RING_RX_ACTIVE]))
        channel_signal(PORT_CHANNEL_BASE + port);
    p->rx_frames++;
    p->rx_bytes += len;
    dirty = 1;
}

static void on_tx_space(void);

static void on_tx_done(uint32_t h) {
    unsigned p = (h - RX_BUFS) / TX_BUFS_PER_PORT;
    if (p >= NS_PORTS || ion_pool_transfer(&owner_table, h, OWNER_DEVICE, OWNER_KERNEL) != 0)
        return;
    if (!ports[p].fiber)
        return; /* the service died meanwhile; its successor gets the buffer at bind */
    struct ion_desc d = {h, 0, 0};
    ion_pool_transfer(&owner_table, h, OWNER_KERNEL, port_owner(p));
    if (ion_ring_enqueue(&ports[p].ring[NEXUS_ION_RING_TX_FREE], &d) != 0)
        ion_pool_transfer(&owner_table, h, port_owner(p), OWNER_KERNEL);
    else if (ion_ring_producer_should_wake(&ports[p].ring[NEXUS_ION_RING_TX_FREE]))
        channel_signal(PORT_CHANNEL_BASE + (int)p);
}

static uint64_t buffer_addr_cb(uint32_t h) { return netswitch_buffer_addr(h); }

static const struct virtio_net_client client = {
    .buffer_addr = buffer_addr_cb,
    .buf_size = BUF_SIZE,
    .rx = on_rx,
    .tx_done = on_tx_done,
    .tx_space = on_tx_space,
};

int netswitch_init(uint64_t base, uint32_t irq) {
    pool = page_alloc(POOL_BUFS * BUF_SIZE / PAGE_SIZE);
    if (!pool)
        return -1;
    for (unsigned p = 0; p < NS_PORTS; p++)
        for (int r = 0; r < RINGS_PER_PORT; r++)
            if (!(ports[p].ring_pages[r] = page_alloc(1)))
                return -1;
    ion_pool_init(&owner_table, POOL_BUFS, owners, OWNER_KERNEL);
    if (virtio_net_init(base, irq, &client) != 0)
        return -1;
    for (uint32_t h = RX_BUFS; h-- > 0;)
        rx_buffer_home(h);
    virtio_net_flush();
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

/* Maps the port's rings (with WRITE read-write: each side writes its own index) and the pool:
 * RX buffers readable (writable for the Membrane, which lwIP needs: DESIGN.md section 4), the
 * port's own TX buffers writable, nobody else's TX buffers at all. Without WRITE, everything
 * is read-only. */
static int map_port(unsigned port, pagetable_t pt, unsigned rights) {
    uint64_t rw = rights & CAP_WRITE ? PTE_R | PTE_W : PTE_R;
    for (int r = 0; r < RINGS_PER_PORT; r++)
        if (vm_user_map_shared(pt, ION_RINGS_VA + (uint64_t)r * PAGE_SIZE, (uint64_t)ports[port].ring_pages[r], rw))
            return -ENOMEM;
    uint64_t rx_perm = port == PORT_MEMBRANE ? rw : PTE_R;
    for (uint64_t off = 0; off < RX_BUFS * BUF_SIZE; off += PAGE_SIZE)
        if (vm_user_map_shared(pt, ION_POOL_VA + off, (uint64_t)pool + off, rx_perm))
            return -ENOMEM;
    uint64_t tx_off = (uint64_t)tx_first(port) * BUF_SIZE;
    for (uint64_t off = tx_off; off < tx_off + TX_BUFS_PER_PORT * BUF_SIZE; off += PAGE_SIZE)
        if (vm_user_map_shared(pt, ION_POOL_VA + off, (uint64_t)pool + off, rw))
            return -ENOMEM;
    return 0;
}

int netswitch_bind(unsigned port, struct fiber *f, unsigned rights) {
    if (!up)
        return -ENODEV;
    if (port >= NS_PORTS || ports[port].fiber || !f->pt || f->net_port >= 0)
        return -EBUSY;
    int err = cspace_grant(&f->caps, PORT_CHANNEL_BASE + port, rights);
    if (!err)
        err = map_port(port, f->pt, rights);
    if (err)
        return err;
    struct port *p = &ports[port];
    p->tx_blocked = 0;
    for (int r = 0; r < RINGS_PER_PORT; r++)
        ion_ring_init(&p->ring[r], p->ring_pages[r], RING_CAPACITY);
    /* Every TX buffer of the port that is home goes to the new service. */
    for (uint32_t h = tx_first(port); h < tx_first(port) + TX_BUFS_PER_PORT; h++) {
        if (ion_pool_transfer(&owner_table, h, OWNER_KERNEL, port_owner(port)) != 0)
            continue;
        struct ion_desc d = {h, 0, 0};
        ion_ring_enqueue(&p->ring[NEXUS_ION_RING_TX_FREE], &d);
    }
    p->fiber = f;
    f->net_port = (int)port;
    publish_port_holder(port);
    return 0;
}

void netswitch_fiber_gone(struct fiber *f) {
    int port = port_of_fiber(f);
    if (port < 0)
        return;
    struct port *p = &ports[port];
    /* Buffers the dead service held: RX ones go back to the device, TX ones wait at home for
     * the next holder. Buffers still with the device come back through the used rings. */
    for (uint32_t h = 0; h < POOL_BUFS; h++) {
        if (ion_pool_transfer(&owner_table, h, port_owner((unsigned)port), OWNER_KERNEL) == 0 && is_rx_handle(h))
            rx_buffer_home(h);
    }
    virtio_net_flush();
    p->fiber = NULL;
    f->net_port = -1;
    publish_port_holder((unsigned)port);
}

int netswitch_info(struct fiber *f, struct nexus_ion_info *out) {
    int port = port_of_fiber(f);
    if (port < 0)
        return -ENODEV;
    memset(out, 0, sizeof *out);
    out->rings_va = ION_RINGS_VA;
    out->pool_va = ION_POOL_VA;
    out->ring_capacity = RING_CAPACITY;
    out->buf_size = BUF_SIZE;
    out->tx_first = tx_first((unsigned)port);
    out->tx_count = TX_BUFS_PER_PORT;
    out->channel = PORT_CHANNEL_BASE + (uint32_t)port;
    out->port = (uint32_t)port;
    memcpy(out->mac, virtio_net_info()->mac, 6);
    return 0;
}

/* Buffers the service has finished reading. A handle it does not hold is refused and counted. */
static void take_rx_returns(struct port *p, unsigned port) {
    struct ion_desc d[BATCH];
    uint32_t n;
    while ((n = ion_ring_dequeue_batch(&p->ring[NEXUS_ION_RING_RX_FREE], d, BATCH)) > 0) {
        for (uint32_t i = 0; i < n; i++) {
            if (!is_rx_handle(d[i].handle) ||
                ion_pool_transfer(&owner_table, d[i].handle, port_owner(port), OWNER_KERNEL) != 0) {
                returns_refused++;
                continue;
            }
            rx_buffer_home(d[i].handle);
        }
    }
}

/* Returns a TX buffer the kernel refused to send to its service's free ring. */
static void tx_give_back(struct port *p, unsigned port, uint32_t h) {
    struct ion_desc d = {h, 0, 0};
    if (ion_ring_enqueue(&p->ring[NEXUS_ION_RING_TX_FREE], &d) != 0)
        ion_pool_transfer(&owner_table, h, port_owner(port), OWNER_KERNEL);
}

/* Checks one TX descriptor and hands it to the device. The Ethernet header is copied into
 * kernel memory first (source MAC set to the NIC's), so the EtherType checked is the one sent
 * even if the service rewrites its buffer meanwhile. */
static void send_one(struct port *p, unsigned port, const struct ion_desc *d) {
    uint32_t h = d->handle;
    if (h < tx_first(port) || h >= tx_first(port) + TX_BUFS_PER_PORT ||
        ion_pool_owner(&owner_table, h) != port_owner(port)) {
        p->tx_refused_handle++;
        return;
    }
    if ((uint32_t)d->offset + d->length > BUF_SIZE || d->length < ETH_HDR_LEN || d->length > ETH_FRAME_MAX) {
        p->tx_bad_length++;
        tx_give_back(p, port, h);
        return;
    }
    uint8_t *eth = tx_eth[h];
    memcpy(eth, pool + (uint64_t)h * BUF_SIZE + d->offset, ETH_HDR_LEN);
    if (!ns_tx_granted(port, ns_ethertype(eth))) {
        p->tx_refused_ethertype++;
        tx_give_back(p, port, h);
        return;
    }
    memcpy(eth + 6, virtio_net_info()->mac, 6);
    ion_pool_transfer(&owner_table, h, port_owner(port), OWNER_DEVICE);
    if (virtio_net_tx_split(h, eth, (uint32_t)d->offset + ETH_HDR_LEN, d->length - ETH_HDR_LEN) != 0) {
        ion_pool_transfer(&owner_table, h, OWNER_DEVICE, port_owner(port)); /* cannot happen: drain_tx checks room */
        tx_give_back(p, port, h);
        return;
    }
    p->tx_frames++;
    p->tx_bytes += d->length;
}

/* Sends what the port queued, as far as the device has descriptors. What does not fit stays on
 * TX-active (never dropped: TCP would wait for a retransmission timeout) and goes out from
 * on_tx_space when the device finishes earlier frames. */
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
        for (uint32_t i = 0; i < n; i++)
            send_one(p, port, &d[i]);
        taken += n;
    }
}

static void on_tx_space(void) {
    for (unsigned port = 0; port < NS_PORTS; port++)
        if (ports[port].fiber && ports[port].tx_blocked)
            drain_tx(&ports[port], port);
}

long netswitch_kick(struct fiber *f) {
    int port = port_of_fiber(f);
    if (port < 0)
        return -ENODEV;
    if (!(cspace_rights(&f->caps, PORT_CHANNEL_BASE + (unsigned)port) & CAP_WRITE))
        return -EPERM;
    struct port *p = &ports[port];
    take_rx_returns(p, (unsigned)port);
    virtio_net_reap_tx();
    long taken = drain_tx(p, (unsigned)port);
    virtio_net_flush();
    dirty = 1;
    return taken;
}

uint32_t netswitch_rx_buffers_home(void) {
    return ion_pool_count(&owner_table, OWNER_KERNEL) + ion_pool_count(&owner_table, OWNER_DEVICE);
}

static void publish_port(unsigned port) {
    const struct port *p = &ports[port];
    static const char *const names[] = {"rx_frames", "rx_bytes", "tx_frames", "tx_bytes", "rx_ring_full",
                                        "tx_refused_ethertype", "tx_refused_handle", "tx_bad_length",
                                        "tx_queue_full"};
    const uint64_t values[] = {p->rx_frames, p->rx_bytes, p->tx_frames, p->tx_bytes, p->rx_ring_full,
                               p->tx_refused_ethertype, p->tx_refused_handle, p->tx_bad_length,
                               p->tx_queue_full};
    char path[BUS_PATH_MAX];
    for (unsigned i = 0; i < ARRAY_LEN(names); i++) {
        snprintf(path, sizeof path, "/Bus/net/switch/port/%s/%s", ns_port_names[port], names[i]);
        bus_setf(0, path, "%lu", values[i]);
    }
    snprintf(path, sizeof path, "/Bus/net/switch/port/%s/rx_ring_fill", ns_port_names[port]);
    bus_setf(0, path, "%u", p->fiber ? ion_ring_count(&p->ring[NEXUS_ION_RING_RX_ACTIVE]) : 0);
}

void netswitch_publish(void) {
    if (!up)
        return;
    char path[BUS_PATH_MAX];
    for (unsigned d = 0; d < NS_DROPS; d++) {
        snprintf(path, sizeof path, "/Bus/net/switch/drop/%s", ns_drop_names[d]);
        bus_setf(0, path, "%lu", drops[d]);
    }
    for (unsigned p = 0; p < NS_PORTS; p++)
        publish_port(p);
    for (unsigned r = 0; r < NS_ROUTES; r++) {
        snprintf(path, sizeof path, "/Bus/net/switch/rx/%#06x", ns_routes[r].ethertype);
        bus_setf(0, path, "%lu", rx_by_route[r]);
    }
    bus_setf(0, "/Bus/net/switch/rx_copied_bytes", "%lu", rx_copied_bytes);
    bus_setf(0, "/Bus/net/switch/returns_refused", "%lu", returns_refused);
    bus_setf(0, "/Bus/net/pool/home", "%u", netswitch_rx_buffers_home());
    for (unsigned p = 0; p < NS_PORTS; p++) {
        snprintf(path, sizeof path, "/Bus/net/pool/held/%s", ns_port_names[p]);
        bus_setf(0, path, "%u", ion_pool_count(&owner_table, port_owner(p)));
    }
    bus_setf(0, "/Bus/net/pool/refused_transfers", "%lu", owner_table.refused);
    bus_setf(0, "/Bus/net/nic/link", "%s", virtio_net_info()->link_up ? "up" : "down");
    dirty = 0;
}

void netswitch_idle(void) {
    /* Sent frames are reaped lazily (TX interrupts are off unless a port waits for room):
     * take them back before sleeping, so a quiet system holds no buffer in the device's TX
     * queue and the pool counts settle. */
    if (up && virtio_net_reap_tx())
        dirty = 1;
    if (dirty)
        netswitch_publish();
}

uint32_t netswitch_instret_median(uint64_t *frames) {
    uint64_t n = 0, seen = 0;
    for (uint32_t v = 0; v < INSTRET_BINS; v++)
        n += instret_histogram[v];
    *frames = n;
    for (uint32_t v = 0; v < INSTRET_BINS && n; v++)
        if ((seen += instret_histogram[v]) * 2 >= n)
            return v;
    return 0;
}
