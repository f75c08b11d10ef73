/*
 * The socket protocol: what requests over a service link (nexus/link.h) mean when the service
 * is a socket family's backend, as the Membrane is for AF_INET and AF_INET6. Operations follow
 * the POSIX calls one to one; libnexus turns them back into blocking calls.
 */
#ifndef NEXUS_SOCKPROTO_H
#define NEXUS_SOCKPROTO_H

#include <stdint.h>

#include "nexus/link.h"

#define NXS_MAGIC 0x4e585331u /* "NXS1": a socket service on the link */

enum nxs_op {
    NXS_OP_SOCKET = 1,  /* arg0 domain, arg1 type, arg2 protocol        -> socket number */
    NXS_OP_BIND,        /* addr                                          -> 0 */
    NXS_OP_LISTEN,      /* arg0 backlog                                  -> 0 */
    NXS_OP_ACCEPT,      /*                                -> new socket number, addr = peer */
    NXS_OP_CONNECT,     /* addr                              -> 0, -EINPROGRESS, -errno */
    NXS_OP_SEND,        /* data[len], flags, addr if addr_len (sendto)   -> bytes taken;
                           arg0 > 0: the bytes are first in arg0 chunks of the send area,
                           data holds that many struct nxs_chunk, then the rest of the bytes
                           if any (stream sockets only; libnexus sends none, docs/ion.md
                           "Waiting for its own chunks"); the reply's arg1 is the stream's segment
                           size, the bytes a chunk should hold to leave as one frame */
    NXS_OP_RECV,        /* len = most wanted, flags          -> bytes in data, addr = from,
                           arg0 = a datagram's whole length (more than the bytes: cut) */
    NXS_OP_SHUTDOWN,    /* arg0 how (SHUT_RD/WR/RDWR)                    -> 0 */
    NXS_OP_CLOSE,       /* flags NXS_CLOSE_LINGER may ask to linger  -> 0, or seconds to linger */
    NXS_OP_SETSOCKOPT,  /* arg0 level, arg1 name, data[len] value        -> 0 */
    NXS_OP_GETSOCKOPT,  /* arg0 level, arg1 name, len = room  -> value length, value in data */
    NXS_OP_GETSOCKNAME, /*                                         -> 0, addr */
    NXS_OP_GETPEERNAME, /*                                         -> 0, addr */
    NXS_OP_RESOLVE,     /* data = host name (len bytes, no NUL), arg0 family wanted
                           -> address count, addresses as struct nxs_addr in data (deferred) */
    NXS_OP_READABLE,    /* -> the bytes a recv could take now, consuming nothing (FIONREAD):
                           a stream's unread bytes, the next datagram's length, 0 if none */
    NXS_OP_COUNT
};

/* CLOSE's flag: close as SO_LINGER says. A connected TCP socket with SO_LINGER {1, N > 0} is
 * not closed: writing is shut down (the FIN follows the queued bytes) and the reply is N. The
 * app then waits until the socket's status shows NXS_EV_DRAINED (or NXS_EV_ERR) or N seconds
 * pass, and closes it with a plain CLOSE, which lets the connection end in the background.
 * Without the flag, or for any other socket, CLOSE closes at once. */
#define NXS_CLOSE_LINGER 0x1u

/* One piece of a send from the send area (nexus/link.h): `len` bytes from `offset` in chunk
 * `index`, in stream order. (An app puts them at its source's address mod 8, so that its copy,
 * and lwIP's if the Membrane has to copy, moves whole words.) */
struct nxs_chunk {
    uint8_t index;
    uint8_t offset;
    uint16_t len;
};

/* A decoded socket address. */
struct nxs_addr {
    uint16_t family; /* 2 = AF_INET, 10 = AF_INET6 */
    uint16_t port;   /* host order */
    uint32_t scope;
    uint8_t ip[16];  /* IPv4 in the first 4 bytes, network order */
};

/* Checks a request header (already copied into trusted memory) against the protocol's bounds:
 * known op, socket number in range where the op needs one, data length within the slot,
 * address length within the field. 0, or the -errno to answer. */
int nxs_msg_check(const struct nxs_msg *m);

/* A request in the link's post slot (nexus/link.h), after nxs_msg_check: only a send whose bytes
 * all lie in 1..NXS_SEND_CHUNKS chunks of the send area, its data the chunk list alone, with no
 * address. 0, or -EINVAL. */
int nxs_post_check(const struct nxs_msg *m);

/* nxs_msg_check for a service whose links have `sockets` sockets each (fewer than NXS_SOCKETS):
 * also -EBADF for a socket number past them. */
int nxs_msg_check_sockets(const struct nxs_msg *m, unsigned sockets);
/* SOCKET's arguments for a service of one domain and type with protocol 0: 0, -EAFNOSUPPORT,
 * -EPROTOTYPE (picolibc has no ESOCKTNOSUPPORT) or -EPROTONOSUPPORT. */
int nxs_socket_args_check(const struct nxs_msg *m, uint32_t domain, uint32_t type);

/* sockaddr bytes <-> nxs_addr. decode: 0 or -EINVAL/-EAFNOSUPPORT. encode: bytes written. */
int nxs_addr_decode(const uint8_t *raw, uint32_t len, struct nxs_addr *out);
uint32_t nxs_addr_encode(const struct nxs_addr *a, uint8_t *raw, uint32_t room);

#endif
