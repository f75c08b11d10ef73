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
 * The table is shared, so no fiber may fill it: a fiber holds at most BUS_OWNER_QUOTA keys,
 * and fibers together may not take the last BUS_KERNEL_RESERVE free entries, which only the
 * kernel can use. So the kernel can always publish (a dead fiber's state, its faults) even
 * when every fiber has published all it may. Refusals and failed kernel publishes are counted
 * (bus_stats) and published under /Bus/bus (bus_publish_stats).
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
#define BUS_MAX_KEYS   1024
#define BUS_OWNER_KERNEL 0u
/* The Membrane, the busiest publisher, holds ~59 keys (counters, drops, milestones); uptime 1. */
#define BUS_OWNER_QUOTA    96
/* The kernel publishes 115 keys at boot (default manifest) and 2 to 6 more per fiber name. */
#define BUS_KERNEL_RESERVE 128

/* Errors are negative errno values from <errno.h>:
 *   -EINVAL  malformed path or value     -ENOENT  no such key
 *   -EPERM   key owned by someone else   -EDQUOT  the fiber already holds BUS_OWNER_QUOTA keys
 *   -ENOSPC  table full (for a fiber: only the kernel's reserve is left) */

struct bus_stats {
    uint64_t refused_quota;   /* new keys refused to a fiber at its quota (-EDQUOT) */
    uint64_t refused_reserve; /* new keys refused to a fiber: only the kernel's reserve was left */
    uint64_t kernel_failures; /* kernel publishes that failed (table full, or a malformed value) */
};

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

/* Number of keys `owner` holds. */
int bus_owned_by(uint32_t owner);

/* The refusal and failure counters since bus_init. */
const struct bus_stats *bus_stats(void);

/* Writes the table's limits, its key count and bus_stats as kernel keys under /Bus/bus
 * (capacity, owner_quota, kernel_reserve, keys, refused_quota, refused_reserve,
 * kernel_failures). Does nothing when none of them changed since the last call, so the kernel
 * may call it whenever it idles. */
void bus_publish_stats(void);

#endif
