/*
 * The two ends of a lane (nexus/unixlane.h): the writer's and the reader's own, trusted views.
 * Portable C, like the ring it is built on: libnexus uses it for AF_UNIX sockets, the kernel only
 * to lay a new connection's lanes out and to shut a dead end's, and host tests and a fuzz target
 * (a hostile peer writing anything into the shared lane) compile it too. One writer and one reader per lane; each keeps
 * its view in its own memory and trusts nothing it reads from the lane.
 */
#ifndef NEXUS_UNIX_LANE_H
#define NEXUS_UNIX_LANE_H

#include <stddef.h>
#include <stdint.h>

#include "nexus/unixlane.h"

struct unix_lane_writer {
    uint8_t *lane;
    struct ion_ring active, free; /* producer of active, consumer of free */
    int32_t claimed;              /* a buffer taken from the free ring, not yet posted; -1 none */
    int broken;                   /* the reader handed back a handle out of range, or a ring broke */
};

struct unix_lane_reader {
    uint8_t *lane;
    struct ion_ring active, free; /* consumer of active, producer of free */
    struct ion_desc queue[UNIX_LANE_BUFS]; /* checked descriptors taken off the active ring */
    uint32_t first, count;
    uint32_t offset; /* bytes of queue[first] already read (streams) */
    int broken;      /* the writer posted a bad descriptor, or a ring broke */
};

/* Lays out an empty lane in UNIX_LANE_BYTES of 64-byte aligned memory: every buffer free. Done
 * once, before either end attaches. */
void unix_lane_init(void *lane);
void unix_lane_writer_attach(struct unix_lane_writer *w, void *lane);
void unix_lane_reader_attach(struct unix_lane_reader *r, void *lane);

/* Writer. A free buffer to fill (UNIX_LANE_BUF_BYTES), kept claimed until posted; NULL if none
 * is free (the reader is behind) or the lane is broken. */
uint8_t *unix_lane_claim(struct unix_lane_writer *w);
/* Posts the claimed buffer with its first len bytes. 0, or -1 if nothing was claimed, len is
 * too long or the ring refused it (broken). */
int unix_lane_post(struct unix_lane_writer *w, uint32_t len);
/* 1 if a buffer could be claimed now. */
int unix_lane_writable(struct unix_lane_writer *w);
void unix_lane_shut_writer(struct unix_lane_writer *w);
/* 1 once the reader said it reads no more. */
int unix_lane_reader_shut(const struct unix_lane_writer *w);

/* Reader. Takes what the writer posted into the reader's queue, checking each descriptor; a bad
 * one breaks the lane (nothing of it is read). Every call below collects first. */
void unix_lane_collect(struct unix_lane_reader *r);
/* Buffers queued (datagrams) and their unread bytes (a stream's FIONREAD). */
uint32_t unix_lane_queued(struct unix_lane_reader *r);
size_t unix_lane_queued_bytes(struct unix_lane_reader *r);
/* The unread bytes of the i-th queued buffer (0: the first), or NULL past the last. */
const uint8_t *unix_lane_piece(struct unix_lane_reader *r, uint32_t i, uint32_t *len);
/* A stream read n bytes: buffers read to the end go back to the writer. */
void unix_lane_consume(struct unix_lane_reader *r, size_t n);
/* A datagram was read (or cut): its buffer goes back whole. */
void unix_lane_drop_first(struct unix_lane_reader *r);
/* 1 once the writer said nothing follows (queued bytes may still be unread). */
int unix_lane_writer_shut(const struct unix_lane_reader *r);
/* 1 once the writer said nothing follows and everything queued was read. */
int unix_lane_at_end(struct unix_lane_reader *r);
void unix_lane_shut_reader(struct unix_lane_reader *r);

#endif
