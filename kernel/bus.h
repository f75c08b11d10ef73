/*
 * /Bus: the kernel-held tree of small named values that is the system's state (DESIGN.md
 * invariant 6). Paths look like "/Bus/net/ipv4/addr": the root "/Bus", then components of
 * [A-Za-z0-9_.:-]+ joined by single '/', no trailing '/', at most BUS_PATH_MAX-1 bytes. Values
 * are printable ASCII (0x20..0x7e), at most BUS_VALUE_MAX-1 bytes, possibly empty.
 *
 * Every key has an owner: 0 is the kernel; fibers use their fiber id (> 0). A key may be
 * changed only by its owner or by the kernel, so kernel-published facts are read-only to
 * fibers. Entries are kept sorted by path, so listings are stable.
 *
 * Portable C, no kernel dependency: compiled into the kernel and into host tests/fuzzers.
 * Not thread-safe; the kernel calls it with interrupts off.
 */
#ifndef NEXUS_BUS_H
#define NEXUS_BUS_H

#include <stddef.h>
#include <stdint.h>

#define BUS_PATH_MAX   96
#define BUS_VALUE_MAX  96
#define BUS_MAX_KEYS   512
#define BUS_OWNER_KERNEL 0u

/* Errors are negative errno values from <errno.h>:
 *   -EINVAL  malformed path or value     -ENOENT  no such key
 *   -EPERM   key owned by someone else   -ENOSPC  table full */

void bus_init(void);

/* Creates or replaces `path` with `value` on behalf of `owner`. 0 or -errno. */
int bus_set(const char *path, const char *value, uint32_t owner);

/* snprintf-style helper for kernel code: bus_setf(owner, path, fmt, ...). */
int bus_setf(uint32_t owner, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the value (NUL-terminated, truncated to len-1) into buf. Returns the value's full
 * length (excluding NUL) or -errno. len may be 0. */
int bus_get(const char *path, char *buf, size_t len);

/* Writes "path=value\n" for every key equal to `prefix` or below it ("prefix/..."), sorted,
 * NUL-terminated and truncated to len-1. Returns the full length needed (excluding NUL), or
 * -EINVAL for a malformed prefix. "/Bus" lists everything. */
int bus_list(const char *prefix, char *buf, size_t len);

/* Removes every key owned by `owner` (a fiber that died); returns how many. */
int bus_drop_owner(uint32_t owner);

/* Removes one key; same ownership rule as bus_set. 0 or -errno. */
int bus_del(const char *path, uint32_t owner);

/* 1 if `path` is well formed (see above), else 0. */
int bus_path_valid(const char *path);

/* Number of keys currently held. */
int bus_count(void);

#endif
