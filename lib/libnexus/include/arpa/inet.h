/*
 * <arpa/inet.h> for Nexus apps: libnexus's header, placed ahead of picolibc's include directory.
 * It keeps picolibc's own <arpa/inet.h> (the htonl/htons/ntohl/ntohs macros) and adds the address
 * text conversions, implemented in membrane/libnexus/inet.c. As POSIX requires, it also makes
 * in_addr_t, in_port_t, struct in_addr and INET_ADDRSTRLEN/INET6_ADDRSTRLEN available.
 */
#ifndef NEXUS_ARPA_INET_H
#define NEXUS_ARPA_INET_H

#include_next <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if src is a valid address of family af (written to dst), 0 if not, -1 (EAFNOSUPPORT). */
int inet_pton(int af, const char *__restrict src, void *__restrict dst);
/* dst, or NULL with errno ENOSPC (size too small) or EAFNOSUPPORT. */
const char *inet_ntop(int af, const void *__restrict src, char *__restrict dst, socklen_t size);
/* The classic forms a.b.c.d, a.b.c, a.b and a, each part decimal, octal (0) or hex (0x). */
int inet_aton(const char *cp, struct in_addr *inp);
in_addr_t inet_addr(const char *cp); /* INADDR_NONE if invalid */
char *inet_ntoa(struct in_addr in);  /* a static buffer, overwritten by each call */

#ifdef __cplusplus
}
#endif

#endif
