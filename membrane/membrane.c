/*
 * The Membrane: lwIP in a user-mode fiber (DESIGN.md section 5). One thread, one loop:
 *   frames from the NetSwitch -> lwIP, socket requests from apps -> lwIP, lwIP's timers,
 *   the network state to /Bus, socket statuses to apps, queued frames to the kernel,
 *   then sleep on the port's and the links' channels until the next timer.
 * Each pass takes a bounded batch from every source (ion_netif_poll, link_server_poll); a pass
 * that found work yields the CPU before the next, so a flood from the wire or a busy app keeps
 * the Membrane busy, never a runaway (the watchdog counts time since the last yield or block),
 * and the apps it serves still get their turn.
 * A crash here ends this fiber only; the kernel and every other fiber go on.
 */
#include <stdio.h>
#include <string.h>

#ifdef NEXUS_FAULT_INJECTION
#include "fault_inject.h"
#endif
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "arp_pins.h"
#include "decimal.h"
#include "lease.h"
#include "milestones.h"
#include "netif_ion.h"
#include "phase_profile.h"
#include "shed_counters.h"
#include "static_ipv4.h"
#include "send_area.h"
#include "tcp_send.h"
#include "tx_buffers.h"
#include "nexus.h"
#include "link/server.h"
#include "random.h"
#include "sockets.h"

#define IDLE_WAIT_MAX_MS 1000 /* even without lwIP timers, look around this often */
#define PUBLISH_EVERY_MS 100
#define PUBLISH_SLICE 8 /* keys written to /Bus a pass (publish_flush) */

#ifdef NEXUS_TEST_BUILD
uint64_t phase_instret[PHASES];
uint64_t phase_mark;
#endif

static struct netif nic;
static struct netif *loopback;
static int state_changed = 1;

u32_t sys_now(void) { return (u32_t)(nx_clock_ns() / 1000000u); }

/* ---- the network state under /Bus/net ---- */

struct published {
    uint32_t hash; /* of key: compared before the key itself */
    uint8_t dirty; /* changed since it was last written to /Bus */
    char key[48];
    char value[64];
};

/* Room for every key the Membrane may own: the kernel's quota per fiber (BUS_OWNER_QUOTA,
 * kernel/bus.h). A key with no slot is written by a syscall every round: with 64 slots the test
 * build's last 14 keys (milestones, drop counters) were, ~50 k instructions each round. */
#define PUBLISHED_KEYS_MAX 96
static struct published state[PUBLISHED_KEYS_MAX];
static size_t state_used, state_dirty;

static uint32_t key_hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

/* The slot remembering key, made if it is new; NULL when there is no room for it. Every round
 * publishes the same keys in the same order, and a key keeps its slot, so the slot after the
 * last one found is nearly always the key's; elsewhere a hash is compared before the key (most
 * keys share their first 18 bytes, "/Bus/net/membrane/": a new Membrane's first round compared
 * each new key with every one before it). */
static struct published *slot_of(const char *key) {
    static size_t next;
    uint32_t h = key_hash(key);
    for (size_t n = 0; n < state_used; n++) {
        size_t i = (next + n) % state_used;
        if (state[i].hash == h && !strcmp(state[i].key, key)) {
            next = i + 1;
            return &state[i];
        }
    }
    if (state_used == sizeof state / sizeof state[0] || strlen(key) >= sizeof state[0].key)
        return NULL;
    struct published *p = &state[state_used++];
    p->hash = h;
    strcpy(p->key, key);
    p->dirty = 1;
    state_dirty++;
    next = state_used;
    return p;
}

/* Notes key=value for /Bus when it changed since the last time (state[] remembers); publish_flush
 * writes what changed, a few keys a pass. */
static void publish(const char *key, const char *value) {
    struct published *p = slot_of(key);
    if (!p || strlen(value) >= sizeof p->value) {
        nx_bus_set(key, value); /* not remembered: published every time */
        return;
    }
    if (!p->dirty && !strcmp(p->value, value))
        return;
    strcpy(p->value, value);
    if (!p->dirty) {
        p->dirty = 1;
        state_dirty++;
    }
}

