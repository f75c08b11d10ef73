/*
 * SYN flood guard for lwIP's listeners, through its public hook LWIP_HOOK_TCP_INPACKET_PCB
 * (lwIP stays unpatched). lwIP counts a connection that is still half-open (SYN_RCVD) against
 * its listener's backlog until the handshake ends or TCP_SYN_RCVD_TIMEOUT (20 s) passes, and
 * refuses every SYN while the backlog is full: spoofed SYNs that will never be acknowledged fill
 * it within a fraction of a second and lock every real client out for as long as they keep
 * coming. So when a SYN meets a full backlog, the oldest half-open connection of that listener
 * is dropped (no RST: its peer is most likely made up) and the new SYN takes its place. A real
 * client completes its handshake within a round trip, long before it would be the oldest.
 */
#ifndef NEXUS_TCP_SYN_GUARD_H
#define NEXUS_TCP_SYN_GUARD_H

#include <stdint.h>

/* The hook itself, tcp_syn_guard_inpacket, is declared in lwipopts.h, where lwIP's sources see
 * it: it always lets the segment through (ERR_OK), after making room for a SYN. */

/* Half-open connections dropped to make room for a newer SYN. */
uint64_t tcp_syn_guard_evicted(void);

#endif
