/*
 * Pure TCP acknowledgements made redundant by a later one in the same RX batch.
 *
 * QEMU's user network acknowledges every segment the guest sends, and while the guest is busy
 * sending (a bulk GET) those ACKs wait in the RX ring: a Membrane pass takes about 20 at once.
 * lwIP runs its whole input path for each (about 1,800 guest instructions with the tcp_output
 * each one calls), although an ACK is cumulative: of a connection's pure ACKs in one batch,
 * one with a higher acknowledgement number says everything an earlier one said. The netif
 * (netif_ion.c) returns such earlier ones to the pool unseen by lwIP, counted in
 * /Bus/net/membrane/rx_acks_coalesced, and only where lwIP's congestion control cannot tell
 * (docs/ion.md, "Coalesced ACKs").
 *
 * What is never coalesced: anything but IPv4 TCP with the flags exactly ACK, no options and no
 * payload (data, SYN, FIN, RST, window scaling, SACK are all seen); an unfragmented, well-formed
 * header is required and both checksums of the later ACK must be right (a corrupt one would be
 * dropped by lwIP and take the earlier one's news with it); an ACK whose later match has the
 * same number (duplicate ACKs are what fast retransmit counts) or a lower one (reordered).
 * A window update rides on the ACK kept, which is the newer.
 */
#ifndef NEXUS_RX_ACK_COALESCE_H
#define NEXUS_RX_ACK_COALESCE_H

#include <stdint.h>

struct pure_ack {
    uint8_t flow[12]; /* IPv4 source and destination, TCP source and destination port, as sent */
    uint32_t ack;     /* the acknowledgement number */
};

/* 1 if the frame (len bytes from its Ethernet header) is a pure ACK as above, with *out set;
 * 0 for anything else. Reads nothing past len. */
int pure_ack_parse(const uint8_t *frame, uint32_t len, struct pure_ack *out);

/* For the n frames of a batch, in arrival order, where is_ack[i] says acks[i] was parsed:
 * sets superseded[i] to 1 where a later pure ACK of the same flow has a strictly higher number
 * (modulo 2^32), else 0. Returns how many were set; the last ACK of each flow never is. */
unsigned pure_ack_superseded(const struct pure_ack *acks, const uint8_t *is_ack, uint32_t n, uint8_t *superseded);

#endif
