/*
 * The address QEMU's user network leases a guest (10.0.2.15/24, gateway 10.0.2.2), set on an lwIP
 * interface as the Membrane would after DHCP: for the host harnesses of the Membrane's receive
 * path (fuzz_lwip_input, test_syn_cookie) that skip DHCP.
 */
#ifndef NEXUS_USER_NET_H
#define NEXUS_USER_NET_H

#include "lwip/netif.h"

static inline void user_net_static_address(struct netif *nic) {
    ip4_addr_t addr, mask, gw;
    IP4_ADDR(&addr, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    netif_set_addr(nic, &addr, &mask, &gw);
}

#endif