/* Writes up to max changed keys to /Bus; returns how many are left. A new Membrane's first round
 * is ~60 new keys, ~0.2 M instructions of syscalls: written a slice a pass, they leave frames and
 * the apps' calls their turn in between. */
static size_t publish_flush(size_t max) {
    for (size_t i = 0; i < state_used && state_dirty && max; i++) {
        if (!state[i].dirty)
            continue;
        state[i].dirty = 0;
        state_dirty--;
        max--;
        nx_bus_set(state[i].key, state[i].value);
    }
    return state_dirty;
}

static void publish_ip(const char *key, const ip_addr_t *ip) {
    char text[IPADDR_STRLEN_MAX];
    publish(key, ip ? ipaddr_ntoa_r(ip, text, sizeof text) : "none");
}

static void publish_state(void) {
    const ip4_addr_t *a = netif_ip4_addr(&nic);
    publish("/Bus/net/ipv4/state", static_ipv4_active() ? "static" : lease_state(&nic));
    ip_addr_t v;
    ip_addr_copy_from_ip4(v, *a);
    publish_ip("/Bus/net/ipv4/addr", &v);
    ip_addr_copy_from_ip4(v, *netif_ip4_netmask(&nic));
    publish_ip("/Bus/net/ipv4/netmask", &v);
    ip_addr_copy_from_ip4(v, *netif_ip4_gw(&nic));
    publish_ip("/Bus/net/ipv4/gateway", &v);
    publish_ip("/Bus/net/ipv4/dns", dns_getserver(0));
    char pinned[64];
    arp_pins_describe(pinned, sizeof pinned);
    publish("/Bus/net/ipv4/arp_pinned", pinned);
    static const char *const v6keys[LWIP_IPV6_NUM_ADDRESSES] = {"/Bus/net/ipv6/linklocal", "/Bus/net/ipv6/addr1",
                                                                 "/Bus/net/ipv6/addr2"};
    for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
        char text[IPADDR_STRLEN_MAX + 16];
        u8_t st = netif_ip6_addr_state(&nic, i);
        if (ip6_addr_isinvalid(st)) {
            publish(v6keys[i], "none");
            continue;
        }
        ipaddr_ntoa_r(netif_ip_addr6(&nic, i), text, IPADDR_STRLEN_MAX);
        if (ip6_addr_istentative(st))
            strcat(text, " (tentative)");
        publish(v6keys[i], text);
    }
}

static void publish_number(const char *key, uint64_t value) {
    char v[DECIMAL_MAX];
    publish(key, decimal(value, v));
}

