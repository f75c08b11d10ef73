/*
 * The send area of each link (nexus/link.h; docs/ion.md, "Sending from the link"): stream bytes
 * an app wrote into chunks of its link's pages, handed to lwIP in place and read by the device
 * from those pages. A segment whose payload is one piece of a chunk leaves as a frame in two
 * parts: lwIP's headers copied into a TX buffer of the port, the payload where the app wrote
 * it. The app can still write there, so nothing the switch checks, and no header, ever lies in
 * the send area: what an app can change is its own stream's payload.
 *
 * A chunk is the Membrane's while lwIP refers to it (until the peer acknowledges the bytes or
 * the connection dies) or a frame from it may be on the device (until the device gives the
 * header buffer back). The link's send_held mirrors that for the app; the Membrane trusts only
 * its own count.
 */
#ifndef NEXUS_SEND_AREA_H
#define NEXUS_SEND_AREA_H

#include <stdint.h>

#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "nexus/sockproto.h"

/* A socket that holds at least this many chunks, on a link with fewer than this many free,
 * waits for its own to come back (no POLLOUT) instead of sending through the link's slot, which
 * costs a second copy of each byte. Its own acknowledgements free at least this many, so it
 * is never left waiting on another socket's peer; one that holds fewer never waits. A quarter
 * of the area ahead of the window, so the wait never drains what is in flight. */
#define SEND_AREA_LOW_WATER 16u

struct send_area_stats {
    /* payload bytes lwIP took by reference from send areas; frames sent in two parts; sends
     * refused for naming a chunk that is bad or still the Membrane's; pieces copied because
     * no piece pbuf was free */
    uint64_t referenced_bytes, frames, refused, no_piece;
};

/* Serves link `link` (the server's index) whose `size` bytes start at `base` in this fiber and
 * whose kernel id is `id`: every chunk is the app's. A link too small for a send area
 * (NXS_LINK_SEND_BYTES) gets none: its header says so and sends naming chunks are refused. */
void send_area_attach(unsigned link, uint8_t *base, uint32_t id, uint32_t size);
/* Queues on pcb the bytes of the n chunks socket `sock` of the link named (in stream order), at most `most`:
 * returns the bytes lwIP took, or -EINVAL if the first chunk is bad or held (a later one only
 * ends the send there). Bytes lwIP copied instead (top-ups, no piece free) go to *copied. */
long send_area_write(struct tcp_pcb *pcb, unsigned link, unsigned sock, const struct nxs_chunk *list, uint32_t n,
                     uint32_t most, uint64_t *copied);
/* Queues on pcb up to `most` of the `len` bytes at `offset` in chunk `chunk`, which may be one
 * we hold (a posted send's rest, membrane/sock_posted.c): the bytes lwIP took, 0 for a piece
 * outside the area. */
uint32_t send_area_write_piece(struct tcp_pcb *pcb, unsigned link, unsigned chunk, uint32_t offset, uint32_t len,
                               uint32_t most, uint64_t *copied);
/* A posted send's list, copied out of the app's reach: 0 if every piece lies within a chunk of
 * the area that we do not hold and that the list does not name twice (the chunks are then
 * socket `sock`'s), else -EINVAL. */
int send_area_check(unsigned link, unsigned sock, const struct nxs_chunk *list, uint32_t n);
/* Socket `sock` of the link is closed: the chunks lwIP still holds for it count for nobody. */
void send_area_disown(unsigned link, unsigned sock);
/* 1 if the socket should wait for its chunks (SEND_AREA_LOW_WATER). */
int send_area_waits(unsigned link, unsigned sock);
/* fn(link, sock) is called whenever send_area_waits of that socket may have changed. */
void send_area_on_wait_change(void (*fn)(unsigned link, unsigned sock));
/* A posted send's rest keeps its chunk ours (one reference each) until it went to lwIP. */
void send_area_hold(unsigned link, unsigned chunk);
void send_area_unhold(unsigned link, unsigned chunk);
/* Sends p in two parts if it is headers + one piece of a chunk: 1 (header bytes added to
 * *copied), else 0 and nothing done. */
int send_area_output(struct pbuf *p, uint64_t *copied);
/* Chunks held now, over every link. */
uint32_t send_area_held(void);
const struct send_area_stats *send_area_stats(void);

#endif
