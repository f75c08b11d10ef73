/*
 * A lane: one direction of an AF_UNIX connection (docs/unix.md). A connection is two lanes, one
 * each way; each end writes one and reads the other. A lane is the ION ring contract (ion_ring.h)
 * applied to a fixed set of buffers that live in the lane itself:
 *
 *   offset 0x0000  active ring   writer -> reader: {buffer, 0, length} filled buffers, in order
 *          0x0200  free ring     reader -> writer: {buffer, 0, 0} buffers read to the end
 *          0x0400  writer_shut   written by the writer only: nothing follows what is queued
 *          0x0440  reader_shut   written by the reader only: it reads no more (a send is EPIPE)
 *          0x1000  UNIX_LANE_BUFS buffers of UNIX_LANE_BUF_BYTES
 *
 * Every buffer starts on the free ring; the writer takes one, fills it and posts it on the
 * active ring; the reader returns it when it has read all of it. So a buffer is owned by exactly
 * one side at a time and ownership always comes back (DESIGN.md invariant 3). A stream fills a
 * buffer per send piece (a small send costs a whole buffer: the lane holds UNIX_LANE_BUFS sends
 * at most); a datagram is one buffer, so boundaries survive and a datagram is at most one buffer.
 *
 * The layout is the two ends' contract. The kernel provides the pages and doorbells, as for
 * links (nexus/link.h); it writes a lane only to lay it out when a connection is made and to set
 * a dead end's two shut flags. Neither side trusts the other: the reader checks every
 * descriptor (ion/unix_lane.c) before it touches a buffer.
 */
#ifndef NEXUS_UNIXLANE_H
#define NEXUS_UNIXLANE_H

#include <stdint.h>

#include "ion_ring.h"
#include "nexus/syscall.h"

#define UNIX_LANE_BUFS 16u         /* a power of two: the rings hold every buffer at once */
#define UNIX_LANE_BUF_BYTES 4096u  /* also the largest AF_UNIX datagram */
#define UNIX_LANE_OFF_ACTIVE 0x000u
#define UNIX_LANE_OFF_FREE 0x200u
#define UNIX_LANE_OFF_WRITER_SHUT 0x400u
#define UNIX_LANE_OFF_READER_SHUT 0x440u /* its own cache line */
#define UNIX_LANE_OFF_BUFS 0x1000u
#define UNIX_LANE_BYTES (UNIX_LANE_OFF_BUFS + UNIX_LANE_BUFS * UNIX_LANE_BUF_BYTES)

_Static_assert(ION_RING_BYTES(UNIX_LANE_BUFS) <= UNIX_LANE_OFF_FREE - UNIX_LANE_OFF_ACTIVE, "active ring overflows");
_Static_assert(ION_RING_BYTES(UNIX_LANE_BUFS) <= UNIX_LANE_OFF_WRITER_SHUT - UNIX_LANE_OFF_FREE, "free ring overflows");
_Static_assert(UNIX_LANE_BUF_BYTES <= UINT16_MAX, "a length fits the descriptor's 16 bits");
_Static_assert((UNIX_LANE_BUFS & (UNIX_LANE_BUFS - 1)) == 0, "ring capacity is a power of two");
_Static_assert(2 * UNIX_LANE_BYTES == NEXUS_UNIX_CONN_PAGES * NEXUS_PAGE_SIZE, "a connection is two lanes");

#endif