static void publish_counters(void) {
    const struct ion_netif_stats *n = ion_netif_stats();
    const struct link_server_stats *s = link_server_stats();
    const struct sockets_stats *k = &sockets_counters;
    const struct tx_buffer_stats *t = tx_buffer_stats();
    const struct send_area_stats *a = send_area_stats();
    const struct {
        const char *key;
        uint64_t value;
    } counters[] = {
        {"/Bus/net/membrane/rx_frames", n->rx_frames},
        {"/Bus/net/membrane/tx_frames", n->tx_frames},
        {"/Bus/net/membrane/tx_no_buffer", n->tx_no_buffer},
        {"/Bus/net/membrane/socket_requests", s->requests},
        {"/Bus/net/membrane/socket_errors", s->errors},
        {"/Bus/net/membrane/rejected", s->bad_slots + s->bad_rings + n->rx_bad_handle + n->rx_refused},
        {"/Bus/net/membrane/completions_lost", s->completions_lost},
        {"/Bus/net/membrane/accept_refused", k->accept_refused},
        {"/Bus/net/membrane/udp_dropped", k->udp_dropped},
        {"/Bus/net/membrane/timewait_released", k->timewait_released},
        {"/Bus/net/membrane/app_restarts", s->app_restarts},
        /* The Membrane's own copies out of the read-only RX pool (lwip/rx_frame_policy.h);
         * /Bus/net/switch/rx_copied_bytes is the kernel's and stays 0. */
        {"/Bus/net/membrane/rx_copied_frames", n->rx_copied_frames},
        {"/Bus/net/membrane/rx_copied_bytes", n->rx_copied_bytes},
        {"/Bus/net/membrane/rx_header_bytes", n->rx_header_bytes},
        {"/Bus/net/membrane/rx_no_memory", n->rx_no_memory},
        {"/Bus/net/membrane/rx_acks_coalesced", n->rx_acks_coalesced},
        /* Each byte an app sends is copied app -> link slot -> a lent TX buffer (or lwIP's
         * memory), and a frame lwIP did not make from a lent buffer once more into a TX buffer
         * (docs/ion.md); /Bus/net/switch/tx_copied_bytes is the kernel's and stays 0. */
        {"/Bus/net/membrane/tx_payload_bytes", k->tx_payload_bytes},
        {"/Bus/net/membrane/tx_slot_bytes", k->tx_slot_bytes},
        {"/Bus/net/membrane/tx_area_bytes", k->tx_area_bytes},
        {"/Bus/net/membrane/tx_area_frames", a->frames},
        {"/Bus/net/membrane/tx_area_referenced_bytes", a->referenced_bytes},
        {"/Bus/net/membrane/tx_area_held_now", send_area_held()},
        {"/Bus/net/membrane/tx_area_refused", a->refused},
        {"/Bus/net/membrane/tx_area_no_piece", a->no_piece},
        {"/Bus/net/membrane/tx_area_lost", tcp_send_refs_lost()},
        {"/Bus/net/membrane/tx_stack_copied_bytes", k->tx_stack_copied_bytes},
        {"/Bus/net/membrane/send_starved", k->send_starved},
        {"/Bus/net/membrane/posted_sends", s->posts},
        {"/Bus/net/membrane/posted_rests", k->posted_rests},
        {"/Bus/net/membrane/posted_dropped_bytes", k->posted_dropped_bytes},
        {"/Bus/net/membrane/tx_frame_copied_bytes", n->tx_frame_copied_bytes},
        {"/Bus/net/membrane/tx_header_bytes", n->tx_header_bytes},
        {"/Bus/net/membrane/tx_frames_in_place", t->frames_in_place},
        {"/Bus/net/membrane/tx_lent_bytes", t->lent_bytes},
        {"/Bus/net/membrane/tx_lent_now", tx_buffers_lent()},
        {"/Bus/net/membrane/tx_lend_refused", t->lend_refused},
        {"/Bus/net/membrane/tx_lent_lost", t->lent_lost},
        {"/Bus/net/membrane/checksummed_bytes", n->checksummed_bytes},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        publish_number(counters[i].key, counters[i].value);
#ifdef NEXUS_TEST_BUILD
    static const char *const phase_keys[PHASES] = {
        [PHASE_RX] = "/Bus/net/membrane/instret/rx",           [PHASE_SOCKETS] = "/Bus/net/membrane/instret/sockets",
        [PHASE_TIMERS] = "/Bus/net/membrane/instret/timers",   [PHASE_PUBLISH] = "/Bus/net/membrane/instret/publish",
        [PHASE_TX] = "/Bus/net/membrane/instret/tx",
    };
    for (int p = 0; p < PHASES; p++)
        publish_number(phase_keys[p], phase_instret[p]);
#endif
    struct shed_counter shed[SHED_COUNTERS];
    size_t sheds = shed_counters_read(shed, SHED_COUNTERS);
    for (size_t i = 0; i < sheds; i++)
        publish_number(shed[i].key, shed[i].value);
    milestones_publish(publish);
}

static void on_netif_status(struct netif *netif) {
    (void)netif;
    state_changed = 1;
}

/* Frames lwIP sent to itself (127.0.0.1, or its own address) wait for netif_poll_all(). */
static int loopback_pending(void) { return nic.loop_first || (loopback && loopback->loop_first); }

static void bring_up(void) {
    char mac[24];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", nic.hwaddr[0], nic.hwaddr[1], nic.hwaddr[2],
             nic.hwaddr[3], nic.hwaddr[4], nic.hwaddr[5]);
    nx_bus_set("/Bus/net/mac", mac);
    netif_set_status_callback(&nic, on_netif_status);
    netif_set_default(&nic);
    netif_create_ip6_linklocal_address(&nic, 1);
    nic.ip6_autoconfig_enabled = 1;
    netif_set_up(&nic);
    if (static_ipv4_apply(&nic) > 0) { /* a wire without DHCP: the bootargs' address */
        milestone_mark(MS_ADDRESS);
        netif_set_link_up(&nic);
    } else {
        lease_start(&nic);
    }
}

