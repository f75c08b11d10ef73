/*
 * <netdb.h> for Nexus apps: libnexus's header, placed ahead of picolibc's include directory
 * (which has none). Name resolution goes to the Membrane's DNS client; getaddrinfo, freeaddrinfo
 * and getnameinfo live in lib/libnexus/netdb.c with the socket calls, gai_strerror in
 * lib/libnexus/netdb_util.c, gethostbyname and h_errno over getaddrinfo in
 * lib/libnexus/hostent.c. Structure layouts and constants are glibc's on riscv64 Linux,
 * including the negative EAI_ codes.
 */
#ifndef NEXUS_NETDB_H
#define NEXUS_NETDB_H

#include <netinet/in.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct addrinfo *ai_next;
};

/* ai_flags */
#define AI_PASSIVE 0x0001
#define AI_CANONNAME 0x0002
#define AI_NUMERICHOST 0x0004
#define AI_V4MAPPED 0x0008
#define AI_ALL 0x0010
#define AI_ADDRCONFIG 0x0020
#define AI_NUMERICSERV 0x0400

/* getaddrinfo and getnameinfo results (0 is success) */
#define EAI_BADFLAGS (-1)
#define EAI_NONAME (-2)
#define EAI_AGAIN (-3)
#define EAI_FAIL (-4)
#define EAI_FAMILY (-6)
#define EAI_SOCKTYPE (-7)
#define EAI_SERVICE (-8)
#define EAI_MEMORY (-10)
#define EAI_SYSTEM (-11) /* see errno */
#define EAI_OVERFLOW (-12)

/* getnameinfo */
#define NI_MAXHOST 1025
#define NI_MAXSERV 32
#define NI_NUMERICHOST 1
#define NI_NUMERICSERV 2
#define NI_NOFQDN 4
#define NI_NAMEREQD 8
#define NI_DGRAM 16

struct hostent {
    char *h_name;
    char **h_aliases;
    int h_addrtype;
    int h_length;
    char **h_addr_list;
};
#define h_addr h_addr_list[0]

int getaddrinfo(const char *__restrict node, const char *__restrict service,
                const struct addrinfo *__restrict hints, struct addrinfo **__restrict res);
void freeaddrinfo(struct addrinfo *res);
const char *gai_strerror(int code);
int getnameinfo(const struct sockaddr *__restrict sa, socklen_t salen, char *__restrict host,
                socklen_t hostlen, char *__restrict serv, socklen_t servlen, int flags);
/* gethostbyname: IPv4 only, one address; the result is static and the next call reuses it.
 * Failures set h_errno (a plain global: a fiber has one thread). */
struct hostent *gethostbyname(const char *name);
extern int h_errno;
#define HOST_NOT_FOUND 1 /* no such name (NXDOMAIN) */
#define TRY_AGAIN 2      /* no answer in time; may work later */
#define NO_RECOVERY 3    /* the resolver failed */
#define NO_DATA 4        /* the name exists without an IPv4 address */
#define NO_ADDRESS NO_DATA
const char *hstrerror(int err);
void herror(const char *prefix); /* "prefix: text" on stderr */

#ifdef __cplusplus
}
#endif

#endif
