/*
 * The Nexus syscall ABI, shared by the kernel and user programs (docs/syscalls.md).
 * ecall with the number in a7 and arguments in a0..a5; the result comes back in a0:
 * >= 0 on success, -errno (picolibc <errno.h> values) on failure.
 */
#ifndef NEXUS_UAPI_SYSCALL_H
#define NEXUS_UAPI_SYSCALL_H

#include <stdint.h>

enum nexus_syscall {
    SYS_EXIT = 0,          /* (int code)                            -> does not return */
    SYS_YIELD = 1,         /* ()                                    -> 0 */
    SYS_SLEEP = 2,         /* (uint64_t ns)                         -> 0 */
    SYS_CONSOLE_WRITE = 3, /* (const char *buf, size_t len)         -> len */
    SYS_WAIT = 4,          /* (int channel, uint64_t timeout_ns)    -> 0 signalled, -ETIMEDOUT */
    SYS_SIGNAL = 5,        /* (int channel)                         -> fibers woken */
    SYS_BUS_GET = 6,       /* (const char *path, char *buf, size_t len) -> value length */
    SYS_BUS_SET = 7,       /* (const char *path, const char *value) -> 0 */
    SYS_BUS_LIST = 8,      /* (const char *prefix, char *buf, size_t len) -> listing length */
    SYS_IDENTITY = 9,      /* (struct nexus_identity *out)          -> 0 */
    SYS_CLOCK = 10,        /* ()                                    -> ns since boot */
    SYS_ION_INFO = 11,     /* (struct nexus_ion_info *out)          -> 0, -ENODEV if no port */
    SYS_ION_KICK = 12,     /* ()  kernel drains the caller's TX-active and RX-free rings
                                                                    -> descriptors taken */
    SYS_WAIT_ANY = 13,     /* (uint64_t channel_mask, uint64_t timeout_ns)
                                                                    -> channel number, -ETIMEDOUT */
    SYS_LINK_INFO = 14,    /* (unsigned index, struct nexus_link_info *out)
                                                                    -> 0, -ENOENT past the last */
    SYS_PLEDGE = 15,       /* (const char *promises)  narrows the caller's pledge
                                                  -> 0, -EINVAL unknown name, -EPERM widening */
    SYS_ENTROPY = 16,      /* (void *buf, size_t len)  random bytes from virtio-rng
                              -> len, -EINVAL len > 256, -EFAULT, -ENODEV no RNG, -EIO */
    SYS_KEYBLOB_TAKE = 17, /* (void *buf, size_t len)  the boot-time key blob, once
                                         -> its length, -ENOENT none or taken, -EINVAL len short */
    SYS_HEAP = 18,         /* (long delta)  moves the heap's break by delta bytes
                              -> the previous break, -ENOMEM past the heap grant, -EINVAL below
                                 the heap's start */
    SYS_REALTIME = 19,     /* ()                                    -> ns since the Unix epoch,
                                                                       -ENODEV without an RTC */
    /* The caller's writable file area (docs/syscalls.md "Files"): a name is one plain
     * component (letters, digits, '.', '_', '-'; not "." or ".."), shorter than 32 bytes;
     * -EINVAL otherwise. Writing needs a "files:N" grant (-EROFS without one). */
    SYS_FILE_READ = 20,    /* (const char *name, uint64_t offset, void *buf, size_t len)
                              -> bytes read, 0 at the end, -ENOENT */
    SYS_FILE_WRITE = 21,   /* (const char *name, uint64_t offset, const void *buf, size_t len)
                              creates the file -> len, -EROFS, -ENOSPC past the grant, -ENFILE */
    SYS_FILE_CTL = 22,     /* (int op, const char *name, uint64_t arg)  NEXUS_FILE_*
                              -> size for STAT, else 0; -ENOENT, -EROFS */
    /* AF_UNIX names and connections (docs/unix.md): a path is 1..NEXUS_UNIX_PATH_MAX bytes and a
     * NUL (-ENAMETOOLONG past it, -EINVAL empty); a type is NEXUS_UNIX_STREAM or _DGRAM. */
    SYS_UNIX_DOORBELL = 23, /* ()  the caller's AF_UNIX doorbell channel (made on first use)
                               -> channel, -ENOSPC none left */
    SYS_UNIX_BIND = 24,    /* (const char *path, int type) -> name id; -EADDRINUSE, -ENOSPC */
    SYS_UNIX_LISTEN = 25,  /* (int name, unsigned backlog) -> 0; -EBADF not the caller's name */
    SYS_UNIX_CONNECT = 26, /* (const char *path, int type, struct nexus_unix_conn *out, int from)
                              from: the caller's name the peer sees it by, or -1
                              -> connection id; -ENOENT unbound, -ECONNREFUSED not listening,
                                 -EPROTOTYPE another type, -EAGAIN backlog full */
    SYS_UNIX_ACCEPT = 27,  /* (int name, struct nexus_unix_conn *out) -> connection id;
                              -EAGAIN none waiting, -EINVAL not listening, -EBADF */
    SYS_UNIX_CLOSE = 28,   /* (int kind, int id)  NEXUS_UNIX_NAME or _CONN -> 0; -EBADF */
    SYS_CONSOLE_READ = 29, /* (void *buf, size_t len)  the caller's standard input: what the
                              operator typed while the console was given to it (`attach`)
                              -> bytes, 0 at the end of input (Ctrl-D, once), -EAGAIN nothing
                                 yet (wait on NEXUS_CONSOLE_CHANNEL), -EFAULT; len 0: 1 if a
                                 read would not wait, else 0. len is capped at 256 */
    SYS_COUNT
};

