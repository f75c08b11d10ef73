/*
 * The Internet checksum (RFC 1071) as lwIP's LWIP_CHKSUM wants it: the ones' complement sum of
 * the buffer's 16-bit words in host order, not inverted, for a buffer at any address. lwIP's
 * own routines add 4 bytes at a time; this one adds 8, keeping the carries apart (2^64 is 1
 * modulo 2^16 - 1, so a 64-bit word sums as its four 16-bit words do). Every byte the Membrane
 * sends or receives is summed (no offload on QEMU's user network), so the width pays.
 */
#ifndef NEXUS_CHKSUM_H
#define NEXUS_CHKSUM_H

#include <stdint.h>

uint16_t membrane_chksum(const void *data, int len);

#endif
