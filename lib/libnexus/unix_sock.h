/*
 * libnexus's AF_UNIX sockets, shared by the family's two files: unix.c (the family itself, the
 * socket table, the data path over lanes, socketpair) and unix_named.c (names and connections
 * between apps, through the kernel: docs/unix.md).
 */
#ifndef NEXUS_LIBNEXUS_UNIX_SOCK_H
#define NEXUS_LIBNEXUS_UNIX_SOCK_H

#include <stdint.h>

#include "libnexus.h"
#include "unix_lane.h"

enum unix_state {
    UNIX_PAIR_END,  /* one end of a socketpair: lanes in this app's heap */
    UNIX_FRESH,     /* socket(): nothing yet */
    UNIX_BOUND,     /* bind(): a name in the kernel's namespace */
    UNIX_LISTENING, /* listen(): connections queue on the name */
    UNIX_CONNECTED, /* connect() or accept(): lanes the kernel mapped, a peer in another app (or this one) */
};

struct unix_pair;

/* One connection as one end sees it: the lane it reads, the lane it writes, the peer. */
struct unix_chan {
    struct unix_lane_reader in;
    struct unix_lane_writer out;
    int peer_bell;          /* the peer's doorbell; -1 for a pair (nobody to ring) */
    long conn;              /* the kernel's id of this end (named connections) */
    uint8_t refused_told;   /* a datagram's peer is gone and a send said so */
    char path[NEXUS_UNIX_PATH_MAX + 1]; /* the peer's name ("" none) */
};

#define UNIX_DGRAM_CHANS 8 /* a named datagram socket's connections, both ways */

struct unix_sock {
    enum unix_state state;
    int type;
    uint8_t shut_rd, shut_wr, closed;
    struct unix_pair *pair;   /* UNIX_PAIR_END: the block holding both ends */
    struct unix_chan ch;      /* a pair's end, a stream connection */
    long name;                /* the kernel's name id once bound (also after a connect), or -1 */
    long ahead;               /* a connection accepted early (poll saw it), or -1 */
    struct nexus_unix_conn ahead_info;
    char path[NEXUS_UNIX_PATH_MAX + 1]; /* its own name ("" none) */
    /* A named datagram socket: connections made by sends (out) and taken from its name (in). */
    struct unix_chan *dgram[UNIX_DGRAM_CHANS];
    uint8_t dgram_in[UNIX_DGRAM_CHANS];
    unsigned dgram_next;      /* where the next receive starts looking: each sender in turn */
    struct unix_chan *full;   /* the connection the last send found full: not writable till it drains */
    char dest[NEXUS_UNIX_PATH_MAX + 1]; /* connect's destination ("" none) */
};

/* unix.c: a free socket number, or -1; puts u at number s. */
int32_t unix_free_number(int32_t after);
void unix_install(int32_t s, struct unix_sock *u);
/* Points c's lanes at a connection's two lanes: it writes lane `end` and reads the other. */
void unix_attach_lanes(struct unix_chan *c, uint8_t *lanes, int end);
/* The datagram path on one connection (the socket's shut flags apply): bytes or -errno. */
long unix_dgram_send(struct unix_sock *u, struct unix_chan *c, const uint8_t *data, uint32_t len);
long unix_dgram_recv(struct unix_chan *c, struct nxs_msg *m, uint8_t *data, uint32_t want, int peek);
/* The address of `path` ("" for an unnamed socket: the family alone, as Linux answers) into
 * data; m->len its length. */
long unix_put_name(struct nxs_msg *m, uint8_t *data, const char *path);

/* unix_named.c: the requests of a socket that is not a pair's end, and what it shows to poll. */
long unix_named_socket(struct nxs_msg *m);
long unix_named_bind(struct unix_sock *u, const struct nxs_msg *m, const uint8_t *data);
long unix_named_listen(struct unix_sock *u, uint32_t backlog);
long unix_named_accept(struct unix_sock *u, struct nxs_msg *m);
long unix_named_connect(struct unix_sock *u, const struct nxs_msg *m, const uint8_t *data);
/* A listener has a connection waiting (taken from the kernel ahead of accept). */
int unix_named_acceptable(struct unix_sock *u);
/* Gives the kernel back what u holds (name, connection, a connection taken ahead). */
void unix_named_close(struct unix_sock *u);
/* Rings the peer in another app, if any: after a change it must see at once. */
void unix_named_ring(const struct unix_chan *c);
/* Named datagram sockets: a send to a path (or connect's), a receive from any sender, what poll
 * sees, and what a sleeper must arm. */
long unix_named_dgram_send(struct unix_sock *u, struct nxs_msg *m, const uint8_t *data);
long unix_named_dgram_recv(struct unix_sock *u, struct nxs_msg *m, uint8_t *data);
uint32_t unix_named_dgram_status(struct unix_sock *u);
/* Every connection a sleeper may be woken by: calls arm(c) on each until one says 0. */
int unix_named_each_chan(struct unix_sock *u, int (*arm)(struct unix_chan *c));
/* The app's doorbell, -1 before its first name or connection. */
int unix_named_doorbell(void);

#endif
