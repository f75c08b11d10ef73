/*
 * SYN flood guard for lwIP's listeners, through its public hook LWIP_HOOK_TCP_INPACKET_PCB
 * (lwIP stays unpatched); the same hook lets a SYN reopen a connection in TIME_WAIT (below). lwIP counts a connection that is still half-open (SYN_RCVD) against
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

/* Connections opened by a SYN that met an earlier one of the same addresses and ports in
 * TIME_WAIT. lwIP alone answers such a SYN with an ACK (RFC 793), which the client's TCP resets
 * and then waits (a second or more) to send its SYN again: a server that closes first holds its
 * connections in TIME_WAIT, and a client that reuses its ports quickly (QEMU's user network
 * gives the guest the host client's port, and Linux reuses a loopback port within a second or
 * two) stalls for as long. So, as RFC 1122 (4.2.2.13) allows and Linux does, a SYN whose number
 * is past everything the old connection received ends the old one and opens a new one whose
 * own first number is past everything the old one sent. Such a connection's number is not a
 * cookie: evicted by a flood before its handshake ends, it is not re-created. */
uint64_t tcp_syn_guard_reopened(void);

/* Re-creates, through lwIP's own input, the connections whose ACK proved a cookie in the input
 * just handled: the SYN rebuilt from the cookie, then that segment; and inputs again the SYNs
 * that reopen a connection in TIME_WAIT. Called by the netif after each frame it hands to lwIP,
 * outside lwIP's input. */
struct netif;
void tcp_syn_guard_replay(struct netif *netif);

/* SYNs dropped because the app's accept queue was full. */
uint64_t tcp_syn_guard_queue_full(void);

#endif
