/*
 * SYN flood guard for lwIP's listeners, through its public hook LWIP_HOOK_TCP_INPACKET_PCB
 * (lwIP stays unpatched). lwIP counts a connection that is still half-open (SYN_RCVD) against
 * its listener's backlog until the handshake ends or TCP_SYN_RCVD_TIMEOUT (20 s) passes, and
 * refuses every SYN while the backlog is full: spoofed SYNs that will never be acknowledged fill
 * it within a fraction of a second and lock every real client out for as long as they keep
 * coming. So when a SYN meets a full backlog, the oldest half-open connection of that listener
 * is dropped (no RST: its peer is most likely made up) and the new SYN takes its place. A real
 * client completes its handshake within a round trip, long before it would be the oldest.
 *
 * How long "oldest" takes matters when the host stops the guest: the client's last ACK then
 * waits in the Membrane's RX ring (256 frames) behind whatever SYNs came meanwhile. So the
 * Membrane gives every listener lwIP's largest backlog (255, half-open and queued together), and
 * the app's own backlog bounds only its accept queue: a SYN that finds the app's queue full is
 * dropped here (the client resends it, as from Linux with a full queue).
 *
 * An evicted connection is not lost for a real client: its SYN-ACK carried a cookie
 * (tcp_syn_cookie.h), and the ACK that finds only the listener re-creates it.
 */
#ifndef NEXUS_TCP_SYN_GUARD_H
#define NEXUS_TCP_SYN_GUARD_H

#include <stdint.h>

/* The hook itself, tcp_syn_guard_inpacket, is declared in lwipopts.h, where lwIP's sources see
 * it: it always lets the segment through (ERR_OK), after making room for a SYN. */

/* Set by the Membrane: whether the app behind a listener (asked with the listener's callback
 * argument) has room in its accept queue. Unset, SYNs are let in as far as lwIP's backlog. */
void tcp_syn_guard_set_accept_room(int (*accept_room)(void *listener_arg));

/* Half-open connections dropped to make room for a newer SYN. */
uint64_t tcp_syn_guard_evicted(void);

/* Connections re-created from a SYN cookie (tcp_syn_cookie.h): an ACK found only the listener. */
uint64_t tcp_syn_guard_recovered(void);

/* Re-creates, through lwIP's own input, the connections whose ACK proved a cookie in the input
 * just handled: the SYN rebuilt from the cookie, then that segment. Called by the netif after
 * each frame it hands to lwIP, outside lwIP's input. */
struct netif;
void tcp_syn_guard_replay(struct netif *netif);

/* SYNs dropped because the app's accept queue was full. */
uint64_t tcp_syn_guard_queue_full(void);

#endif
