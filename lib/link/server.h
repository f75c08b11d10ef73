/*
 * The server half of the service link (nexus/link.h), written once for every service fiber that
 * answers apps over links: the Membrane now, the LWF and UTCP services next. It maps the links
 * the manifest gave this fiber, starts a new epoch on each, runs the app-start handshake,
 * takes requests off the rings, copies and checks each header before the service sees it,
 * enqueues completions, publishes changed status words and wakes the apps that wait.
 *
 * A service supplies a struct link_service: its protocol's check and handler, what to forget
 * when an app starts again, and the status word of each of its sockets. Links are numbered
 * 0..n-1 in the order link_server_attach found them; a service keeps its per-link state in
 * arrays indexed by that number. One service per fiber.
 */
#ifndef NEXUS_LINK_SERVER_H
#define NEXUS_LINK_SERVER_H

#include <stdint.h>

#include "nexus/link.h"

/* handle() returns this when the service answers later, with link_server_complete(). */
#define LINK_DEFERRED (-0x7fffffffL)

struct link_service {
    uint32_t magic; /* written into each link's header: the protocol apps should expect */
    /* A request header, copied out of the shared slot: 0, or the -errno to answer. */
    int (*check)(const struct nxs_msg *m);
    /* A request in the post slot, after check(): 0 if the service can finish it without its
     * app waiting (nexus/link.h), else the -errno to answer. NULL: the service takes no posts. */
    int (*check_post)(const struct nxs_msg *m);
    /* Answers a checked request: fills the reply fields of *m (len, addr_len, arg) and returns
     * the result (>= 0 or -errno), or LINK_DEFERRED. `data` is the slot's data, which the app
     * can still write: read each byte once. */
    long (*handle)(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data);
    /* The link's app started again: release everything its predecessor held. */
    void (*app_restarted)(unsigned link);
    /* The status word of socket k of the link now (NXS_EV_*). */
    uint32_t (*status)(unsigned link, int k);
};

struct link_server_stats {
    uint64_t requests;         /* requests answered */
    uint64_t errors;           /* of those, answered with an error */
    uint64_t posts;            /* requests in the post slot (answered too, without a wake) */
    uint64_t bad_slots;        /* slot numbers out of range on a request ring */
    uint64_t bad_rings;        /* request rings an app corrupted (started over empty) */
    uint64_t completions_lost; /* replies that found the app's completion ring full or broken */
    uint64_t app_restarts;     /* links whose app started again */
};

/* Maps every link this fiber serves for `svc`, starts a new epoch on each; how many. */
unsigned link_server_attach(const struct link_service *svc);
/* Runs the app-start handshakes and answers the queued requests, at most a ring's worth per
 * link (the caller yields between passes). Returns the work done. */
unsigned link_server_poll(void);
/* Sends the reply in *m for the request in `slot` (also for a deferred one). */
void link_server_complete(unsigned link, uint32_t slot, const struct nxs_msg *m);
/* Socket k's status may have changed: link_server_flush() asks service->status for it. */
void link_server_touch(unsigned link, int k);
/* Publishes changed status words and wakes apps that wait for them or for a reply. */
void link_server_flush(void);
/* Before sleeping: 1 if no request is queued (and apps will signal new ones). */
int link_server_sleep_prepare(void);
/* The channels apps signal. */
uint64_t link_server_wait_mask(void);
/* The data area of a slot (NXS_POST_DATA bytes for the post slot), for a deferred reply. */
uint8_t *link_server_slot_data(unsigned link, uint32_t slot);
/* Where link `link`'s pages start here, and its kernel id (nexus_link_info.id). */
uint8_t *link_server_base(unsigned link);
uint32_t link_server_id(unsigned link);
/* Its size in bytes (the kernel's link_info): NXS_LINK_SEND_BYTES if it has a send area. */
uint32_t link_server_size(unsigned link);
const struct link_server_stats *link_server_stats(void);

#endif
