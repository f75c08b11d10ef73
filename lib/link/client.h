/*
 * The client half of the service link (nexus/link.h), the app's end, written once for every
 * service an app reaches over a link: the Membrane for AF_INET/AF_INET6 now, LWF and UTCP next.
 * A struct link_client names the service fiber; it attaches on first use (finds the link the
 * manifest granted to that fiber, waits for the service's epoch, runs the app-start handshake)
 * and then carries one call at a time (an app is one fiber). Blocking is the caller's: it waits
 * for status changes with link_client_prepare_wait() and nx_wait_any() on the link's channel.
 */
#ifndef NEXUS_LINK_CLIENT_H
#define NEXUS_LINK_CLIENT_H

#include <stdint.h>

#include "nexus/link.h"
#include "nexus/syscall.h"

struct link_client {
    const char *service; /* the server fiber's name: the link is found by it */
    uint32_t magic;      /* the protocol the service must announce */
    /* the rest is the client's own */
    int attached;
    struct nexus_link_info info;
    uint8_t *base;
    struct nxs_header *hdr;
    struct ion_ring requests, completions;
    uint32_t epoch;     /* the service instance our rings were last synchronised with */
    uint32_t app_start; /* what we announced in the header's app_start */
    int in_call;        /* a reply may arrive on the completion ring */
    uint32_t tag;
    /* The post slot (nexus/link.h): busy from a post until its reply, the chunks it names. */
    int post_busy;
    uint32_t post_tag;
    uint64_t post_chunks;
    uint8_t post_error[NXS_SOCKETS]; /* a posted send's errno, for its socket's next call */
};

/* Attaches on first use, then waits (a few seconds at most) for a live service. 0, or
 * -ENETDOWN if this app has no link to the service, no fiber of the service is running, or it
 * does not come up within 5 s. */
int link_client_ready(struct link_client *c);
/* One request/reply. `in`/`in_len` go to the slot's data; up to out_room reply bytes are
 * copied to `out`. Returns the reply's result (>= 0 or -errno); *m holds the reply header, its
 * len the reply bytes (at most out_room). With in NULL the request's in_len bytes are already in
 * the slot's data; with out NULL the reply's stay there: a caller that gathers or scatters
 * (readv, sendmsg) works in link_client_data() and copies nothing twice. */
long link_client_call(struct link_client *c, struct nxs_msg *m, const void *in, uint32_t in_len, void *out,
                      uint32_t out_room);
/* The data of the slot link_client_call uses (NXS_SLOT_DATA bytes), or NULL before the link is
 * attached. Only the caller between its calls touches it: an app is one fiber. */
uint8_t *link_client_data(struct link_client *c);
/* The link's send area (nexus/link.h) and in *held the chunks the service holds now, or NULL
 * if the service takes no sends from it (or the link is not attached). */
uint8_t *link_client_send_area(struct link_client *c, uint64_t *held);
/* Posts a request the app does not wait for (nexus/link.h, the post slot): in_len bytes of
 * `in` become the post slot's data; `chunks` are the send area's chunks it names, which
 * link_client_send_area counts as held until the service has taken them. 0, -EBUSY while the
 * last post is unanswered (make the call instead: it is taken after the post), or -EIO. */
long link_client_post(struct link_client *c, struct nxs_msg *m, const void *in, uint32_t in_len, uint64_t chunks);
/* 1 if the post slot is free now (the last post's reply has come). */
int link_client_can_post(struct link_client *c);
/* The error a posted send on socket `sock` ended with, once (-errno), else 0. */
int link_client_post_error(struct link_client *c, int32_t sock);
/* The service's current epoch (0 if none or not attached). */
uint32_t link_client_epoch(const struct link_client *c);
/* The status word of socket `sock` (0 if none). */
uint32_t link_client_status(const struct link_client *c, int32_t sock);
/* The status change counter (nexus/link.h). */
uint32_t link_client_status_seq(const struct link_client *c);
/* Before sleeping on the link's channel: asks the service to signal the next change, then
 * returns 0 if it is still safe to sleep, 1 if something happened since the caller read
 * status_seq `seen` (or a reply is waiting), -ECONNRESET if the service instance changed. */
int link_client_prepare_wait(struct link_client *c, uint32_t seen);
/* The channel the service signals this app on (for nx_wait_any). */
int link_client_channel(const struct link_client *c);
/* How often a sleeper on a link wakes to ask whether the service still runs: a dead service
 * shows within this. */
#define LINK_CLIENT_LIVENESS_NS (500ull * 1000000ull)

/* 1 if the service's fiber is running now (asked of the kernel). */
int link_client_peer_alive(const struct link_client *c);
/* Sleeps until a status changes or a reply arrives, at most timeout_ns (UINT64_MAX: no limit),
 * unless status_seq already moved past `seen`. 0, -ETIMEDOUT, or -ECONNRESET if the service
 * died or restarted. */
int link_client_wait_change(struct link_client *c, uint32_t seen, uint64_t timeout_ns);

#endif
