/*
 * <netinet/tcp.h> for Nexus apps: libnexus's header, placed ahead of picolibc's include directory
 * (which has none). TCP-level socket options (level IPPROTO_TCP) with Linux's values; setsockopt
 * and getsockopt live in membrane/libnexus/ and pass them to the Membrane's lwIP.
 */
#ifndef NEXUS_NETINET_TCP_H
#define NEXUS_NETINET_TCP_H

#define TCP_NODELAY 1
#define TCP_KEEPIDLE 4  /* seconds idle before the first probe */
#define TCP_KEEPINTVL 5 /* seconds between probes */
#define TCP_KEEPCNT 6   /* probes before the connection is dropped */

#endif
