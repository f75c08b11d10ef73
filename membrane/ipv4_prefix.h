/* "A.B.C.D/N" as text, the form of the bootargs' ipv4= word (membrane/static_ipv4.h). Portable C
 * (host test tests/host/test_ipv4_prefix.c). */
#ifndef MEMBRANE_IPV4_PREFIX_H
#define MEMBRANE_IPV4_PREFIX_H

#include <stddef.h>
#include <stdint.h>

/* Parses exactly len bytes at s: four decimal parts 0..255 of at most three digits, then a
 * prefix length 1..32. 0 with *addr (host byte order) and *mask set, or -1. */
int ipv4_prefix_parse(const char *s, size_t len, uint32_t *addr, uint32_t *mask);

#endif
