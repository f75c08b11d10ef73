/*
 * AF_UNIX names and connections (docs/unix.md). The kernel keeps a small namespace of bound
 * paths and, for each connection, the pages of its two lanes (nexus/unixlane.h), mapped into
 * both ends; it signals doorbells (one channel per fiber that uses AF_UNIX) and never reads what
 * flows. The syscalls are thin wrappers around these; every argument has been copied in already.
 */
#ifndef NEXUS_UNIX_H
#define NEXUS_UNIX_H

#include <stdint.h>

#include "nexus/syscall.h"

struct fiber;

/* The fiber's doorbell channel, made on first use (READ granted to it). Channel or -ENOSPC. */
long unix_doorbell(struct fiber *f);
/* path: NUL-terminated, 1..NEXUS_UNIX_PATH_MAX bytes. Name id, -EADDRINUSE, -EINVAL, -ENOSPC. */
long unix_bind(struct fiber *f, const char *path, unsigned type);
long unix_listen(struct fiber *f, long name, unsigned backlog);
/* Connection id, with *out filled for the caller; errors as SYS_UNIX_CONNECT says. from: the
 * caller's own name its peer will see (-1 none; -EBADF for another's). */
long unix_connect(struct fiber *f, const char *path, unsigned type, long from, struct nexus_unix_conn *out);
long unix_accept(struct fiber *f, long name, struct nexus_unix_conn *out);
long unix_close(struct fiber *f, long kind, long id);
/* A fiber ended: its names go, its ends of connections are shut (the peers read end of file)
 * and its doorbell is free again. */
void unix_fiber_gone(struct fiber *f);

#endif
