/* Test builds only (NEXUS_FAULT_INJECTION): lets a test make the Membrane fault on demand. */
#ifndef NEXUS_FAULT_INJECT_H
#define NEXUS_FAULT_INJECT_H

#define FAULT_INJECT_UDP_PORT 7357

/* Opens the trigger port: a UDP datagram to it whose payload names a fault ("null", "wild",
 * "illegal", "spin", or "rxwrite": a store into the datagram's own frame in the RX pool) makes
 * this fiber commit that fault from inside lwIP's receive path, with the datagram's pool buffer
 * still held, as a bug in packet processing would. */
void fault_inject_start(void);

#endif
