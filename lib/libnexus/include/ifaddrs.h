/*
 * <ifaddrs.h> for Nexus apps (picolibc has none): the interfaces the Membrane publishes in /Bus
 * (lib/libnexus/ifaddrs.c). A listener bound to an interface by name (mosquitto's
 * `bind_interface`) finds its address here.
 */
#ifndef NEXUS_IFADDRS_H
#define NEXUS_IFADDRS_H

#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ifaddrs {
    struct ifaddrs *ifa_next;
    char *ifa_name;
    unsigned int ifa_flags; /* IFF_* (<net/if.h>) */
    struct sockaddr *ifa_addr;
    struct sockaddr *ifa_netmask;
    struct sockaddr *ifa_broadaddr; /* NULL here */
    void *ifa_data;
};

int getifaddrs(struct ifaddrs **list);
void freeifaddrs(struct ifaddrs *list);

#ifdef __cplusplus
}
#endif

#endif