#define NEXUS_WAIT_FOREVER UINT64_MAX
#define NEXUS_PAGE_SIZE 4096u
#define NEXUS_CONSOLE_WRITE_MAX 4096 /* larger writes are -EINVAL */
#define NEXUS_BUS_LIST_MAX 65536     /* larger buffers are -EINVAL */
#define NEXUS_ENTROPY_MAX 256        /* larger draws are -EINVAL, as getentropy's */
#define NEXUS_CHANNELS 64

/* SYS_FILE_CTL's operations. */
#define NEXUS_FILE_STAT     0 /* arg unused */
#define NEXUS_FILE_TRUNCATE 1 /* arg: the new size */
#define NEXUS_FILE_UNLINK   2 /* arg unused */
#define NEXUS_FILE_RENAME   3 /* arg: const char *new_name (an existing one is replaced) */
#define NEXUS_FILE_NTH      4 /* name: a buffer of 32 bytes that gets the name of the caller's
                                 file number arg (0, 1, ...): readdir; -ENOENT past the last */

/* A network service's view of its NetSwitch port (docs/ion.md). Four rings, one page each,
 * at rings_va in this order: RX active (kernel -> service), RX free (service -> kernel),
 * TX active (service -> kernel), TX free (kernel -> service). Buffer handle h is at
 * pool_va + h * buf_size; received frames are readable there, and the service's own TX
 * handles [tx_first, tx_first + tx_count) are writable. */
struct nexus_ion_info {
    uint64_t rings_va;
    uint64_t pool_va;
    uint32_t ring_capacity;
    uint32_t buf_size;
    uint32_t tx_first;
    uint32_t tx_count;
    uint32_t channel; /* wait on it: signalled when the RX-active or TX-free ring gets work */
    uint32_t port;
    uint8_t mac[6];   /* the NIC's address */
    uint16_t pad;
};

/* The sizes of the port contract. A service learns its own figures from nexus_ion_info at run
 * time; these let it size tables at build time, and the kernel builds the pool from them. */
#define NEXUS_ETH_HDR_LEN 14         /* destination, source, EtherType */
#define NEXUS_ETH_FRAME_MAX 1514     /* the largest frame on a port: no FCS, no 802.1Q tag */
#define NEXUS_ION_RING_STRIDE NEXUS_PAGE_SIZE /* ring i is at rings_va + i * stride */
#define NEXUS_ION_PORTS 3            /* NetSwitch ports: Membrane, UTCP, LWF */
#define NEXUS_ION_BUF_SIZE 2048u     /* one pool buffer: a whole frame with room before it */
#define NEXUS_ION_RX_BUFS 512u       /* handles 0.. are RX buffers */
#define NEXUS_ION_TX_BUFS_PER_PORT 64u
#define NEXUS_ION_POOL_BUFS (NEXUS_ION_RX_BUFS + NEXUS_ION_PORTS * NEXUS_ION_TX_BUFS_PER_PORT)

/* A TX frame in two parts (docs/ion.md, "Sending from the link"): a descriptor whose length
 * carries NEXUS_ION_TX_MORE holds the frame's first bytes (Ethernet, IP and TCP headers) in one
 * of the port's TX buffers, checked as any frame; the descriptor after it, enqueued in the same
 * batch, holds the rest in the pages of a link the port's fiber serves: handle
 * NEXUS_ION_TX_LINK(the link's id from link_info, which 64 KiB of the link), offset within
 * those 64 KiB. A link part whose length also carries NEXUS_ION_TX_MORE is followed, in the same
 * batch, by one more link part: at most NEXUS_ION_TX_LINK_PARTS of them (a TCP segment whose
 * payload lies in two chunks of a send area). The frame's buffer (its handle) returns on TX free
 * as any other. */
#define NEXUS_ION_TX_MORE 0x8000u
#define NEXUS_ION_TX_LINK_PARTS 2u
#define NEXUS_ION_TX_LINK_FLAG 0x80000000u
#define NEXUS_ION_TX_LINK(id, window) (NEXUS_ION_TX_LINK_FLAG | (uint32_t)(id) << 4 | (uint32_t)(window))

