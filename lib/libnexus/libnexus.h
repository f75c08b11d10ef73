/*
 * libnexus internals: the app's end of its link to the Membrane (link.c) and the socket
 * descriptor table (socket.c). Apps never include this; they use the POSIX headers in
 * membrane/include/. The protocol is membrane/sockproto.h.
 */
#ifndef NEXUS_LIBNEXUS_H
#define NEXUS_LIBNEXUS_H

#include <stdint.h>

#include "nexus/sockproto.h"

#define NXL_FD_FIRST 3 /* 0..2 are the console */
#define NXL_FDS 64

struct nxl_fd {
    uint8_t used, nonblock, type, family;
    int32_t sock;          /* number in the Membrane's table for this link */
    uint32_t epoch;        /* the Membrane that holds it */
    uint64_t rcvtimeo_ns;  /* 0: none */
    uint64_t sndtimeo_ns;
};

/* Attaches to the link on first use. 0, or -ENETDOWN if this app has no link or the Membrane
 * has not come up within a few seconds. */
int nxl_ready(void);
/* One request/reply. `in`/`in_len` go to the slot's data; up to out_room reply bytes are
 * copied to `out`. Returns the reply's result (>= 0 or -errno); *m holds the reply header. */
long nxl_call(struct nxs_msg *m, const void *in, uint32_t in_len, void *out, uint32_t out_room);
/* The Membrane's current epoch (0 if none). */
uint32_t nxl_epoch(void);
/* The status word of socket `sock`. */
uint32_t nxl_status(int32_t sock);
/* Status change counter (see sockproto.h). */
uint32_t nxl_status_seq(void);
/* Sleeps until a status changes or a reply arrives, at most timeout_ns (UINT64_MAX: no limit),
 * unless status_seq already moved past `seen`. Returns -ECONNRESET if the Membrane died. */
int nxl_wait_change(uint32_t seen, uint64_t timeout_ns);

/* Descriptor table. */
struct nxl_fd *nxl_fd_get(int fd); /* NULL (errno EBADF) if fd is not an open socket */
int nxl_fd_alloc(int32_t sock, int type, int family, int nonblock); /* fd, or -EMFILE */
void nxl_fd_free(int fd);
/* 0 if the socket is still in the live Membrane, else -ECONNRESET. */
int nxl_fd_live(const struct nxl_fd *f);

/* Blocks (respecting O_NONBLOCK and the timeout) until the socket's status has one of
 * `events`. 0, -EAGAIN, -ETIMEDOUT mapped to -EAGAIN, or -ECONNRESET. */
int nxl_wait_events(const struct nxl_fd *f, uint32_t events, uint64_t timeout_ns);

/* errno = -r, returns -1; or returns r. */
long nxl_result(long r);

#endif
