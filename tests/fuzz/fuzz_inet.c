/* libFuzzer target for membrane/libnexus/inet.c. Any byte string (NUL-terminated copy) must get
 * the same inet_pton (both families) and inet_aton answers from us as from glibc, and whatever
 * parses must print back (inet_ntop) to text that parses to the same address. The first 16
 * bytes, taken as an address, must print as glibc prints them (IPv4-compatible addresses
 * excepted: RFC 5952 hex by design) and round-trip too. inet.c is compiled in with an nx_
 * prefix so glibc's functions stay callable. */
#define NX_INET_PREFIX nx_
#include "libnexus/inet.c"
#include "fuzz_cstring.h"

#include <stdlib.h>

static void roundtrip(int af, const uint8_t *addr) {
    char text[INET6_ADDRSTRLEN];
    uint8_t back[16];
    size_t n = af == AF_INET ? 4 : 16;
    if (!nx_inet_ntop(af, addr, text, sizeof text))
        abort();
    if (nx_inet_pton(af, text, back) != 1 || memcmp(addr, back, n) != 0)
        abort();
}

static int v4_compatible(const uint8_t a[16]) {
    static const uint8_t zero[12];
    return memcmp(a, zero, 12) == 0 && (a[12] | a[13]) != 0;
}

static void check_text(const char *s) {
    static const int families[] = { AF_INET, AF_INET6 };
    for (int i = 0; i < 2; i++) {
        uint8_t mine[16] = { 0 }, theirs[16] = { 0 };
        int rm = nx_inet_pton(families[i], s, mine);
        if (rm != inet_pton(families[i], s, theirs) || memcmp(mine, theirs, sizeof mine) != 0)
            abort();
        if (rm == 1)
            roundtrip(families[i], mine);
    }
    struct in_addr a = { 0 }, b = { 0 };
    if (nx_inet_aton(s, &a) != inet_aton(s, &b) || a.s_addr != b.s_addr)
        abort();
}

static void check_address(const uint8_t a[16]) {
    char mine[INET6_ADDRSTRLEN], theirs[INET6_ADDRSTRLEN];
    nx_inet_ntop(AF_INET6, a, mine, sizeof mine);
    inet_ntop(AF_INET6, a, theirs, sizeof theirs);
    if (!v4_compatible(a) && strcmp(mine, theirs) != 0)
        abort();
    roundtrip(AF_INET6, a);
    roundtrip(AF_INET, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;
    check_text(s);
    if (size >= 16)
        check_address(data);
    free(s);
    return 0;
}
