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
    SYS_COUNT
};

#define NEXUS_WAIT_FOREVER UINT64_MAX
#define NEXUS_CONSOLE_WRITE_MAX 4096 /* larger writes are -EINVAL */
#define NEXUS_BUS_LIST_MAX 65536     /* larger buffers are -EINVAL */
#define NEXUS_CHANNELS 64

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

#define NEXUS_ION_RING_RX_ACTIVE 0
#define NEXUS_ION_RING_RX_FREE   1
#define NEXUS_ION_RING_TX_ACTIVE 2
#define NEXUS_ION_RING_TX_FREE   3

struct nexus_identity {
    uint32_t id;   /* fiber id, unique for the boot */
    uint32_t pad;
    char name[16]; /* NUL-terminated */
};

#endif