#define NEXUS_ION_RING_RX_ACTIVE 0
#define NEXUS_ION_RING_RX_FREE   1
#define NEXUS_ION_RING_TX_ACTIVE 2
#define NEXUS_ION_RING_TX_FREE   3

/* A link: pages shared between a client fiber (an app) and a server fiber (a service),
 * created by the boot manifest; what the pages hold is the two parties' protocol
 * (nexus/link.h, nexus/sockproto.h for socket links). A fiber sees its links as index 0, 1, ...:
 * first those it serves, one per client, then those it is a client of, in manifest order. Each
 * side waits on its own channel and signals the peer's. The kernel keeps the pages across a
 * restart of either side. */
struct nexus_link_info {
    uint64_t va;           /* where the link's pages are mapped in the caller, read-write */
    uint32_t size;         /* bytes */
    uint32_t id;           /* link number, unique for the boot */
    uint32_t wait_channel; /* the caller waits here */
    uint32_t peer_channel; /* the caller signals here to wake the other side */
    uint32_t is_server;
    uint32_t peer_alive;   /* the other side's fiber is running now */
    char peer[16];         /* the other side's fiber name, NUL-terminated */
};

/* Channel plan: 0..15 free for fibers' own use, 16+k the server end of link k, 32+k its client
 * end, 48+p the NetSwitch port p doorbell, 55 console input (NEXUS_CONSOLE_CHANNEL: signalled
 * when typed input or its end reaches a program; every fiber may wait on it under stdio), 56..63
 * AF_UNIX doorbells (NEXUS_UNIX_CHANNEL). Waiting on a channel takes READ on it in the caller's
 * CSpace, signalling it WRITE (-EPERM otherwise); and a promise by class: stdio for 0..15, for a
 * link the promise its server's manifest entry names for its clients (inet for the Membrane's
 * socket links, lwf for the LWF service's), net for ports. A fiber may be the client of
 * NEXUS_CLIENT_LINKS_MAX links (one per service it uses) and the server of any number. */
#define NEXUS_OWN_CHANNELS 16
#define NEXUS_LINK_SERVER_CHANNEL(k) (16u + (k))
#define NEXUS_LINK_CLIENT_CHANNEL(k) (32u + (k))
#define NEXUS_PORT_CHANNEL(p) (48u + (p))
#define NEXUS_CONSOLE_CHANNEL 55u
#define NEXUS_CONSOLE_READ_MAX 256
#define NEXUS_LINKS_MAX 16
#define NEXUS_CLIENT_LINKS_MAX 4
#define NEXUS_LINK_PAGES 20 /* a link's size: 80 KiB (laid out by nexus/link.h) */
/* A link with a send area after the rest (its app is granted area:SERVER, and SERVER's manifest
 * entry says send_area: the Membrane's): 160 KiB. link_info's size tells which. */
#define NEXUS_LINK_SEND_PAGES 40

/* AF_UNIX (docs/unix.md). A connection is two lanes (nexus/unixlane.h) in NEXUS_UNIX_CONN_PAGES
 * pages the kernel maps into both ends: the connecting end is end 0 and writes lane 0, the
 * accepting end writes lane 1. Each end waits on its own doorbell channel and signals the
 * peer's; the kernel signals a listener's doorbell when a connection arrives and a survivor's
 * when its peer dies, after shutting the dead end's lanes. */
#define NEXUS_UNIX_PATH_MAX 108   /* sun_path's size: the longest name, without its NUL */
#define NEXUS_UNIX_STREAM 1
#define NEXUS_UNIX_DGRAM 2 /* a datagram name takes connections without listen: each sender's */
#define NEXUS_UNIX_NAME 0         /* SYS_UNIX_CLOSE's kinds */
#define NEXUS_UNIX_CONN 1
#define NEXUS_UNIX_CONN_PAGES 34  /* two lanes of 17 pages */
#define NEXUS_UNIX_CHANNEL(i) (56u + (i)) /* doorbells: one per fiber using AF_UNIX */
#define NEXUS_UNIX_CHANNELS 8
#define NEXUS_UNIX_NO_PEER UINT32_MAX /* peer_doorbell of a connection whose other end has gone */

struct nexus_unix_conn {
    uint64_t va;            /* the connection's pages in the caller */
    uint32_t end;           /* 0: the connecting end, 1: the accepting end */
    uint32_t doorbell;      /* the caller's own: wait here */
    uint32_t peer_doorbell; /* signal here to wake the other end */
    uint32_t pad;
    char peer_path[NEXUS_UNIX_PATH_MAX + 1]; /* the peer's name: the path connected to, or the
                                                connecting end's `from` ("" none) */
    char pad2[3];
};

struct nexus_identity {
    uint32_t id;   /* fiber id, unique for the boot */
    uint32_t pad;
    char name[16]; /* NUL-terminated */
};

#endif
