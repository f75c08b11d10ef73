/*
 * The NetSwitch: moves frames between virtio-net and the services' ION rings, reading only the
 * EtherType (DESIGN.md section 4). Receive is zero-copy: the device DMAs into a pool buffer and
 * the service reads it in place. Transmit sends the service's buffer in place after checking
 * its EtherType against the port's grant; only the 14-byte Ethernet header is copied into
 * kernel memory, so the checked EtherType is the one sent.
 */
#ifndef NEXUS_NETSWITCH_H
#define NEXUS_NETSWITCH_H

#include <stdint.h>

#include "route.h"

struct fiber;
struct nexus_ion_info;

/* Drives the virtio-net device at base/irq: allocates the pool and the rings, posts receive
 * buffers. 0, or -1 if the device is unusable (networking then stays off; nothing else
 * depends on it). */
int netswitch_init(uint64_t base, uint32_t irq);
int netswitch_up(void);

/* Gives fiber f the port with `rights` (cspace.h CAP_*): grants its doorbell channel and maps
 * its rings and the pool into f's address space, writable only with WRITE. 0 or -errno. */
int netswitch_bind(unsigned port, struct fiber *f, unsigned rights);
/* The fiber holding a port died: every buffer it held comes back. */
void netswitch_fiber_gone(struct fiber *f);

/* Syscall backends for the fiber bound to a port. */
int netswitch_info(struct fiber *f, struct nexus_ion_info *out);
long netswitch_kick(struct fiber *f);
/* f yields, waits or sleeps: its port's returns are taken and its queued frames sent, as its
 * ion_kick would, so a service whose loop gives up the CPU after queueing need not kick. */
void netswitch_giving_up_cpu(struct fiber *f);

/* Refreshes /Bus/net/switch/... (called when idle, and by whoever reads the counters). */
void netswitch_publish(void);

/* Publishes changed counters; the scheduler calls it before going idle. */
void netswitch_idle(void);

/* The device interrupts only while the hart would otherwise sleep. Under QEMU an interrupt
 * (and each register access of its handler) waits for the lock QEMU's main loop holds while it
 * sends the frames queued before: a guest interrupted by the first acknowledgement of a burst
 * stood still until the whole burst was out, and the two took turns instead of working at
 * once (docs/ion.md, "Interrupts only to wake"). So while fibers run the device's interrupts
 * are off and the scheduler collects what it finished between fibers (netswitch_poll); the
 * timer's interrupt does too, so a fiber that runs long delays frames by one watchdog look at
 * most. Before sleeping the scheduler turns them on (netswitch_sleep_prepare). */
void netswitch_poll(void);
void netswitch_fibers_run(void);
/* Interrupts on; 0 if the device finished something meanwhile (poll instead of sleeping). */
int netswitch_sleep_prepare(void);

/* For the self-tests: the device DMA address of buffer h. */
uint64_t netswitch_buffer_addr(uint32_t handle);
/* Pool buffers currently free in the kernel or posted to the device (the baseline for leak
 * checks: it returns to its starting value when every service has given its buffers back). */
uint32_t netswitch_rx_buffers_home(void);

#ifdef NEXUS_TEST_BUILD
/* Test build (rx_forge.c): hands the RX demux, as if the device had received a frame of `len`
 * bytes with `ethertype` into it, an RX buffer the kernel holds, and says what the demux did
 * with it. 0, or -1 if the kernel holds no RX buffer. */
struct netswitch_forged_rx {
    int holder_changed;       /* the buffer is no longer the kernel's */
    int buffers_home_changed; /* netswitch_rx_buffers_home() moved */
    uint64_t delivered;       /* frames the ports received meanwhile */
    uint64_t dropped;         /* frames dropped (any cause) meanwhile */
};
int netswitch_test_forge_rx(uint16_t ethertype, uint32_t len, struct netswitch_forged_rx *out);
#endif

#endif
