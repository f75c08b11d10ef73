/*
 * libnexus: getifaddrs. A Nexus node has two interfaces, as the Membrane sees them: "lo"
 * (127.0.0.1/8, lwIP's loopback) and "eth0", the virtio-net device, with the IPv4 address and
 * mask of its DHCP lease and its IPv6 addresses, as the Membrane publishes them under
 * /Bus/net/ (membrane.c). Reading /Bus takes the rbus promise: an app without it that calls
 * getifaddrs breaks its pledge. Names are Linux's usual ones.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "libnexus.h"
#include "nexus.h"

#define BUS_VALUE_MAX 64

/* One list entry and everything it points to, in one allocation. */
struct ifaddrs_block {
    struct ifaddrs ifa;
    char name[IF_NAMESIZE];
    struct sockaddr_storage addr, netmask;
};

/* The address published at key, or 0 if none is ("none", or not published yet). Any
 * " (tentative)" after an IPv6 address ends the text inet_pton reads. */
static int bus_address(const char *key, int family, void *out) {
    char text[BUS_VALUE_MAX];
    long n = nx_bus_get(key, text, sizeof text - 1);
    if (n < 0)
        return 0;
    text[n < (long)sizeof text ? n : (long)sizeof text - 1] = 0;
    char *space = strchr(text, ' ');
    if (space)
        *space = 0;
    return inet_pton(family, text, out) == 1;
}

/* Adds an entry to the front of *list: 0, or -ENOMEM. */
static int add(struct ifaddrs **list, const char *name, unsigned flags, int family, const void *addr,
               const void *mask) {
    struct ifaddrs_block *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    strncpy(b->name, name, sizeof b->name - 1);
    b->ifa.ifa_name = b->name;
    b->ifa.ifa_flags = flags;
    b->ifa.ifa_addr = (struct sockaddr *)&b->addr;
    b->ifa.ifa_netmask = (struct sockaddr *)&b->netmask;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&b->addr, *m = (struct sockaddr_in *)&b->netmask;
        a->sin_family = m->sin_family = AF_INET;
        memcpy(&a->sin_addr, addr, sizeof a->sin_addr);
        memcpy(&m->sin_addr, mask, sizeof m->sin_addr);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&b->addr, *m = (struct sockaddr_in6 *)&b->netmask;
        a->sin6_family = m->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, addr, sizeof a->sin6_addr);
        memcpy(&m->sin6_addr, mask, sizeof m->sin6_addr);
    }
    b->ifa.ifa_next = *list;
    *list = &b->ifa;
    return 0;
}

static const char *const ipv6_keys[] = {"/Bus/net/ipv6/addr2", "/Bus/net/ipv6/addr1", "/Bus/net/ipv6/linklocal"};

/* eth0's entries, in reverse (they are added to the front). */
static int add_eth0(struct ifaddrs **list) {
    static const unsigned flags = IFF_UP | IFF_RUNNING; /* no broadcast address given: no IFF_BROADCAST */
    for (unsigned i = 0; i < sizeof ipv6_keys / sizeof ipv6_keys[0]; i++) {
        struct in6_addr a6, mask6;
        if (!bus_address(ipv6_keys[i], AF_INET6, &a6))
            continue;
        memset(&mask6, 0xff, 8); /* /64: SLAAC's and the link-local prefix */
        memset((char *)&mask6 + 8, 0, 8);
        int err = add(list, "eth0", flags, AF_INET6, &a6, &mask6);
        if (err)
            return err;
    }
    struct in_addr a4, mask4;
    if (bus_address("/Bus/net/ipv4/addr", AF_INET, &a4) && a4.s_addr != 0 &&
        bus_address("/Bus/net/ipv4/netmask", AF_INET, &mask4))
        return add(list, "eth0", flags, AF_INET, &a4, &mask4);
    return 0;
}

int getifaddrs(struct ifaddrs **out) {
    if (!out)
        return (int)nxl_result(-EFAULT);
    struct ifaddrs *list = NULL;
    struct in_addr lo = {htonl(INADDR_LOOPBACK)}, lo_mask = {htonl(0xff000000u)};
    int err = add_eth0(&list);
    if (!err)
        err = add(&list, "lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING, AF_INET, &lo, &lo_mask);
    if (err) {
        freeifaddrs(list);
        return (int)nxl_result(err);
    }
    *out = list;
    return 0;
}

void freeifaddrs(struct ifaddrs *list) {
    while (list) {
        struct ifaddrs *next = list->ifa_next;
        free(list); /* the block starts with its entry */
        list = next;
    }
}
