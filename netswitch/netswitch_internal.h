/*
 * What the NetSwitch's files share and the rest of the kernel does not see: the pool's layout,
 * the ports, the switch-wide counters and the calls from one concern to another. The files:
 *   netswitch.c    bring-up: the pool, the ports' ring pages, the device and its callbacks
 *   rx_demux.c     device RX -> the ports' RX rings, and RX buffers back to the device
 *   tx_check.c     the ports' TX rings -> device, after the EtherType grant check
 *   port_bind.c    a fiber binds a port; a dead fiber's buffers come back
 *   counters.c     /Bus/net: drops by cause, per-route and per-port figures
 *   rx_cost.c      test build only: guest instructions per RX frame, for make bench
 * netswitch.h is the interface for the rest of the kernel.
 */
#ifndef NEXUS_NETSWITCH_INTERNAL_H
#define NEXUS_NETSWITCH_INTERNAL_H

#include <stdint.h>

#include "fiber.h"
#include "ion_pool.h"
#include "ion_ring.h"
#include "memlayout.h"
#include "riscv.h"
#include "route.h"
#include "nexus/syscall.h"

#define BUF_SIZE         NEXUS_ION_BUF_SIZE
#define RX_BUFS          NEXUS_ION_RX_BUFS
#define TX_BUFS_PER_PORT NEXUS_ION_TX_BUFS_PER_PORT
#define POOL_BUFS        NEXUS_ION_POOL_BUFS
/* Ring capacities, per port (all four rings of a port alike). Each is smaller than the port's RX
 * budget, so a service that stops reading overruns its ring (dropped and counted here) before
 * the device runs dry (which would drop uncounted). The Membrane's ring holds more than the
 * device's whole queue: when the host stops the guest, frames wait outside, and on resume the
 * device hands up a queue's worth at once, before the Membrane runs; a 64-slot ring dropped
 * half of each such burst, a client's SYN among them (tests/e2e/run_qemu_flood.py, stall). */
#define RING_CAPACITY_MEMBRANE 256u
#define RING_CAPACITY_SERVICE  64u
#define RINGS_PER_PORT   4
#define PORT_CHANNEL_BASE NEXUS_PORT_CHANNEL(0) /* wait/signal channels 48.. are the ports' doorbells */
#define BATCH            32

/* RX budgets: the most RX buffers a port may hold at once (on its RX-active ring or read and not
 * yet returned). Past it, frames for the port are dropped and counted (DROP_OVER_BUDGET), so a
 * service that keeps buffers cannot take the ones the device needs for the other ports. The
 * Membrane's is larger: lwIP keeps received segments in its sockets until the apps read them.
 * Each budget is above RING_CAPACITY, so a service that stops reading still overruns its ring
 * first (counted as ring_full); together they leave the device at least RX_DEVICE_FLOOR even if
 * every port is at its budget, and any one port at its budget leaves its whole queue. */
#define RX_BUDGET_MEMBRANE 288u /* a ring's worth and what lwIP holds in its sockets */
#define RX_BUDGET_SERVICE  72u  /* UTCP, LWF: a ring's worth and a few being read */
#define RX_DEVICE_QUEUE    128u /* hal/virtio/virtio_net.c RX_QUEUE_SIZE */
#define RX_DEVICE_FLOOR    16u

/* Holders of a pool buffer in the ownership table: port p is OWNER_PORT0 + p. The device is 0:
 * the RX path checks every frame's buffer against it, and zero costs nothing to compare with. */
enum { OWNER_DEVICE = 0, OWNER_KERNEL = 1, OWNER_PORT0 = 2 };

