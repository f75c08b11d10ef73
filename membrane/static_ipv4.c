#include "static_ipv4.h"

#include <stdio.h>
#include <string.h>

#include "ipv4_prefix.h"
#include "nexus.h"

#define KEY "ipv4="

static int active;

int static_ipv4_active(void) { return active; }

int static_ipv4_apply(struct netif *nic) {
    char args[256];
    if (nx_bus_get("/Bus/boot/bootargs", args, sizeof args) < 0) /* terminated, cut if long */
        return 0;
    for (const char *p = args; *p;) {
        size_t len = strcspn(p, " \t");
        if (len > strlen(KEY) && !strncmp(p, KEY, strlen(KEY))) {
            uint32_t a, m;
            if (ipv4_prefix_parse(p + strlen(KEY), len - strlen(KEY), &a, &m) != 0) {
                printf("membrane: bootargs \"%.*s\" is not ADDR/PREFIX; using DHCP\n", (int)len, p);
                return -1;
            }
            ip4_addr_t addr, mask;
            ip4_addr_set_u32(&addr, lwip_htonl(a));
            ip4_addr_set_u32(&mask, lwip_htonl(m));
            netif_set_addr(nic, &addr, &mask, IP4_ADDR_ANY4);
            active = 1;
            return 1;
        }
        p += len ? len : 1;
    }
    return 0;
}
