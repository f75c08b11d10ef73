/*
 * The LWF service's loop (lwfd.h): frames from port 2, requests from apps, timers, /Bus, then
 * sleep on the port's and the links' channels. Each pass handles bounded batches (wire.c's
 * RX_BATCH, one request ring per app) and yields when it found work, so a flood of frames
 * costs this fiber its own time only.
 */
#include <errno.h>
#include <stdio.h>

#include "link/server.h"
#include "lwfd.h"
#include "nexus.h"

#define TICK_MS 100    /* reassembly timeouts and /Bus */
#define IDLE_WAIT_MS 1000

static struct lwf_node me;

static void publish_counters(void) {
    const struct wire_counters *w = &wire_counters;
    const struct link_server_stats *s = link_server_stats();
    const struct {
        const char *key;
        uint64_t value;
    } counters[] = {
        {"/Bus/lwf/rx_frames", w->rx_frames},
        {"/Bus/lwf/tx_frames", w->tx_frames},
        {"/Bus/lwf/tx_messages", w->tx_messages},
        {"/Bus/lwf/tx_no_buffer", w->tx_no_buffer},
        {"/Bus/lwf/announces_sent", w->announces_sent},
        {"/Bus/lwf/announces_accepted", w->announces_accepted},
        {"/Bus/lwf/delivered", w->delivered},
        {"/Bus/lwf/undelivered/no_socket", w->no_socket},
        {"/Bus/lwf/undelivered/queue_full", w->queue_full},
        {"/Bus/lwf/peer_count", peer_count()},
        {"/Bus/lwf/socket_requests", s->requests},
        {"/Bus/lwf/socket_errors", s->errors},
        {"/Bus/lwf/reassembly_busy", wire_reassembly_busy()},
    };
    static uint64_t shown[sizeof counters / sizeof counters[0] + LWF_DROP_CAUSES];
    static int first = 1;
    char key[64], value[24];
    for (unsigned i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        if (!first && shown[i] == counters[i].value)
            continue;
        shown[i] = counters[i].value;
        snprintf(value, sizeof value, "%llu", (unsigned long long)counters[i].value);
        nx_bus_set(counters[i].key, value);
    }
    for (unsigned c = 1; c < LWF_DROP_CAUSES; c++) {
        uint64_t *was = &shown[sizeof counters / sizeof counters[0] + c];
        if (!first && *was == w->drops[c])
            continue;
        *was = w->drops[c];
        snprintf(key, sizeof key, "/Bus/lwf/drops/%s", lwf_drop_name((enum lwf_drop)c));
        snprintf(value, sizeof value, "%llu", (unsigned long long)w->drops[c]);
        nx_bus_set(key, value);
    }
    first = 0;
    peers_publish();
}

static uint64_t now_ms(void) { return nx_clock_ns() / 1000000u; }

int main(void) {
    uint8_t probe;
    if (nx_entropy(&probe, 1) == -ENODEV) {
        /* Keys and nonces need fresh randomness: without an RNG there is no safe LWF. Exiting 0
         * tells the supervisor not to restart a service that cannot run on this machine. */
        printf("lwf: this machine has no entropy source (virtio-rng); LWF needs fresh keys and nonces, so it "
               "does not start\n");
        return 0; /* the signer says so in /Bus/lwf/identity */
    }
    uint8_t mac[LWF_MAC_LEN];
    if (!wire_start(mac)) {
        printf("lwf: this fiber holds no NetSwitch port; nothing to do\n");
        return 1;
    }
    uint64_t first_sequence;
    if (!identity_load(&me, mac, &first_sequence))
        return 1;
    wire_set_node(&me, first_sequence);
    unsigned apps = sockets_attach_node(&me);
    wire_solicit(now_ms()); /* who is out there: every node answers with its own ANNOUNCE */
    wire_kick();
    printf("lwf: listening on EtherType 0x4c57, %u app link(s)\n", apps);
    uint64_t wait_mask = link_server_wait_mask() | 1ull << wire_channel();
    uint64_t last_tick = 0;
    while (!identity_lost()) {
        uint64_t now = now_ms();
        unsigned work = wire_poll(now);
        work += link_server_poll();
        work += wire_flush_queue();
        if (now - last_tick >= TICK_MS) {
            last_tick = now;
            wire_tick(now);
            publish_counters();
        }
        link_server_flush();
        wire_kick();
        if (work) {
            nx_yield();
            continue;
        }
        if (!wire_sleep_prepare() || !link_server_sleep_prepare())
            continue;
        nx_wait_any(wait_mask, NX_MS(TICK_MS < IDLE_WAIT_MS ? TICK_MS : IDLE_WAIT_MS));
    }
    /* Its peers know this node by the key the old signer held: start again with the new one. */
    printf("lwf: the signer is gone: nothing can be signed; ending so that a new start asks the new signer\n");
    return 1;
}
