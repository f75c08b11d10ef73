/*
 * Links: pages shared between two fibers named in the boot manifest, a client (an app) and a
 * server (a service: the Membrane, the LWF service), plus a wait channel for each end. The
 * kernel only provides the memory and the doorbells; the protocol inside (socket requests,
 * nexus/sockproto.h) belongs to the two parties and is validated by each of them, never by the
 * kernel. Each link carries the promise its client must hold to use it (the server's manifest
 * entry names it): a socket link to the Membrane needs inet, one to the LWF service lwf.
 */
#ifndef NEXUS_LINK_H
#define NEXUS_LINK_H

#include <stdint.h>

struct fiber;
struct nexus_link_info;

/* A link between the fibers that will be called `client` and `server`, the client holding
 * `client_rights` (cspace.h CAP_*) on its end and the server both on its own, both ends needing
 * `promise` (pledge.h, one bit) to use it. The names need not be running yet: each end is mapped
 * when a fiber of that name starts (also after a restart). Returns the link id, or -ENOSPC (no
 * link left, or the client already has NEXUS_CLIENT_LINKS_MAX), -EEXIST (the two are linked
 * already), -EINVAL, -ENOMEM. It has `pages` pages: NEXUS_LINK_PAGES, or NEXUS_LINK_SEND_PAGES
 * for a server whose links carry a send area (manifest_link_pages). */
int link_create(const char *client, const char *server, unsigned client_rights, uint32_t promise, unsigned pages);
/* Grants a starting fiber its end of every link it is a party of (READ: wait on its own channel,
 * WRITE: signal the peer's; cspace_grant_link_end) and maps the link's pages with those rights
 * (read-only without WRITE). 0, -ENOMEM or -ENOSPC (CSpace full). */
int link_attach(struct fiber *f);
/* The caller's index-th link (syscall backend) and the promise using it needs. 0 or -ENOENT. */
int link_info(const struct fiber *f, unsigned index, struct nexus_link_info *out, uint32_t *promise);
/* The promise a link channel (either end of a link, nexus/syscall.h channel plan) needs, or 0 if
 * no link has that channel. */
uint32_t link_channel_promise(unsigned channel);
/* Where the device may read `len` bytes at `off` in link `id` for a frame of fiber `server`:
 * the kernel address, or 0 unless `server` is the link's server and the bytes lie in its pages.
 * Link pages are the kernel's and never freed, so a frame on the device outlives either end. */
uint64_t link_server_span(const struct fiber *server, uint32_t id, uint64_t off, uint32_t len);

#endif
