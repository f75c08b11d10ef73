/*
 * SYN cookies for lwIP's listeners, through its public hook LWIP_HOOK_TCP_ISN (lwIP stays
 * unpatched). Under a SYN flood the guard (tcp_syn_guard.h) evicts the oldest half-open
 * connection to make room, and a real client whose last handshake ACK was lost or delayed (a
 * full RX ring, the NetSwitch's budget, a stalled guest) can be the one evicted: its next
 * segment then finds no connection and lwIP answers it with a RST. So every initial sequence
 * number this node sends is a cookie, a keyed hash (SipHash-2-4, a key drawn at start) of the
 * connection's addresses and ports, the client's own initial sequence number and a 64-second
 * time slot, with the slot's two low bits and the index of the client's MSS in the low four
 * bits. An ACK that reaches a listener and acknowledges such a cookie, from the current slot or
 * the one before, proves the client saw this node's SYN-ACK: the guard then re-creates the
 * connection through lwIP's own path, a SYN rebuilt from the cookie and then the segment itself
 * (tcp_syn_guard_replay), and the client never learns it was evicted.
 *
 * A cookie costs no state; an attacker who cannot see the SYN-ACKs would have to guess 28 bits
 * per connection. Active connections get the same kind of number (RFC 6528's advice: not
 * predictable from outside), never checked.
 */
#ifndef NEXUS_TCP_SYN_COOKIE_H
#define NEXUS_TCP_SYN_COOKIE_H

#include <stdint.h>

#include "lwip/ip_addr.h"

#define TCP_SYN_COOKIE_SLOT_MS 64000u

/* The hook itself, tcp_syn_cookie_isn, is declared in lwipopts.h, where lwIP sees it. */

/* The SYN lwIP is about to answer (the guard sees it first): its sequence number and the MSS it
 * announced (0: none), for the cookie of the SYN-ACK. */
void tcp_syn_cookie_note_syn(uint32_t client_isn, uint16_t mss);

/* The cookie (an ISN) for a connection at time now_ms; exposed for tests. */
uint32_t tcp_syn_cookie_make(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                             uint16_t remote_port, uint32_t client_isn, uint16_t mss, uint32_t now_ms);

/* If `cookie` is one this node made for the connection whose client started at client_isn, in
 * the current or the previous slot: the MSS it encodes (536 … 1460); else 0. */
uint16_t tcp_syn_cookie_check(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                              uint16_t remote_port, uint32_t client_isn, uint32_t cookie, uint32_t now_ms);

/* Makes the next ISN lwIP asks for, for this connection, `iss` (a connection being re-created
 * from its cookie); tcp_syn_cookie_forced_done ends that. */
void tcp_syn_cookie_force(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                          uint16_t remote_port, uint32_t iss);
void tcp_syn_cookie_forced_done(void);

#endif
