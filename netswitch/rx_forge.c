/*
 * Test build only (build/nexus-test.elf; the Makefile leaves this file out of build/nexus.elf):
 * plays a device that hands up a buffer it does not hold, the way a buggy driver or device
 * could, so the self-test can check that the RX demux refuses it rather than deliver, drop or
 * repost a buffer someone else holds.
 */
#include "netswitch.h"
#include "netswitch_internal.h"
#include "virtio_net.h"

static uint64_t frames_delivered(void) {
    uint64_t n = 0;
    for (unsigned p = 0; p < NS_PORTS; p++)
        n += ns_port_rx_frames(p);
    return n;
}

static uint64_t frames_dropped(void) {
    uint64_t n = 0;
    for (unsigned d = 0; d < NS_DROPS; d++)
        n += ns_switch.drops[d];
    return n;
}

int netswitch_test_forge_rx(uint16_t ethertype, uint32_t len, struct netswitch_forged_rx *out) {
    uint32_t h = 0;
    while (h < RX_BUFS && ion_pool_owner(&ns_switch.owner_table, h) != OWNER_KERNEL)
        h++;
    if (h == RX_BUFS)
        return -1;
    /* The kernel holds the buffer, so writing into it disturbs nobody. */
    uint32_t offset = virtio_net_info()->hdr_len;
    uint8_t *frame = pool_buffer(h) + offset;
    frame[12] = (uint8_t)(ethertype >> 8);
    frame[13] = (uint8_t)ethertype;
    uint64_t delivered = frames_delivered(), dropped = frames_dropped();
    uint32_t home = netswitch_rx_buffers_home();
    ns_rx_frame(h, offset, len);
    out->holder_changed = ion_pool_owner(&ns_switch.owner_table, h) != OWNER_KERNEL;
    out->delivered = frames_delivered() - delivered;
    out->dropped = frames_dropped() - dropped;
    out->buffers_home_changed = netswitch_rx_buffers_home() != home;
    return 0;
}
