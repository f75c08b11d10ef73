/*
 * gethostbyname(3) over getaddrinfo, for programs older than getaddrinfo (curl's configure
 * tests for it; rinetd-era code calls it). IPv4 only, as the interface is; one address, as
 * getaddrinfo gives one. The answer lives in static storage overwritten by the next call.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

int h_errno;

/* getaddrinfo's failures in h_errno's terms; anything else is the resolver failing. */
static const struct {
    int eai;
    int herr;
} eai_to_herr[] = {
    {EAI_NONAME, HOST_NOT_FOUND},
    {EAI_AGAIN, TRY_AGAIN},
    {EAI_FAMILY, NO_DATA},
};

static int herr_of(int eai) {
    for (size_t i = 0; i < sizeof eai_to_herr / sizeof eai_to_herr[0]; i++)
        if (eai_to_herr[i].eai == eai)
            return eai_to_herr[i].herr;
    return NO_RECOVERY;
}

struct hostent *gethostbyname(const char *name) {
    static char host_name[256];
    static struct in_addr address;
    static char *addr_list[2], *no_aliases[1];
    static struct hostent entry;
    if (!name) {
        h_errno = HOST_NOT_FOUND;
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int err = getaddrinfo(name, NULL, &hints, &res);
    if (err) {
        h_errno = herr_of(err);
        return NULL;
    }
    address = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    snprintf(host_name, sizeof host_name, "%s", name);
    addr_list[0] = (char *)&address;
    addr_list[1] = NULL;
    no_aliases[0] = NULL;
    entry = (struct hostent){.h_name = host_name, .h_aliases = no_aliases, .h_addrtype = AF_INET,
                             .h_length = sizeof address, .h_addr_list = addr_list};
    return &entry;
}

static const char *const herr_text[] = {
    [0] = "Resolver Error 0 (no error)",
    [HOST_NOT_FOUND] = "Unknown host",
    [TRY_AGAIN] = "Host name lookup failure",
    [NO_RECOVERY] = "Unknown server error",
    [NO_DATA] = "No address associated with name",
};

const char *hstrerror(int err) {
    if (err < 0 || (size_t)err >= sizeof herr_text / sizeof herr_text[0])
        return "Unknown resolver error";
    return herr_text[err];
}

void herror(const char *prefix) {
    if (prefix && *prefix)
        fprintf(stderr, "%s: %s\n", prefix, hstrerror(h_errno));
    else
        fprintf(stderr, "%s\n", hstrerror(h_errno));
}
