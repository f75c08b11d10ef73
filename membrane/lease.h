/*
 * The DHCP lease, kept across Membrane restarts. A lease belongs to the node, not to one run of
 * the Membrane: when a bind succeeds it is written to the Membrane's file area ("lease", which
 * the kernel keeps per service across its restarts, kernel/filestore.h), and a restarted
 * Membrane that finds an unexpired one configures that address at once and confirms it with
 * the server as RFC 2131's INIT-REBOOT does (a DHCPREQUEST naming the address, lwIP's REBOOTING
 * state): an ACK renews it, a NAK takes the address away and starts over with DISCOVER. It does
 * not redo DISCOVER/OFFER before it can serve. A first boot has no file and runs DHCP whole.
 */
#ifndef NEXUS_LEASE_H
#define NEXUS_LEASE_H

struct netif;

/* Brings the link up and starts DHCP on `netif` (up, link still down): from the remembered
 * lease when there is a usable one (the address is configured before this returns), else with
 * DISCOVER. Returns 1 if a remembered lease was used. */
int lease_start(struct netif *netif);
/* Called on every pass of the Membrane's loop: notes DHCP's progress (milestones.h), remembers
 * each new bind, and withdraws a remembered address whose lease ran out unconfirmed. */
void lease_watch(struct netif *netif);
/* What /Bus/net/ipv4/state says: "bound", "confirming" (a remembered lease in INIT-REBOOT) or
 * "requesting". */
const char *lease_state(const struct netif *netif);

#endif
