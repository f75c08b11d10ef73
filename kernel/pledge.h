/*
 * Pledge: the promise classes a fiber may use, in the OpenBSD manner (DESIGN.md invariant 5).
 * A fiber starts with the promises its manifest entry names and may only narrow them. The
 * syscall gate (syscall.c) holds the table syscall -> promise; this file holds the names.
 * Portable C: the host tests and a fuzz target compile it too.
 */
#ifndef NEXUS_PLEDGE_H
#define NEXUS_PLEDGE_H

#include <stddef.h>
#include <stdint.h>

enum promise {
    PROMISE_STDIO = 1u << 0, /* console, clock, sleep, identity, channels 0..31 */
    PROMISE_RBUS = 1u << 1,  /* read /Bus */
    PROMISE_WBUS = 1u << 2,  /* publish into /Bus */
    PROMISE_NET = 1u << 3,   /* a NetSwitch port: raw frames on ION rings */
    PROMISE_INET = 1u << 4,  /* socket links to the Membrane (AF_INET, AF_INET6 sockets) */
    PROMISE_LWF = 1u << 5,   /* links to the LWF service (AF_LWF sockets) */
    PROMISE_UTCP = 1u << 6,  /* links to the UTCP service (AF_UTCP sockets) */
    PROMISE_KEYBLOB = 1u << 7, /* take the boot-time key blob (docs/identity.md): the signer only */
    PROMISE_SIGN = 1u << 8,    /* links to the signer (nexus/signproto.h): the LWF service only */
    PROMISE_UNIX = 1u << 9,    /* AF_UNIX names, connections and their doorbells (docs/unix.md) */
};
#define PROMISE_ALL 0x3ffu

#define PLEDGE_TEXT_MAX 64 /* longest promise list accepted, NUL included */

/* Parses promise names separated by spaces or commas ("stdio inet") into bits. An empty text
 * is the empty pledge. 0, or -EINVAL for an unknown name or a text of PLEDGE_TEXT_MAX bytes
 * or more. */
int pledge_parse(const char *text, uint32_t *out);
/* The name of one promise bit, or "?" for anything else. */
const char *promise_name(uint32_t bit);
/* Writes the names of the promises in mask, space separated, into buf (truncated to len). */
void pledge_format(uint32_t mask, char *buf, size_t len);

#endif