/* Everything sized by the number of ports must still fit where it goes. */
_Static_assert(NS_PORTS == NEXUS_ION_PORTS, "the route table's ports are the ABI's");
_Static_assert(BUF_SIZE >= NEXUS_ETH_FRAME_MAX, "a pool buffer holds a whole frame");
_Static_assert(OWNER_PORT0 + NS_PORTS <= ION_POOL_NO_OWNER, "every port needs an owner id below ION_POOL_NO_OWNER");
_Static_assert(RX_BUFS <= POOL_BUFS, "an RX handle is a handle of the pool (ion_pool_transfer_bounded)");
_Static_assert(NEXUS_PORT_CHANNEL(NS_PORTS - 1) < NEXUS_CHANNELS, "every port needs a doorbell channel");
_Static_assert(NEXUS_ION_RING_STRIDE == PAGE_SIZE, "each ring is mapped as one page");
_Static_assert(ION_RINGS_VA + RINGS_PER_PORT * PAGE_SIZE <= ION_POOL_VA, "a port's rings overlap the pool's window");
_Static_assert(ION_POOL_VA + (uint64_t)POOL_BUFS * BUF_SIZE <= LINK_CLIENT_VA, "the pool overruns its window");
_Static_assert(RX_BUDGET_MEMBRANE > RING_CAPACITY_MEMBRANE && RX_BUDGET_SERVICE > RING_CAPACITY_SERVICE,
               "a service that stops reading must overrun its ring before its budget");
_Static_assert(RING_CAPACITY_MEMBRANE > RX_DEVICE_QUEUE, "the Membrane's ring takes a whole queue's burst");
_Static_assert(ION_RING_BYTES(RING_CAPACITY_MEMBRANE) <= PAGE_SIZE && ION_RING_BYTES(RING_CAPACITY_SERVICE) <= PAGE_SIZE,
               "each ring is one page");
_Static_assert(RX_BUDGET_MEMBRANE + (NS_PORTS - 1) * RX_BUDGET_SERVICE + RX_DEVICE_FLOOR <= RX_BUFS,
               "every port at its budget must leave the device RX_DEVICE_FLOOR buffers");
_Static_assert(RX_BUDGET_MEMBRANE + RX_DEVICE_QUEUE <= RX_BUFS && RX_BUDGET_SERVICE + RX_DEVICE_QUEUE <= RX_BUFS,
               "one port at its budget must leave the device's queue full");
_Static_assert(RX_BUFS * BUF_SIZE % PAGE_SIZE == 0 && TX_BUFS_PER_PORT * BUF_SIZE % PAGE_SIZE == 0,
               "RX and per-port TX areas are mapped with different rights, so each must be whole pages");

struct port {
    struct fiber *fiber;                   /* NULL while no service holds the port */
    void *ring_pages[RINGS_PER_PORT];
    struct ion_ring ring[RINGS_PER_PORT];  /* our trusted views */
    uint64_t tx_frames, tx_bytes;          /* (RX frames and bytes are counted per route: rx_lane) */
    /* RX buffers the port may still take: rx_budget less those it holds while a fiber holds the
     * port, 0 while none does, so that one test on the RX path refuses both (port_bind.c keeps
     * it so; the refusal then says which). */
    uint32_t rx_credit;
    uint32_t rx_budget;
    uint32_t ring_capacity;
    uint64_t rx_ring_full, rx_over_budget, tx_refused_ethertype, tx_refused_handle, tx_bad_length, tx_queue_full;
    int tx_blocked; /* frames wait on TX-active for device descriptors */
};

/* What the RX path needs for a frame of one route, in one place, with the route's counters: a
 * port's RX figures are the sums over its routes (counters.c), so a frame counts once.
 * The RX path counts a delivered frame with one add into `pending`: 1 in the low half, its
 * length in the high half. ns_rx_fold() moves pending into delivered and bytes; it runs before
 * a port gets RX credit back (its service returns buffers, or a service binds), so pending
 * never holds more frames than a budget: neither half can carry into the other. */
struct rx_lane {
    struct port *port __attribute__((aligned(64))); /* a lane per cache line, found with one shift */
    uint64_t pending;   /* frames (low 32 bits) and bytes (high 32) since the last fold */
    uint64_t delivered; /* frames put on the port's ring, folded */
    uint64_t bytes;     /* and their bytes, folded */
    uint8_t owner;      /* port_owner() of the port */
    uint8_t port_index;
};
#define RX_PENDING_FRAME 1u
#define RX_PENDING_BYTES_SHIFT 32
_Static_assert(sizeof(struct rx_lane) == 64, "a lane is found with one shift");
_Static_assert((uint64_t)RX_BUDGET_MEMBRANE * NEXUS_ETH_FRAME_MAX < (1ull << 32) && RX_BUDGET_SERVICE <= RX_BUDGET_MEMBRANE,
               "a budget's worth of frames fits each half of a lane's pending word");

