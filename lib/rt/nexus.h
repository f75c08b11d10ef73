/*
 * The user-side runtime for Nexus fibers: thin wrappers over the syscalls of
 * include/nexus/syscall.h. Results follow the kernel: >= 0 success, -errno failure.
 * stdout/stderr (picolibc) write to the console, line-buffered; stdin reads what the operator
 * types once the console is given to the fiber (`attach`), waiting for it.
 */
#ifndef NEXUS_USER_H
#define NEXUS_USER_H

#include <stddef.h>
#include <stdint.h>

#include "nexus/syscall.h"

long nx_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

__attribute__((noreturn)) void nx_exit(int code);
long nx_yield(void);
long nx_sleep_ns(uint64_t ns);
long nx_console_write(const void *buf, size_t len);
/* The fiber's standard input (SYS_CONSOLE_READ): bytes, 0 at its end, -EAGAIN nothing yet. */
long nx_console_read(void *buf, size_t len);
long nx_wait(int channel, uint64_t timeout_ns);
long nx_signal(int channel);
long nx_bus_get(const char *path, char *buf, size_t len);
long nx_bus_set(const char *path, const char *value);
long nx_bus_list(const char *prefix, char *buf, size_t len);
long nx_identity(struct nexus_identity *out);
uint64_t nx_clock_ns(void);
long nx_ion_info(struct nexus_ion_info *out);
long nx_ion_kick(void);
long nx_wait_any(uint64_t channel_mask, uint64_t timeout_ns);
long nx_link_info(unsigned index, struct nexus_link_info *out);
/* Narrows the caller's promises to the names in `promises` ("stdio inet"); -EPERM if that
 * would add one. */
long nx_pledge(const char *promises);
/* Copies the boot-time key blob into buf once and returns its length (docs/identity.md);
 * -ENOENT when there is none or it was taken, -EINVAL when len is too small. */
long nx_keyblob_take(void *buf, size_t len);
/* len (<= NEXUS_ENTROPY_MAX) random bytes from the kernel's RNG device; -ENODEV without one. */
long nx_entropy(void *buf, size_t len);
/* Moves the heap's break by delta bytes: the previous break, or -ENOMEM past the fiber's heap
 * grant. Apps use malloc (picolibc, over sbrk in lib/rt/heap.c), not this. */
long nx_heap(long delta);
/* Nanoseconds since the Unix epoch (boot RTC reading + monotonic time), or -ENODEV. */
long nx_realtime_ns(void);
/* The caller's writable file area (SYS_FILE_*, kernel/filestore.h). */
long nx_file_read(const char *name, uint64_t offset, void *buf, size_t len);
long nx_file_write(const char *name, uint64_t offset, const void *buf, size_t len);
long nx_file_ctl(int op, const char *name, uint64_t arg);
long nx_unix_doorbell(void);
long nx_unix_bind(const char *path, int type);
long nx_unix_listen(long name, unsigned backlog);
long nx_unix_connect(const char *path, int type, struct nexus_unix_conn *out, long from);
long nx_unix_accept(long name, struct nexus_unix_conn *out);
long nx_unix_close(int kind, long id);

#define NX_MS(n) ((uint64_t)(n) * 1000000ull)

#endif
