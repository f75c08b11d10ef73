/*
 * The UTCP service's loop (utcpd.h): frames from port 1, requests from apps, the core's timers,
 * /Bus, then sleep on the port's and the links' channels until the core's next timer. Each pass
 * handles bounded batches (wire.c's RX_BATCH, one request ring per app) and yields when it found
 * work, so a flood of frames costs this fiber its own time only.
 */
#include <errno.h>
#include <stdio.h>

#include "link/server.h"
#include "nexus.h"
#include "utcpd.h"

#define TICK_US 100000ull /* /Bus and the connections' ends */
#define IDLE_WAIT_US 1000000ull

int main(void) {
    uint8_t probe;
    if (nx_entropy(&probe, 1) == -ENODEV) {
        /* Session ids, ephemerals and cookies need fresh randomness: exiting 0 tells the
         * supervisor not to restart a service that cannot run on this machine. */
        printf("utcp: this machine has no entropy source (virtio-rng); UTCP needs fresh keys, so it does not "
               "start\n");
        return 0;
    }
    struct utcp_identity id;
    if (!identity_load(&id))
        return 1;
    if (!wire_start(&id, now_us())) {
        printf("utcp: this fiber holds no NetSwitch port; nothing to do\n");
        return 1;
    }
    unsigned apps = sockets_attach();
    printf("utcp: listening on EtherType 0x88b5, %u app link(s)\n", apps);
    uint64_t wait_mask = link_server_wait_mask() | 1ull << wire_channel();
    uint64_t last_tick = 0;
    while (!identity_lost()) {
        uint64_t now = now_us();
        unsigned work = wire_poll(now);
        work += link_server_poll();
        uint64_t due = wire_timers(now_us());
        wire_spare_session();
        sockets_refresh();
        if (now - last_tick >= TICK_US) {
            last_tick = now;
            bus_publish();
        }
        link_server_flush();
        wire_kick();
        if (work) {
            nx_yield();
            continue;
        }
        now = now_us();
        if (due <= now) { /* a timer due already (pacing): others first, then it */
            nx_yield();
            continue;
        }
        if (!wire_sleep_prepare() || !link_server_sleep_prepare())
            continue;
        uint64_t wait = due - now;
        if (wait > TICK_US)
            wait = TICK_US < IDLE_WAIT_US ? TICK_US : IDLE_WAIT_US;
        nx_wait_any(wait_mask, wait * 1000u);
    }
    /* Peers know this node by the key the old signer held: start again with the new one. */
    printf("utcp: the signer is gone: nothing can be signed; ending so that a new start asks the new signer\n");
    return 1;
}
