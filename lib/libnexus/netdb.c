/*
 * libnexus: getaddrinfo(3) and friends. Numeric hosts are converted here; names go to the
 * Membrane, whose lwIP resolver asks the DNS servers of the DHCP lease. Results come from a
 * small static pool that freeaddrinfo() returns to, so resolving needs no heap grant.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "libnexus.h"

#define POOL 16

struct ai_entry {
    struct addrinfo ai;
    struct sockaddr_storage addr;
    int used;
};

static struct ai_entry pool[POOL];

static struct ai_entry *entry_alloc(void) {
    for (int i = 0; i < POOL; i++) {
        if (!pool[i].used) {
            memset(&pool[i], 0, sizeof pool[i]);
            pool[i].used = 1;
            return &pool[i];
        }
    }
    return NULL;
}

void freeaddrinfo(struct addrinfo *res) {
    while (res) {
        struct addrinfo *next = res->ai_next;
        for (int i = 0; i < POOL; i++)
            if (&pool[i].ai == res)
                pool[i].used = 0;
        res = next;
    }
}

static int parse_port(const char *service, int flags, uint16_t *port) {
    if (!service) {
        *port = 0;
        return 0;
    }
    char *end;
    long v = strtol(service, &end, 10);
    if (*service && !*end && v >= 0 && v <= 65535) {
        *port = (uint16_t)v;
        return 0;
    }
    if (flags & AI_NUMERICSERV)
        return EAI_NONAME;
    static const struct {
        const char *name;
        uint16_t port;
    } known[] = {{"http", 80}, {"https", 443}, {"domain", 53}, {"echo", 7}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!strcmp(service, known[i].name)) {
            *port = known[i].port;
            return 0;
        }
    }
    return EAI_SERVICE;
}

/* One address (IPv4 in 4 bytes or IPv6 in 16) as a sockaddr of the right family. */
struct found {
    int family;
    uint8_t ip[16];
};

static int lookup(const char *node, int family, int flags, struct found *out) {
    if (!node) {
        out->family = family == AF_INET6 ? AF_INET6 : AF_INET;
        memset(out->ip, 0, 16);
        if (!(flags & AI_PASSIVE)) { /* loopback */
            if (out->family == AF_INET)
                out->ip[0] = 127, out->ip[3] = 1;
            else
                out->ip[15] = 1;
        }
        return 0;
    }
    if (family != AF_INET6 && inet_pton(AF_INET, node, out->ip) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (family != AF_INET && inet_pton(AF_INET6, node, out->ip) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    if (flags & AI_NUMERICHOST)
        return EAI_NONAME;
    if (!strcmp(node, "localhost")) {
        out->family = AF_INET;
        memcpy(out->ip, (const uint8_t[]){127, 0, 0, 1}, 4);
        return 0;
    }
    size_t len = strlen(node);
    if (len == 0 || len > 253)
        return EAI_NONAME;
    struct nxs_msg m = {.op = NXS_OP_RESOLVE, .sock = -1};
    m.arg[0] = (uint32_t)family;
    m.len = (uint32_t)len;
    struct nxs_addr a;
    /* Names are looked up by the IP family's service (the Membrane's DNS client). */
    long r = link_client_call(nxl_family(AF_INET)->backend, &m, node, (uint32_t)len, &a, sizeof a);
    if (r == -ENOENT || r == -EINVAL)
        return EAI_NONAME;
    if (r == -EAGAIN)
        return EAI_AGAIN;
    if (r < 0 || m.len < sizeof a) {
        errno = r < 0 ? (int)-r : EIO;
        return EAI_SYSTEM;
    }
    out->family = a.family;
    memcpy(out->ip, a.ip, 16);
    return 0;
}

static struct addrinfo *make_entry(const struct found *f, uint16_t port, int socktype, int protocol) {
    struct ai_entry *e = entry_alloc();
    if (!e)
        return NULL;
    e->ai.ai_family = f->family;
    e->ai.ai_socktype = socktype;
    e->ai.ai_protocol = protocol ? protocol : socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
    e->ai.ai_addr = (struct sockaddr *)&e->addr;
    if (f->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&e->addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, f->ip, 4);
        e->ai.ai_addrlen = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&e->addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, f->ip, 16);
        e->ai.ai_addrlen = sizeof *sin6;
    }
    return &e->ai;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int socktype = hints ? hints->ai_socktype : 0;
    int protocol = hints ? hints->ai_protocol : 0;
    int flags = hints ? hints->ai_flags : 0;
    if (!res || (!node && !service))
        return EAI_NONAME;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return EAI_FAMILY;
    if (socktype != 0 && socktype != SOCK_STREAM && socktype != SOCK_DGRAM)
        return EAI_SOCKTYPE;
    uint16_t port;
    int err = parse_port(service, flags, &port);
    if (err)
        return err;
    struct found f;
    err = lookup(node, family, flags, &f);
    if (err)
        return err;
    /* Without a socket type, one entry per type, as other C libraries answer. */
    static const int both[] = {SOCK_STREAM, SOCK_DGRAM};
    struct addrinfo *head = NULL, **tail = &head;
    for (int i = 0; i < 2; i++) {
        if (socktype && both[i] != socktype)
            continue;
        struct addrinfo *ai = make_entry(&f, port, both[i], protocol);
        if (!ai) {
            freeaddrinfo(head);
            return EAI_MEMORY;
        }
        *tail = ai;
        tail = &ai->ai_next;
    }
    *res = head;
    return 0;
}

int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv,
                socklen_t servlen, int flags) {
    (void)flags; /* names are always numeric: there is no reverse lookup */
    const void *ip;
    uint16_t port;
    if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        ip = &((const struct sockaddr_in *)sa)->sin_addr;
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    } else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        ip = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    } else {
        return EAI_FAMILY;
    }
    if (host && hostlen && !inet_ntop(sa->sa_family, ip, host, hostlen))
        return EAI_OVERFLOW;
    if (serv && servlen) {
        char text[8];
        int n = snprintf(text, sizeof text, "%u", port);
        if ((socklen_t)n >= servlen)
            return EAI_OVERFLOW;
        memcpy(serv, text, (size_t)n + 1);
    }
    return 0;
}