/* The switch's state, in one object: the RX path then reaches all of it from one base address
 * (as separate globals it costs three more instructions per frame). What the RX path reads
 * comes first, the route table last of it, within 2 KiB of the start: a load's own offset then
 * reaches each, the table included (static assert below); what only the slow paths and the
 * counters read lies past the table. */
struct netswitch_state {
    /* Lane 1 + r serves route r of ns_routes[]; lane NS_LANE_NONE, unknown types, leads to
     * no_port, which never has credit: the RX path's credit test refuses those frames too, and
     * the refusal counts them as unknown. First in the object: lane n is at n * 64. */
    struct rx_lane lanes[NS_LANES];
    struct ion_pool owner_table;     /* who holds each pool buffer */
    uint8_t *pool;                   /* POOL_BUFS * BUF_SIZE, physically contiguous */
    struct port ports[NS_PORTS];
    struct port no_port;
    uint8_t route_table[NS_ROUTE_TABLE_SIZE]; /* route.h: EtherType -> lane */
    uint64_t drops[NS_DROPS];        /* frames that went nowhere, by cause */
    uint64_t rx_refused_by_lane[NS_LANES]; /* routed, then dropped or refused at the port */
    uint64_t returns_refused;        /* RX returns of handles the service did not hold */
    uint64_t rx_not_device_held;     /* RX completions of buffers the device did not hold */
    uint32_t rx_posted_low;          /* fewest RX buffers posted to the device after a refill */
    uint64_t rx_spare_errors;        /* rx_demux.c's spare list: a push when full, a stale entry */
    int counters_dirty;              /* something changed since the last publish */
};
extern struct netswitch_state ns_switch; /* netswitch.c */
_Static_assert(offsetof(struct netswitch_state, route_table) < 2048, "the RX path reaches the route table from the switch's base");

/* counters.c */
void ns_publish_port_holder(unsigned port);
uint64_t ns_port_rx_frames(unsigned port); /* the sums over the port's routes */
uint64_t ns_port_rx_bytes(unsigned port);

/* rx_demux.c */
void ns_rx_fold(void);            /* every lane's pending counts into its totals */
uint64_t ns_lane_delivered(const struct rx_lane *lane); /* totals with what is pending */
uint64_t ns_lane_bytes(const struct rx_lane *lane);
void ns_rx_frame(uint32_t handle, uint32_t offset, uint32_t len); /* the device's RX callback */
void ns_rx_buffer_home(uint32_t handle);
void ns_rx_refill(void);          /* posts spare RX buffers while the device's queue has room */
uint32_t ns_rx_spare_count(void);
void ns_rx_take_returns(struct port *p, unsigned port);

/* tx_check.c */
void ns_tx_done(uint32_t handle); /* the device's TX completion callback */
void ns_tx_space(void);           /* the device has TX descriptors again */

static inline uint8_t *pool_buffer(uint32_t h) { return ns_switch.pool + (uint64_t)h * BUF_SIZE; }
static inline uint8_t port_owner(unsigned p) { return (uint8_t)(OWNER_PORT0 + p); }
static inline int is_rx_handle(uint32_t h) { return h < RX_BUFS; }
static inline uint32_t tx_first(unsigned p) { return RX_BUFS + p * TX_BUFS_PER_PORT; }
static inline int port_of_fiber(const struct fiber *f) { return f && f->net_port >= 0 ? f->net_port : -1; }

/* rx_cost.c: the RX demux measures each delivered frame in the test build only; in the product
 * build these compile to nothing. */
#ifdef NEXUS_TEST_BUILD
void ns_rx_cost_record(uint64_t instructions);
void ns_rx_cost_publish(void);
static inline uint64_t rx_cost_begin(void) { return rdinstret(); }
static inline void rx_cost_end(uint64_t begin) { ns_rx_cost_record(rdinstret() - begin); }
#else
static inline void ns_rx_cost_publish(void) {}
static inline uint64_t rx_cost_begin(void) { return 0; }
static inline void rx_cost_end(uint64_t begin) { (void)begin; }
#endif

#endif
