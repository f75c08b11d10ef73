/*
 * The service link: how an app talks to a service fiber (the Membrane for AF_INET/AF_INET6, and
 * the services that come next) over one link of the kernel (kernel/link.h): 20 shared pages
 * that both sides map read-write, 40 with a send area (an app granted area:membrane, for bulk
 * streams: httpd). The transport is the same for every service; what the
 * requests mean is the service's protocol (nexus/sockproto.h for sockets). docs/sockets.md
 * describes it in prose.
 *
 *   offset 0x00000  struct nxs_header   magic, epoch, wake flag, the status word of every socket
 *   offset 0x01000  request ring        app -> service: {slot, 0, 0}
 *   offset 0x02000  completion ring     service -> app: {slot, 0, 0}
 *   offset 0x03000  NXS_SLOTS x struct nxs_msg       one request/reply each, then the post slot's
 *   offset 0x03800  NXS_POST_DATA bytes              the post slot's data (a posted send's chunk list)
 *   offset 0x04000  NXS_SLOTS x NXS_SLOT_DATA bytes  the slot's data (payload, names, options)
 *   offset 0x14000  NXS_SEND_AREA bytes              the send area, on a link of NXS_LINK_SEND_BYTES
 *                                                    only: NXS_SEND_CHUNKS chunks of stream bytes the
 *                                                    service may have the device send
 *
 * A call: the app fills a free slot (header + data), enqueues its number on the request ring and
 * signals the service if it sleeps; the service copies the header into its own memory, checks
 * it, acts, writes the reply into the same slot and enqueues the slot on the completion ring.
 * A service never blocks on an app: every operation either completes at once (EAGAIN or
 * EINPROGRESS when it would block) or completes later (a name lookup). Blocking calls are built
 * by libnexus from the status words: it sleeps on its link channel until the socket's status
 * says the call can make progress.
 *
 * Status words are written only by the service. When it changes any, it bumps status_seq and,
 * if the app set app_waiting, clears it and signals the app (the same Dekker pattern as the
 * ION ring's wake flag: the app sets app_waiting, fences, re-reads the statuses, then sleeps).
 *
 * Neither side trusts the other. The service validates every field it reads before use; the
 * app bounds every length the service returns. A socket number names an entry of the link's
 * own table, so an app can only ever reach its own sockets.
 *
 * epoch: the service writes a new non-zero value each time it (re)starts and clears the status
 * table. A socket opened under another epoch belongs to a dead service: libnexus fails it with
 * ECONNRESET (connected) or ENOTCONN.
 *
 * app_start / app_start_ack: the other direction. An app (re)starting writes a new app_start
 * before its first call and waits until the service echoes it in app_start_ack. Before echoing,
 * the service closes every socket the link's previous app left open (so a restarted server can
 * bind its port again) and starts both rings over empty, so nothing of the dead app is answered.
 *
 * The send area (docs/ion.md, "Sending from the link"): a service that sets send_area lets
 * an app write stream bytes into chunks of the area and name them in a send (sockproto.h,
 * SEND's arg0) instead of copying them into the slot; the service hands them to its stack
 * in place and the device reads them from there. send_held, written only by the service, has
 * bit k set while chunk k is the service's (its stack or the device may still read it): an app
 * fills only chunks whose bit is clear, and the service refuses a send naming a chunk its own
 * record says it holds. An app that rewrites a chunk it sent changes only its own stream. A
 * socket that holds many chunks while few are free shows no NXS_EV_OUT until its own come back
 * (lwip/send_area.h, SEND_AREA_LOW_WATER): an app then waits rather than send through the slot.
 *
 * The post slot (docs/sockets.md, "Posted sends"): slot NXS_POST_SLOT carries a request the app
 * does not wait for. Its reply tells only what became of it: the service answers it in the
 * pass that takes it, and does not wake the app for that. The request must be one the service
 * can finish without the app (for sockets: a stream send whose bytes lie in the send area, the
 * slot's data holding only the chunk list); it is checked like any other, and a service that
 * takes no posts answers EINVAL. An app posts again only after it has seen the reply, so the
 * slot's header and data are the app's again by then. Calls in slot 0 that follow a post on
 * the request ring are taken after it: the ring keeps the app's order.
 *
 * The server half of this transport is lib/link/server.c, the client half lib/link/client.c.
 */
#ifndef NEXUS_LINK_PROTO_H
#define NEXUS_LINK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ion_ring.h"
#include "nexus/syscall.h"

#define NXS_SOCKETS 128 /* sockets per link (per app); docs/sockets.md has what each costs */
/* An app makes one call at a time (lib/link/client.c uses slot 0): one slot. */
#define NXS_SLOTS 1
/* ...and one more slot for a posted request, whose header follows the slots' and whose data
 * (NXS_POST_DATA bytes: a chunk list) lies in the second half of the same page. */
#define NXS_POST_SLOT NXS_SLOTS
#define NXS_POST_DATA 0x800u
#define NXS_SLOT_DATA 65536u /* the largest datagram a family carries: a 64 KiB LWF message */
#define NXS_RING_CAPACITY 8
#define NXS_PAGE NEXUS_PAGE_SIZE

