/*
 * A connection's first flight: RFC 6928's initial congestion window, ten segments (at most
 * 14,600 bytes), where lwIP applies RFC 3390's three (4,380 bytes). Linux, the guest Nexus is
 * measured against (make bench-linux), has started with ten since 2.6.39. In a pcap the status
 * page's six segments left a fresh connection in four flights before and in two now, and a
 * 1 MiB GET's window (the 64 KiB QEMU's user network offers) was full in the fifth flight
 * before and in the third now. Measured: `wrk -c1` `Connection: close` GET / +12 % and +17 %
 * (medians of 6 and 8 interleaved boots); 1 MiB GETs unchanged, since a round trip through the
 * user network is mostly the guest's own work on the segments, which a larger flight does not
 * shorten.
 *
 * lwIP sets its own window when the handshake completes, after the accept callback has run,
 * so the socket notes in that callback whether the larger window is allowed and widens the
 * window at its first send. Not after a retransmitted SYN or SYN-ACK (RFC 6928 section 2 and
 * RFC 5681 section 3.1 want a smaller window then; lwIP keeps its own): lwIP still counts those
 * retransmissions in nrtx when it calls the accept or connected callback, and clears the count
 * only afterwards.
 */
#ifndef NEXUS_TCP_INITIAL_WINDOW_H
#define NEXUS_TCP_INITIAL_WINDOW_H

#include "lwip/tcp.h"

#define TCP_INITIAL_WINDOW_SEGMENTS 10u
#define TCP_INITIAL_WINDOW_BYTES 14600u /* RFC 6928: min(10 * MSS, max(2 * MSS, 14,600)) */

/* From the accept or connected callback: whether pcb's handshake went without a retransmission. */
static inline int tcp_initial_window_allowed(const struct tcp_pcb *pcb) { return pcb->nrtx == 0; }

/* At the connection's first send (the caller keeps it to that one): the larger window, unless
 * bytes are already queued or in flight. */
static inline void tcp_initial_window_apply(struct tcp_pcb *pcb) {
    if (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT)
        return;
    if (pcb->unsent || pcb->unacked || pcb->snd_lbb != pcb->lastack)
        return;
    u32_t mss = pcb->mss;
    tcpwnd_size_t iw = (tcpwnd_size_t)LWIP_MIN(TCP_INITIAL_WINDOW_SEGMENTS * mss,
                                               LWIP_MAX(2u * mss, TCP_INITIAL_WINDOW_BYTES));
    if (pcb->cwnd < iw)
        pcb->cwnd = iw;
}

#endif