int main(void) {
    milestone_mark(MS_START);
    lwip_init();
    if (ion_netif_add(&nic) != 0) {
        printf("membrane: this fiber holds no NetSwitch port; nothing to do\n");
        return 1;
    }
    membrane_random_start(nic.hwaddr);
    bring_up();
    loopback = netif_find("lo0");
    unsigned apps = sockets_attach();
    int announced = 0;
    uint64_t wait_mask = link_server_wait_mask() | 1ull << ion_netif_channel();
    uint32_t last_publish = sys_now(); /* the first round comes with state_changed */
    for (;;) {
        milestone_mark(MS_READY);
        phase_begin();
        unsigned work = ion_netif_poll(&nic);
        phase_end(PHASE_RX);
        if (work)
            milestone_mark(MS_FIRST_FRAME);
        work += link_server_poll();
        work += tcp_sock_push_rests(); /* after the acknowledgements just taken in */
        phase_end(PHASE_SOCKETS);
        netif_poll_all(); /* loopback (127.0.0.1) traffic queued by the work above */
        sys_check_timeouts();
        tcp_sock_recheck_starved();
        lease_watch(&nic);
        /* A publish round for a changed state waits for a pass with nothing to do: no frames
         * in or for the wire (answers to those come back within tens of microseconds: a
         * restarted Membrane's DHCP confirm, an ARP reply), no app requests (a restart's
         * listeners). A new Membrane's first round (~0.1 M instructions, every key new) and
         * its console line came ahead of its next look at the RX ring and kept the DHCP
         * answer waiting. A round due by the clock waits for nothing. */
        int publish_due = sys_now() - last_publish >= PUBLISH_EVERY_MS ||
                          (state_changed && !work && !ion_netif_unflushed());
        if (state_changed && !publish_due)
            work++; /* back after a yield, not after a sleep */
        if (publish_due)
            arp_pins_keep(&nic); /* may queue an ARP request: before the flush */
        phase_end(PHASE_TIMERS);
        link_server_flush();
        phase_end(PHASE_SOCKETS);
        /* The kernel sends what this pass queued when the pass ends in a yield or a wait, a
         * syscall saved; a publish round comes before that end, so then it is kicked now. */
        if (publish_due)
            ion_netif_flush();
        else
            ion_netif_hand_over();
        phase_end(PHASE_TX);
        /* After the flushes: what this pass made for the wire and the apps is not kept waiting
         * behind bookkeeping. */
        if (publish_due) {
            if (!announced) {
                /* With the first round: every console byte is a trip out of the guest, and a
                 * restart's DHCP confirm need not wait for them. */
                announced = 1;
#ifdef NEXUS_FAULT_INJECTION
                fault_inject_start(); /* says so on the console too */
#endif
                printf("membrane: lwIP %s on %c%c, %u app link(s), %s\n", LWIP_VERSION_STRING, nic.name[0],
                       nic.name[1], apps, static_ipv4_active() ? "static IPv4 address (bootargs ipv4=)" : "DHCP started");
            }
            state_changed = 0;
            last_publish = sys_now();
            publish_state();
            publish_counters();
        }
        if (publish_flush(PUBLISH_SLICE))
            work++; /* more to write: back after a yield, not after a sleep */
        phase_end(PHASE_PUBLISH);
        if (work || loopback_pending()) {
            nx_yield();
            continue;
        }
        /* Sleep only if every source is still empty once the wake flags are set. */
        if (!ion_netif_sleep_prepare() || !link_server_sleep_prepare())
            continue;
        u32_t sleep_ms = sys_timeouts_sleeptime();
        if (sleep_ms > IDLE_WAIT_MAX_MS)
            sleep_ms = IDLE_WAIT_MAX_MS;
        if (sleep_ms)
            nx_wait_any(wait_mask, NX_MS(sleep_ms));
    }
}
