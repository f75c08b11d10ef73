/*
 * <netinet/in.h> for Nexus apps: libnexus's header, placed ahead of picolibc's include directory
 * (which has none). Internet address types and constants with riscv64 Linux's layouts and values;
 * in6addr_any and in6addr_loopback are defined in membrane/libnexus/inet.c, the socket calls live
 * in membrane/libnexus/ as well. As on Linux, including this header alone makes htons() and
 * friends available.
 */
#ifndef NEXUS_NETINET_IN_H
#define NEXUS_NETINET_IN_H

#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same guards and types as picolibc's <sys/types.h>, which declares these under __BSD_VISIBLE. */
#ifndef _IN_ADDR_T_DECLARED
#define _IN_ADDR_T_DECLARED
typedef uint32_t in_addr_t;
#endif
#ifndef _IN_PORT_T_DECLARED
#define _IN_PORT_T_DECLARED
typedef uint16_t in_port_t;
#endif

struct in_addr {
    in_addr_t s_addr; /* network byte order */
};

struct in6_addr {
    union {
        uint8_t __s6_addr8[16];
        uint16_t __s6_addr16[8];
        uint32_t __s6_addr32[4];
    } __s6_u;
};
#define s6_addr __s6_u.__s6_addr8

struct sockaddr_in {
    sa_family_t sin_family;
    in_port_t sin_port; /* network byte order */
    struct in_addr sin_addr;
    unsigned char sin_zero[8];
};

struct sockaddr_in6 {
    sa_family_t sin6_family;
    in_port_t sin6_port; /* network byte order */
    uint32_t sin6_flowinfo;
    struct in6_addr sin6_addr;
    uint32_t sin6_scope_id;
};

#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define IPPROTO_ICMPV6 58
#define IPPROTO_RAW 255

/* Host byte order, as on Linux: compare against ntohl(addr.s_addr) or pass through htonl(). */
#define INADDR_ANY ((in_addr_t)0x00000000)
#define INADDR_BROADCAST ((in_addr_t)0xffffffff)
#define INADDR_NONE ((in_addr_t)0xffffffff)
#define INADDR_LOOPBACK ((in_addr_t)0x7f000001)

#define IN6ADDR_ANY_INIT { { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } } }
#define IN6ADDR_LOOPBACK_INIT { { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } }
extern const struct in6_addr in6addr_any;
extern const struct in6_addr in6addr_loopback;

#define INET_ADDRSTRLEN 16  /* "255.255.255.255" */
#define INET6_ADDRSTRLEN 46 /* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */

/* Options at level IPPROTO_IP and IPPROTO_IPV6. */
#define IP_TOS 1
#define IP_TTL 2
#define IPV6_V6ONLY 26

/* Address classes; `a` is a const struct in6_addr *. */
#define IN6_IS_ADDR_UNSPECIFIED(a)                                                             \
    ((a)->__s6_u.__s6_addr32[0] == 0 && (a)->__s6_u.__s6_addr32[1] == 0 &&                    \
     (a)->__s6_u.__s6_addr32[2] == 0 && (a)->__s6_u.__s6_addr32[3] == 0)
#define IN6_IS_ADDR_LOOPBACK(a)                                                                \
    ((a)->__s6_u.__s6_addr32[0] == 0 && (a)->__s6_u.__s6_addr32[1] == 0 &&                    \
     (a)->__s6_u.__s6_addr32[2] == 0 && (a)->s6_addr[12] == 0 && (a)->s6_addr[13] == 0 &&    \
     (a)->s6_addr[14] == 0 && (a)->s6_addr[15] == 1)
#define IN6_IS_ADDR_MULTICAST(a) ((a)->s6_addr[0] == 0xff)
#define IN6_IS_ADDR_LINKLOCAL(a) ((a)->s6_addr[0] == 0xfe && ((a)->s6_addr[1] & 0xc0) == 0x80)
#define IN6_IS_ADDR_SITELOCAL(a) ((a)->s6_addr[0] == 0xfe && ((a)->s6_addr[1] & 0xc0) == 0xc0)
#define IN6_IS_ADDR_V4MAPPED(a)                                                                \
    ((a)->__s6_u.__s6_addr32[0] == 0 && (a)->__s6_u.__s6_addr32[1] == 0 &&                    \
     (a)->s6_addr[8] == 0 && (a)->s6_addr[9] == 0 && (a)->s6_addr[10] == 0xff &&              \
     (a)->s6_addr[11] == 0xff)

#ifdef __cplusplus
}
#endif

/*
 * htonl/htons/ntohl/ntohs: picolibc's <arpa/inet.h> holds only these macros. include_next starts
 * the search after membrane/include, so it reaches picolibc's file rather than ours (which
 * includes this header and declares inet_pton and friends, which <netinet/in.h> should not).
 */
#include_next <arpa/inet.h>

#endif
