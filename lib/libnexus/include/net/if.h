/* <net/if.h> for Nexus apps (picolibc has none): the interface flags getifaddrs reports
 * (lib/libnexus/ifaddrs.c), Linux's values. No interface-index calls: a node has one NIC. */
#ifndef NEXUS_NET_IF_H
#define NEXUS_NET_IF_H

#define IF_NAMESIZE 16

#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_RUNNING 0x40

#endif
