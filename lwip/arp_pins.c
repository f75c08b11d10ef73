/*
 * ARP entries pinned for the lease's gateway and DHCP server (arp_pins.h), with lwIP's public
 * static-entry API (ETHARP_SUPPORT_STATIC_ENTRIES).
 */
#include "arp_pins.h"

#include <stdio.h>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"

struct pin {
    const char *role;
    ip4_addr_t ip;
    struct eth_addr mac;
    int held;
};

enum { PIN_GATEWAY, PIN_DHCP_SERVER, PINS };
static struct pin pins[PINS] = {{.role = "gateway"}, {.role = "dhcp server"}};

/* The address the lease names for each role, or 0.0.0.0. */
static ip4_addr_t wanted(const struct netif *netif, int role) {
    ip4_addr_t none = {0};
    if (role == PIN_GATEWAY)
        return *netif_ip4_gw(netif);
    const struct dhcp *dhcp = netif_dhcp_data(netif);
    if (!dhcp || !dhcp_supplied_address(netif) || !IP_IS_V4(&dhcp->server_ip_addr))
        return none;
    return *ip_2_ip4(&dhcp->server_ip_addr);
}

/* Worth pinning: set, and on the interface's own subnet (lwIP never ARPs for anything else). */
static int on_link(const struct netif *netif, const ip4_addr_t *ip) {
    return netif_is_up(netif) && netif_is_link_up(netif) && !ip4_addr_isany(ip) &&
           !ip4_addr_isbroadcast(ip, netif) &&
           ip4_addr_net_eq(ip, netif_ip4_addr(netif), netif_ip4_netmask(netif));
}

/* Whether a pin among the first `below`, other than `except`, holds ip. */
static int pinned_among(const ip4_addr_t *ip, int below, int except) {
    for (int i = 0; i < below; i++)
        if (i != except && pins[i].held && ip4_addr_eq(&pins[i].ip, ip))
            return 1;
    return 0;
}

static void keep(struct netif *netif, int role) {
    struct pin *pin = &pins[role];
    ip4_addr_t ip = wanted(netif, role);
    int usable = on_link(netif, &ip);
    if (pin->held && (!usable || !ip4_addr_eq(&pin->ip, &ip))) {
        pin->held = 0;
        if (!pinned_among(&pin->ip, PINS, role)) /* the gateway is often the DHCP server too */
            etharp_remove_static_entry(&pin->ip);
    }
    if (!usable || pin->held)
        return;
    struct eth_addr *mac;
    const ip4_addr_t *found_ip;
    if (etharp_find_addr(netif, &ip, &mac, &found_ip) < 0) {
        etharp_request(netif, &ip); /* the answer lands in the table; pinned next time */
        return;
    }
    struct eth_addr found = *mac; /* a copy: the static entry may reuse the slot mac points into */
    if (etharp_add_static_entry(&ip, &found) == ERR_OK) {
        pin->ip = ip;
        pin->mac = found;
        pin->held = 1;
    }
}

void arp_pins_keep(struct netif *netif) {
    for (int role = 0; role < PINS; role++)
        keep(netif, role);
}

void arp_pins_describe(char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < PINS && used < size; i++) {
        if (!pins[i].held || pinned_among(&pins[i].ip, i, -1))
            continue; /* one pin per address: the gateway is often the DHCP server too */
        char ip[IP4ADDR_STRLEN_MAX];
        const u8_t *m = pins[i].mac.addr;
        int n = snprintf(out + used, size - used, "%s%s=%02x:%02x:%02x:%02x:%02x:%02x", used ? " " : "",
                         ip4addr_ntoa_r(&pins[i].ip, ip, sizeof ip), m[0], m[1], m[2], m[3], m[4], m[5]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (!out[0])
        snprintf(out, size, "none");
}
