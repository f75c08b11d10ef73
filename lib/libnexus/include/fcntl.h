/*
 * <fcntl.h> for Nexus apps: picolibc's, plus O_ASYNC, the POSIX/Linux name picolibc only has as
 * FASYNC: fcntl(F_SETFL, O_ASYNC) with fcntl(F_SETOWN, getpid()) asks for SIGIO when a socket
 * becomes ready (lib/libnexus/sigio.c, docs/signals.md).
 */
#ifndef NEXUS_FCNTL_H
#define NEXUS_FCNTL_H

#include_next <fcntl.h>

#ifndef O_ASYNC
#define O_ASYNC _FASYNC
#endif

#endif
