/*
 * The socket protocol between an app (libnexus) and the Membrane, over one link (kernel/link.h):
 * 36 shared pages that both sides map read-write. docs/sockets.md describes it in prose.
 *
 *   offset 0x00000  struct nxs_header   epoch, wake flag, the status word of every socket
 *   offset 0x01000  request ring        app -> Membrane: {slot, 0, 0}
 *   offset 0x02000  completion ring     Membrane -> app: {slot, 0, 0}
 *   offset 0x03000  NXS_SLOTS x struct nxs_msg       one request/reply each
 *   offset 0x04000  NXS_SLOTS x NXS_SLOT_DATA bytes  the slot's data (payload, names, options)
 *
 * A call: the app fills a free slot (header + data), enqueues its number on the request ring and
 * signals the Membrane if it sleeps; the Membrane copies the header into its own memory,
 * checks it (nxs_msg_check), acts, writes the reply into the same slot and enqueues the slot on
 * the completion ring. The Membrane never blocks on an app: every operation either completes at
 * once (EAGAIN/EINPROGRESS when it would block) or, for name lookups only, completes later.
 * Blocking calls are built by libnexus from the status words: it sleeps on its link channel
 * until the socket's status says the call can make progress.
 *
 * Status words are written only by the Membrane. When it changes any, it bumps status_seq and,
 * if the app set app_waiting, clears it and signals the app (the same Dekker pattern as the
 * ION ring's wake flag: the app sets app_waiting, fences, re-reads the statuses, then sleeps).
 *
 * Neither side trusts the other. The Membrane validates every field it reads before use; the
 * app bounds every length the Membrane returns. A socket number names an entry of the link's own
 * table, so an app can only ever reach its own sockets.
 *
 * epoch: the Membrane writes a new non-zero value each time it (re)starts and clears the
 * status table. A socket opened under another epoch belongs to a dead Membrane: libnexus fails
 * it with ECONNRESET (connected) or ENOTCONN.
 *
 * app_start / app_start_ack: the other direction. An app (re)starting writes a new app_start
 * before its first call and waits until the Membrane echoes it in app_start_ack. Before echoing,
 * the Membrane closes every socket the link's previous app left open (so a restarted server can
 * bind its port again) and starts both rings over empty, so nothing of the dead app is answered.
 */
#ifndef NEXUS_SOCKPROTO_H
#define NEXUS_SOCKPROTO_H

#include <stdint.h>

#define NXS_MAGIC 0x4e585331u /* "NXS1" */
#define NXS_SOCKETS 64        /* sockets per link (per app) */
#define NXS_SLOTS 4
#define NXS_SLOT_DATA 32768u
#define NXS_RING_CAPACITY 8

#define NXS_OFF_HEADER 0x0000u
#define NXS_OFF_REQUESTS 0x1000u
#define NXS_OFF_COMPLETIONS 0x2000u
#define NXS_OFF_MSGS 0x3000u
#define NXS_OFF_DATA 0x4000u
#define NXS_LINK_BYTES (NXS_OFF_DATA + NXS_SLOTS * NXS_SLOT_DATA)

/* Status bits: the poll(2) values, so libnexus passes them through. */
#define NXS_EV_IN 0x001u   /* data, a pending connection, or end of stream to read */
#define NXS_EV_OUT 0x004u  /* send would accept bytes / connect finished */
#define NXS_EV_ERR 0x008u  /* an error is pending (SO_ERROR) */
#define NXS_EV_HUP 0x010u  /* the connection is gone both ways */
#define NXS_EV_OPEN 0x80000000u /* the socket exists (cleared when closed or never opened) */

struct nxs_header {
    uint32_t magic;
    uint32_t epoch;      /* Membrane start count, 0 until the Membrane attached */
    uint32_t status_seq; /* bumped by the Membrane after any status change */
    uint32_t app_waiting;
    uint32_t app_start;     /* written by the app: bumped each time an app attaches */
    uint32_t app_start_ack; /* written by the Membrane: app_start once it has cleaned up */
    uint32_t pad[10];
    uint32_t status[NXS_SOCKETS];
};

enum nxs_op {
    NXS_OP_SOCKET = 1,  /* arg0 domain, arg1 type, arg2 protocol        -> socket number */
    NXS_OP_BIND,        /* addr                                          -> 0 */
    NXS_OP_LISTEN,      /* arg0 backlog                                  -> 0 */
    NXS_OP_ACCEPT,      /*                                -> new socket number, addr = peer */
    NXS_OP_CONNECT,     /* addr                              -> 0, -EINPROGRESS, -errno */
    NXS_OP_SEND,        /* data[len], flags, addr if addr_len (sendto)   -> bytes taken */
    NXS_OP_RECV,        /* len = most wanted, flags          -> bytes in data, addr = from */
    NXS_OP_SHUTDOWN,    /* arg0 how (SHUT_RD/WR/RDWR)                    -> 0 */
    NXS_OP_CLOSE,       /*                                               -> 0 */
    NXS_OP_SETSOCKOPT,  /* arg0 level, arg1 name, data[len] value        -> 0 */
    NXS_OP_GETSOCKOPT,  /* arg0 level, arg1 name, len = room  -> value length, value in data */
    NXS_OP_GETSOCKNAME, /*                                         -> 0, addr */
    NXS_OP_GETPEERNAME, /*                                         -> 0, addr */
    NXS_OP_RESOLVE,     /* data = host name (len bytes, no NUL), arg0 family wanted
                           -> address count, addresses as struct nxs_addr in data (deferred) */
    NXS_OP_COUNT
};

/* A socket address as on the wire of this protocol: the POSIX struct sockaddr_in or
 * sockaddr_in6 bytes (family in host order first). */
#define NXS_ADDR_MAX 28

struct nxs_msg {
    uint32_t op;
    int32_t sock;
    uint32_t flags; /* MSG_* for send/recv */
    uint32_t len;   /* request data length (or room wanted); reply data length */
    int64_t result; /* reply: >= 0, or -errno */
    uint32_t arg[3];
    uint32_t addr_len;
    uint8_t addr[NXS_ADDR_MAX];
    uint32_t tag; /* chosen by the app, echoed in the reply */
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

/* sockaddr bytes <-> nxs_addr. decode: 0 or -EINVAL/-EAFNOSUPPORT. encode: bytes written. */
int nxs_addr_decode(const uint8_t *raw, uint32_t len, struct nxs_addr *out);
uint32_t nxs_addr_encode(const struct nxs_addr *a, uint8_t *raw, uint32_t room);

#endif
