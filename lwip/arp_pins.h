/*
 * ARP entries pinned for the lease's on-link infrastructure: the default gateway and the DHCP
 * server. lwIP's ARP table (ARP_TABLE_SIZE entries) recycles its oldest stable entry whenever a
 * frame needs a new neighbour and every entry is taken by one still being asked for. A SYN flood
 * from made-up neighbours on the guest's subnet (each SYN-ACK asks who has its source) recycles
 * those entries within milliseconds, over and over: every frame to them then waits on an ARP
 * request whose answer finds the entry recycled again, and the frames queued behind it are
 * freed. The pcap of the hostile wire's SYN flood (docs/testing.md) showed exactly that: the
 * guest asking for 10.0.2.2 (the user network's DHCP server, through which every forwarded
 * connection arrives) again and again, and a client's SYN-ACK never sent.
 * So once such a neighbour has answered ARP, its entry is made static, which lwIP never recycles
 * nor lets an ARP frame overwrite (a forged gratuitous ARP cannot take the gateway either). A
 * pin is dropped and learned again when the lease names another address or the interface goes
 * down.
 */
#ifndef NEXUS_ARP_PINS_H
#define NEXUS_ARP_PINS_H

#include <stddef.h>

struct netif;

/* Call every so often (the Membrane does with each /Bus publication): pins each neighbour once
 * its MAC is known, asks for it while unknown, unpins one the lease no longer names. */
void arp_pins_keep(struct netif *netif);

/* The pins as text, "10.0.2.2=52:55:0a:00:02:02" separated by spaces, or "none". */
void arp_pins_describe(char *out, size_t size);

#endif
