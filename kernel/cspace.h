/*
 * CSpace: the channels a fiber holds, 64 slots of {channel, rights} (DESIGN.md invariant 5).
 * READ lets a fiber wait on a channel and read the pages behind it (a link's pages, a port's
 * rings and pool); WRITE lets it signal the channel and write those pages. Pages are mapped
 * with exactly the rights held, so a fiber without WRITE that stores into a ring faults.
 *
 * Grants come from the boot manifest as text: words separated by spaces or commas,
 *     chan:N[:rights]     one of the channels 0..31 left for fibers' own use
 *     port:N[:rights]     NetSwitch port N (its doorbell channel, rings and pool)
 *     link:SERVER[:rights] a link to the fiber called SERVER (its pages, a right on each channel)
 *     heap:N              a heap of N KiB (kernel/heap.h), no rights; memory, not a channel
 *     files:N             a writable file area of N KiB (kernel/filestore.h), no rights
 *     area:SERVER         the holder's link to SERVER carries a send area (nexus/link.h): 64 KiB
 *                         more of link pages, for an app that streams bulk data (httpd); SERVER's
 *                         manifest entry must say send_area; no rights
 * with rights "r", "w" or "rw" (the default). On a link the rights follow its direction
 * (cspace_grant_link_end): READ is waiting on the holder's own end and reading the pages, WRITE
 * signalling the peer's end and writing the pages. Portable C: host tests and a fuzz target use it.
 */
#ifndef NEXUS_CSPACE_H
#define NEXUS_CSPACE_H

#include <stdint.h>

#include "nexus/syscall.h"

#define CSPACE_SLOTS 64
#define CAP_READ  1u
#define CAP_WRITE 2u
#define CAP_RW    (CAP_READ | CAP_WRITE)
#define GRANTS_MAX 8               /* grant words per manifest entry */
#define GRANT_NAME_MAX 16          /* a link's server name, NUL included (FIBER_NAME_MAX) */
#define GRANT_TEXT_MAX 128         /* longest grant text accepted, NUL included */
#define GRANT_PORTS_MAX 16         /* port:N takes N below this */
#define GRANT_HEAP_KIB_MAX 65536   /* heap:N takes N up to this (64 MiB) */
#define GRANT_FILES_KIB_MAX 16384  /* files:N takes N up to this (16 MiB) */

struct cap {
    uint8_t channel;
    uint8_t rights; /* 0: the slot is empty */
};

struct cspace {
    struct cap slot[CSPACE_SLOTS];
    uint64_t readable, writable; /* the slots as channel bitmaps, for the syscall gate's checks */
};
_Static_assert(NEXUS_CHANNELS <= 64, "a channel bitmap is one 64-bit word");

enum grant_kind { GRANT_CHANNEL, GRANT_PORT, GRANT_LINK, GRANT_HEAP, GRANT_FILES, GRANT_AREA };

struct grant {
    enum grant_kind kind;
    unsigned number;            /* channel, port, heap or files KiB */
    char server[GRANT_NAME_MAX]; /* for GRANT_LINK and GRANT_AREA */
    unsigned rights;
};

/* Adds rights on channel to the CSpace (merging with a slot that already names it). 0, -EINVAL
 * for a bad channel or no rights, -ENOSPC when every slot is taken. */
int cspace_grant(struct cspace *cs, unsigned channel, unsigned rights);
/* The rights held on channel (0 for none). Constant time. */
unsigned cspace_rights(const struct cspace *cs, unsigned channel);
/* Grants one end of a link: READ on own_channel (the end's wait channel), WRITE on
 * peer_channel, for whichever of the two `rights` holds; never the reverse, so an end can
 * neither wait on the peer's channel (and swallow the wakeups meant for the peer) nor signal
 * itself. 0 or cspace_grant's errors. */
int cspace_grant_link_end(struct cspace *cs, unsigned own_channel, unsigned peer_channel, unsigned rights);
/* How many slots are in use. */
unsigned cspace_used(const struct cspace *cs);

/* Parses grant text (above) into out[0..max). Returns the number of grants, or -EINVAL for any
 * malformed word, a number out of range (chan >= 32, port >= 16, heap > 65536), a bad server
 * name or rights (or any on a heap), a text of GRANT_TEXT_MAX bytes or more, or more than max
 * words. */
int grants_parse(const char *text, struct grant *out, unsigned max);
/* 1 if the n grants hold area:server. */
int grants_name_area(const struct grant *g, int n, const char *server);

#endif
