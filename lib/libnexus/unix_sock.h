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

struct unix_sock {
    enum unix_state state;
    int type;
    uint8_t shut_rd, shut_wr, closed;
    uint8_t refused_told;     /* a datagram socket's peer is gone and a send said so */
    struct unix_pair *pair;   /* UNIX_PAIR_END: the block holding both ends */
    struct unix_lane_reader in;
    struct unix_lane_writer out;
    long name;                /* the kernel's name id once bound (also after a connect), or -1 */
    long conn;                /* UNIX_CONNECTED: the kernel's id of this end */
    int peer_bell;            /* UNIX_CONNECTED: the peer's doorbell; -1 for a pair */
    long ahead;               /* UNIX_LISTENING: a connection accepted early (poll saw it), or -1 */
    struct nexus_unix_conn ahead_info;
    char path[NEXUS_UNIX_PATH_MAX + 1];      /* its own name ("" none) */
    char peer_path[NEXUS_UNIX_PATH_MAX + 1]; /* the peer's name ("" none) */
};

/* unix.c: a free socket number, or -1; puts u at number s. */
int32_t unix_free_number(int32_t after);
void unix_install(int32_t s, struct unix_sock *u);
/* Points u's lanes at a connection's two lanes: it writes lane `end` and reads the other. */
void unix_attach_lanes(struct unix_sock *u, uint8_t *lanes, int end);
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
void unix_named_ring(struct unix_sock *u);
/* The app's doorbell, -1 before its first name or connection. */
int unix_named_doorbell(void);

#endif
