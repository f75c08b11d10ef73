/* A static IPv4 address from the boot command line, for a node on a wire without a DHCP
 * server: `ipv4=ADDR/PREFIX` (e.g. ipv4=10.77.0.2/24) in the bootargs, which the kernel
 * publishes as /Bus/boot/bootargs. With it the Membrane sets that address (no gateway) and
 * does not start DHCP; /Bus/net/ipv4/state says "static". */
#ifndef MEMBRANE_STATIC_IPV4_H
#define MEMBRANE_STATIC_IPV4_H

#include "lwip/netif.h"

/* Sets nic's address from the bootargs' ipv4= word: 1 if it did, 0 if there is none, -1 if
 * the word is malformed (nothing set; the Membrane falls back to DHCP). */
int static_ipv4_apply(struct netif *nic);
/* 1 once static_ipv4_apply() has set the address. */
int static_ipv4_active(void);

#endif
