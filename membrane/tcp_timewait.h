/*
 * TIME_WAIT under a high connection rate: lwIP keeps every connection it closed first in one
 * list (tcp_tw_pcbs) for 2 MSL and walks the whole list for every segment that matches no
 * live connection, each SYN included. A server that closes first (httpd, so that QEMU's user
 * network does not hold the connection instead: apps/httpd/conn.c) at thousands of connections
 * per second keeps the list at lwIP's PCB limit (MEMP_NUM_TCP_PCB, 512), and then each new
 * connection paid a walk of all of them for its SYN, one more to find the oldest to free for
 * its PCB and a third to unlink it: about 11,000 guest instructions per Connection: close
 * request under wrk -c8 (docs/sockets.md).
 *
 * So the list is held to the newest TIME_WAIT_KEEP connections: the older ones are freed the
 * way lwIP frees them when it runs out of PCBs (tcp_kill_timewait), earlier, except those a
 * socket still holds (its app shut its side down but has not closed it: the socket has the
 * PCB's address, detached at its close). Below
 * TIME_WAIT_KEEP closes per 2 MSL nothing changes: every connection waits its full 2 MSL.
 * Above, the oldest give way, as Linux drops TIME_WAIT sockets past tcp_max_tw_buckets. What a
 * shortened TIME_WAIT risks is the same as lwIP's own recycling: a retransmitted FIN from the
 * peer after its end is answered with a reset instead of an ACK, and a segment of the old
 * connection could reach a new one on the same four-tuple (which the peer's port choice makes
 * unlikely within a fraction of a second).
 */
#ifndef NEXUS_MEMBRANE_TCP_TIMEWAIT_H
#define NEXUS_MEMBRANE_TCP_TIMEWAIT_H

#define TIME_WAIT_KEEP 64

/* Frees the TIME_WAIT connections beyond the newest TIME_WAIT_KEEP; returns how many. Cheap
 * when the list is short: it walks at most TIME_WAIT_KEEP entries before it frees anything. */
unsigned tcp_timewait_trim(void);

struct tcp_pcb;
/* Calls `release` with the arg and the PCB of every TIME_WAIT connection a socket still holds
 * (its app shut its side down, the peer closed too, and the app has not closed the socket);
 * `release` must detach the socket, clearing the arg. lwIP frees a TIME_WAIT PCB after 2 MSL
 * without a word to its owner, so a socket still holding it then would point at a PCB lwIP may
 * have handed to another connection. Returns how many were released. */
unsigned tcp_timewait_release(void (*release)(void *arg, struct tcp_pcb *pcb));

#endif