#define NXS_OFF_HEADER 0x0000u
#define NXS_OFF_REQUESTS 0x1000u
#define NXS_OFF_COMPLETIONS 0x2000u
#define NXS_OFF_MSGS 0x3000u
#define NXS_OFF_POST_DATA (NXS_OFF_MSGS + NXS_PAGE - NXS_POST_DATA)
#define NXS_OFF_DATA 0x4000u
#define NXS_OFF_SEND (NXS_OFF_DATA + NXS_SLOTS * NXS_SLOT_DATA)
#define NXS_SEND_AREA 0x14000u
/* A TCP segment's payload (1,460 bytes) fits one at any offset mod 8. There are more chunks than
 * lwIP's send buffer holds segments (44): a send's last chunk is seldom full, and a chunk stays
 * the service's until the device is done with its frames. */
#define NXS_SEND_CHUNK 1488u
#define NXS_SEND_CHUNKS 55u /* as many as fit */
#define NXS_LINK_BYTES NXS_OFF_SEND                       /* a link without a send area */
#define NXS_LINK_SEND_BYTES (NXS_OFF_SEND + NXS_SEND_AREA) /* one with (NEXUS_LINK_SEND_PAGES) */

/* Status bits: the poll(2) values, so libnexus passes them through. */
#define NXS_EV_IN 0x001u   /* data, a pending connection, or end of stream to read */
#define NXS_EV_OUT 0x004u  /* send would accept bytes / connect finished */
#define NXS_EV_ERR 0x008u  /* an error is pending (SO_ERROR) */
#define NXS_EV_HUP 0x010u  /* the connection is gone both ways */
#define NXS_EV_OPEN 0x80000000u /* the socket exists (cleared when closed or never opened) */
/* A lingering close (NXS_CLOSE_LINGER, nexus/sockproto.h): every byte sent and the FIN were
 * acknowledged, or the connection is gone. Not a poll value: poll never shows it. */
#define NXS_EV_DRAINED 0x40000000u

struct nxs_header {
    uint32_t magic;      /* the service's protocol (NXS_MAGIC_* of its header) */
    uint32_t epoch;      /* service start count, 0 until the service attached */
    uint32_t status_seq; /* bumped by the service after any status change */
    uint32_t app_waiting;
    uint32_t app_start;     /* written by the app: bumped each time an app attaches */
    uint32_t app_start_ack; /* written by the service: app_start once it has cleaned up */
    uint32_t send_area;     /* written by the service: 1 if it takes sends from the send area */
    uint32_t pad0;
    uint64_t send_held;     /* written by the service: bit k, chunk k is the service's */
    uint32_t pad[6];
    uint32_t status[NXS_SOCKETS];
};

/* A socket address as carried by the link: the POSIX sockaddr bytes of the family (family in
 * host order first). */
#define NXS_ADDR_MAX 28

struct nxs_msg {
    uint32_t op;    /* the service protocol's operation */
    int32_t sock;
    uint32_t flags; /* MSG_* for send/recv */
    uint32_t len;   /* request data length (or room wanted); reply data length */
    int64_t result; /* reply: >= 0, or -errno */
    uint32_t arg[3];
    uint32_t addr_len;
    uint8_t addr[NXS_ADDR_MAX];
    uint32_t tag; /* chosen by the app, echoed in the reply */
};

/* Each part of the layout fits the pages given to it. */
_Static_assert(sizeof(struct nxs_header) <= NXS_OFF_REQUESTS - NXS_OFF_HEADER, "link header overflows its page");
_Static_assert(ION_RING_BYTES(NXS_RING_CAPACITY) <= NXS_OFF_COMPLETIONS - NXS_OFF_REQUESTS, "request ring overflows its page");
_Static_assert(ION_RING_BYTES(NXS_RING_CAPACITY) <= NXS_OFF_MSGS - NXS_OFF_COMPLETIONS, "completion ring overflows its page");
_Static_assert((NXS_POST_SLOT + 1) * sizeof(struct nxs_msg) <= NXS_OFF_POST_DATA - NXS_OFF_MSGS,
               "slot headers overflow their half page");
_Static_assert(NXS_OFF_POST_DATA + NXS_POST_DATA == NXS_OFF_DATA, "the post slot's data ends its page");
_Static_assert(NXS_LINK_BYTES == NEXUS_LINK_PAGES * NXS_PAGE, "the layout fills the link the kernel makes");
_Static_assert(NXS_LINK_SEND_BYTES == NEXUS_LINK_SEND_PAGES * NXS_PAGE, "the layout fills a link with a send area");
_Static_assert(NXS_SEND_CHUNKS * NXS_SEND_CHUNK <= NXS_SEND_AREA && NXS_SEND_CHUNKS <= 64, "chunks fit the area and send_held");
_Static_assert(offsetof(struct nxs_header, send_held) % 8 == 0 && offsetof(struct nxs_header, status) == 64,
               "send_held is one aligned word; the statuses stay where they were");
_Static_assert(NXS_SOCKETS % 64 == 0, "a link's dirty set is whole 64-bit words");

#endif
