/*
 * Name lookups (NXS_OP_RESOLVE) through lwIP's DNS client. The request's reply is deferred
 * until DNS answers; the lookup remembers the link and slot to answer in. At most MAX_LOOKUPS
 * at once; past that the app hears EAGAIN.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "link/server.h"
#include "lwip/dns.h"
#include "sockets.h"

#define MAX_LOOKUPS 8

static struct lookup {
    int busy;
    unsigned link;
    uint32_t slot;
    struct nxs_msg msg;
} lookups[MAX_LOOKUPS];

static void finish(struct lookup *q, const ip_addr_t *ip) {
    struct nxs_msg *m = &q->msg;
    if (!ip) {
        m->result = -ENOENT;
        m->len = 0;
    } else {
        struct nxs_addr a;
        from_ip(ip, 0, IP_IS_V4(ip) ? AF_INET : AF_INET6, &a);
        memcpy(link_server_slot_data(q->link, q->slot), &a, sizeof a);
        m->len = sizeof a;
        m->result = 1;
    }
    link_server_complete(q->link, q->slot, m);
    q->busy = 0;
}

static void on_found(const char *name, const ip_addr_t *ip, void *arg) {
    (void)name;
    struct lookup *q = arg;
    if (q->busy)
        finish(q, ip);
}

long dns_resolve(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data) {
    char name[DNS_MAX_NAME_LENGTH];
    if (m->len == 0 || m->len >= sizeof name)
        return -EINVAL;
    memcpy(name, data, m->len);
    name[m->len] = 0;
    if (memchr(name, 0, m->len))
        return -EINVAL;
    struct lookup *q = NULL;
    for (int i = 0; i < MAX_LOOKUPS && !q; i++)
        if (!lookups[i].busy)
            q = &lookups[i];
    if (!q)
        return -EAGAIN;
    u8_t type = m->arg[0] == AF_INET6  ? LWIP_DNS_ADDRTYPE_IPV6
                : m->arg[0] == AF_INET ? LWIP_DNS_ADDRTYPE_IPV4
                                       : LWIP_DNS_ADDRTYPE_IPV4_IPV6;
    ip_addr_t ip;
    *q = (struct lookup){.busy = 1, .link = link, .slot = slot, .msg = *m};
    err_t e = dns_gethostbyname_addrtype(name, &ip, on_found, q, type);
    if (e == ERR_INPROGRESS)
        return LINK_DEFERRED;
    if (e == ERR_OK) {
        finish(q, &ip); /* known already: answered at once, through the same path */
        return LINK_DEFERRED;
    }
    q->busy = 0;
    return e == ERR_VAL ? -EAGAIN : -ENOENT; /* ERR_VAL: no DNS server known yet */
}

void dns_forget(unsigned link) {
    for (unsigned q = 0; q < MAX_LOOKUPS; q++)
        if (lookups[q].link == link)
            lookups[q].busy = 0;
}
