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
    SYS_COUNT
};

#define NEXUS_WAIT_FOREVER UINT64_MAX
#define NEXUS_CONSOLE_WRITE_MAX 4096 /* larger writes are -EINVAL */
#define NEXUS_BUS_LIST_MAX 65536     /* larger buffers are -EINVAL */
#define NEXUS_CHANNELS 64

struct nexus_identity {
    uint32_t id;   /* fiber id, unique for the boot */
    uint32_t pad;
    char name[16]; /* NUL-terminated */
};

#endif
