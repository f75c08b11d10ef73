/* The DHCP lease across Membrane restarts (lease.h). */
#include "lease.h"

#include <stdint.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/netif.h"
#include "lwip/prot/dhcp.h"
#include "milestones.h"
#include "nexus.h"

#define LEASE_FILE "lease"
#define LEASE_MAGIC 0x4e584c31u /* "NXL1" */

/* The file's bytes. Written by an earlier run of this same service, so read as untrusted: a
 * wrong address is caught by the checks below or refused by the server's NAK. */
struct saved_lease {
    uint32_t magic;
    uint32_t addr, netmask, gateway, server; /* network byte order, as lwIP keeps them */
    uint32_t dns[DNS_MAX_SERVERS];
    uint64_t expires_ns; /* by the guest clock, which runs on across restarts */
};

static struct saved_lease remembered; /* the restored lease, until DHCP binds; magic 0: none */
static u8_t last_state = DHCP_STATE_OFF;

static uint64_t now_ns(void) { return nx_clock_ns(); }

/* A netmask is some ones then zeros. */
static int mask_ok(uint32_t mask_be) {
    uint32_t m = lwip_ntohl(mask_be);
    return m != 0 && (~m & (~m + 1)) == 0;
}

static int usable(const struct saved_lease *l) {
    uint32_t host = ~l->netmask;
    return l->magic == LEASE_MAGIC && l->expires_ns > now_ns() && mask_ok(l->netmask) && l->addr &&
           (l->addr & host) && (l->addr & host) != host && l->server &&
           (!l->gateway || (l->gateway & l->netmask) == (l->addr & l->netmask));
}

static void configure(struct netif *netif, const struct saved_lease *l) {
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, l->addr);
    ip4_addr_set_u32(&m, l->netmask);
    ip4_addr_set_u32(&g, l->gateway);
    netif_set_addr(netif, &a, &m, &g);
    for (int i = 0; i < DNS_MAX_SERVERS; i++) {
        ip_addr_t d = IPADDR4_INIT(l->dns[i]);
        if (l->dns[i])
            dns_setserver((u8_t)i, &d);
    }
}

int lease_start(struct netif *netif) {
    struct saved_lease l;
    int have = nx_file_read(LEASE_FILE, 0, &l, sizeof l) == (long)sizeof l && usable(&l);
    if (have) {
        configure(netif, &l);
        remembered = l;
        milestone_mark(MS_ADDRESS);
    }
    dhcp_start(netif); /* the link is down: DHCP waits in INIT and sends nothing yet */
    struct dhcp *d = netif_dhcp_data(netif);
    if (have && d) {
        /* What lwIP holds for a lease it wants to confirm; the link coming up then sends the
         * INIT-REBOOT request (dhcp_network_changed_link_up), as after a cable was replugged. */
        ip4_addr_set_u32(&d->offered_ip_addr, l.addr);
        ip4_addr_set_u32(&d->offered_sn_mask, l.netmask);
        ip4_addr_set_u32(&d->offered_gw_addr, l.gateway);
        ip_addr_set_ip4_u32(&d->server_ip_addr, l.server);
        d->state = DHCP_STATE_REBOOTING;
    }
    netif_set_link_up(netif);
    lease_watch(netif);
    return have;
}

/* Writes the lease lwIP just bound, to outlive this run. */
static void save(const struct netif *netif, const struct dhcp *d) {
    struct saved_lease l = {.magic = LEASE_MAGIC};
    l.addr = ip4_addr_get_u32(netif_ip4_addr(netif));
    l.netmask = ip4_addr_get_u32(netif_ip4_netmask(netif));
    l.gateway = ip4_addr_get_u32(netif_ip4_gw(netif));
    l.server = IP_IS_V4(&d->server_ip_addr) ? ip4_addr_get_u32(ip_2_ip4(&d->server_ip_addr)) : 0;
    for (int i = 0; i < DNS_MAX_SERVERS; i++) {
        const ip_addr_t *s = dns_getserver((u8_t)i);
        l.dns[i] = s && IP_IS_V4(s) ? ip4_addr_get_u32(ip_2_ip4(s)) : 0;
    }
    /* Counted from now, not from the server's answer: a little later than the truth, never
     * earlier, by the time one pass of the loop takes. 0xffffffff is RFC 2131's "infinity". */
    uint64_t seconds = d->offered_t0_lease == 0xffffffffu ? UINT64_MAX / 2000000000u : d->offered_t0_lease;
    l.expires_ns = now_ns() + seconds * 1000000000u;
    (void)nx_file_write(LEASE_FILE, 0, &l, sizeof l); /* no file area granted: nothing kept */
}

void lease_watch(struct netif *netif) {
    const struct dhcp *d = netif_dhcp_data(netif);
    if (!d)
        return;
    if (d->state != last_state) {
        if (d->state == DHCP_STATE_SELECTING)
            milestone_mark(MS_DHCP_DISCOVER);
        else if (d->state == DHCP_STATE_REQUESTING || d->state == DHCP_STATE_REBOOTING)
            milestone_mark(MS_DHCP_REQUEST);
        else if (d->state == DHCP_STATE_BOUND) {
            milestone_mark(MS_LEASE);
            milestone_mark(MS_ADDRESS);
            remembered.magic = 0;
            save(netif, d);
        }
        last_state = d->state;
    }
    /* RFC 2131 lets a client use a remembered address for the rest of its lease while the
     * server does not answer; not past it. */
    if (remembered.magic && now_ns() >= remembered.expires_ns) {
        remembered.magic = 0;
        if (!dhcp_supplied_address(netif))
            netif_set_addr(netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
    }
}

const char *lease_state(const struct netif *netif) {
    const struct dhcp *d = netif_dhcp_data(netif);
    if (dhcp_supplied_address(netif))
        return "bound";
    return d && d->state == DHCP_STATE_REBOOTING && !ip4_addr_isany_val(*netif_ip4_addr(netif)) ? "confirming"
                                                                                               : "requesting";
}
