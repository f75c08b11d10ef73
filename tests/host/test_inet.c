/*
 * Host tests for libnexus's address text conversion (membrane/libnexus/inet.c), held against
 * glibc's own implementation: the parsers must accept and reject exactly what glibc does, and
 * inet_ntop must print what glibc prints except for IPv4-compatible addresses, where RFC 5952
 * (and inet.c) use hex. inet.c is compiled into this file with every symbol prefixed nx_, so
 * both implementations live in one program.
 */
#define NX_INET_PREFIX nx_
#include "libnexus/inet.c"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* ---- seeded generator (xorshift64*), so a failure reproduces ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Prints the first few disagreements of a check so the FAIL line has context. */
static int report(int *count, const char *what, const char *input) {
    if ((*count)++ < 5)
        printf("  detail: %s for \"%s\"\n", what, input);
    return 0;
}

/* Both parsers on one string and family: same result, same bytes, dst untouched on failure. */
static int pton_agrees(int af, const char *s, int *bad) {
    uint8_t mine[16], theirs[16];
    memset(mine, 0xa5, sizeof mine);
    memset(theirs, 0xa5, sizeof theirs);
    int rm = nx_inet_pton(af, s, mine);
    int rt = inet_pton(af, s, theirs);
    if (rm != rt)
        return report(bad, af == AF_INET ? "pton4 result differs" : "pton6 result differs", s);
    if (memcmp(mine, theirs, sizeof mine) != 0)
        return report(bad, "pton bytes differ", s);
    return 1;
}

/* ---- inet_pton tables ---- */

struct pton_case {
    const char *text;
    int ok; /* what glibc and we must answer */
};

static const struct pton_case v4_cases[] = {
    { "0.0.0.0", 1 },        { "1.2.3.4", 1 },         { "255.255.255.255", 1 },
    { "10.0.2.15", 1 },      { "127.0.0.1", 1 },       { "192.168.100.200", 1 },
    { "01.2.3.4", 0 },       { "1.2.3.04", 0 },        { "00.1.1.1", 0 },
    { "000.0.0.0", 0 },      { "256.1.1.1", 0 },       { "1.2.3.256", 0 },
    { "1.2.3.1000", 0 },     { "1.2.3", 0 },           { "1.2", 0 },
    { "1", 0 },              { "1.2.3.4.5", 0 },       { "1.2.3.4.", 0 },
    { ".1.2.3.4", 0 },       { "1..2.3", 0 },          { "1.2.3.", 0 },
    { "", 0 },               { " 1.2.3.4", 0 },        { "1.2.3.4 ", 0 },
    { "1.2.3.4\n", 0 },      { "1.2.3.4x", 0 },        { "0x1.2.3.4", 0 },
    { "+1.2.3.4", 0 },       { "-1.2.3.4", 0 },        { "1.-2.3.4", 0 },
    { "1.2.3.4/24", 0 },     { "::1", 0 },             { "1.2.3.a", 0 },
    { "4294967295", 0 },     { "99999999999999999999.1.1.1", 0 },
    { "1.2.3.0000000000000000000000004", 0 },           { "\xc3\xa9.1.1.1", 0 },
};

static const struct pton_case v6_cases[] = {
    { "::", 1 },
    { "::1", 1 },
    { "1::", 1 },
    { "1:2:3:4:5:6:7:8", 1 },
    { "1:2:3:4:5:6:7::", 1 },
    { "::2:3:4:5:6:7:8", 1 },
    { "1::8", 1 },
    { "2001:db8::ff00:42:8329", 1 },
    { "2001:DB8:0:0:8:800:200C:417A", 1 },
    { "fe80::1", 1 },
    { "FFFF:ffff:FfFf:fFfF:ffff:ffff:ffff:ffff", 1 },
    { "0000:0000:0000:0000:0000:0000:0000:0000", 1 },
    { "0000::1", 1 },
    { "::ffff:1.2.3.4", 1 },
    { "::1.2.3.4", 1 },
    { "1:2:3:4:5:6:1.2.3.4", 1 },
    { "1:2:3:4:5::1.2.3.4", 1 },
    { "1::1.2.3.4", 1 },
    { "::0:0:0:0:0:0:0", 1 },
    { "0:0:0:0:0:0:0::", 1 },
    { "::1:2.3.4.5", 1 },
    { ":::", 0 },
    { "", 0 },
    { ":", 0 },
    { ":1", 0 },
    { "1:", 0 },
    { ":1::2", 0 },
    { "1::2:", 0 },
    { "1::2::3", 0 },
    { "1:::2", 0 },
    { "::1::", 0 },
    { "1:2:3:4:5:6:7:8:9", 0 },
    { "1:2:3:4:5:6:7", 0 },
    { "1:2:3:4:5:6:7:8::", 0 },
    { "::1:2:3:4:5:6:7:8", 0 },
    { "1:2:3:4::5:6:7:8", 0 },
    { "00000::1", 0 },
    { "12345::1", 0 },
    { "g::1", 0 },
    { "1.2.3.4", 0 },
    { "1.2.3.4::", 0 },
    { "::1.2.3.4:5", 0 },
    { "::1.2.3", 0 },
    { "::1.2.3.4.5", 0 },
    { "::ffff:01.2.3.4", 0 },
    { "::ffff:256.1.1.1", 0 },
    { "::ffff:1.2.3.4x", 0 },
    { "1:2:3:4:5:6:7:1.2.3.4", 0 },
    { "1:2:3:4:5:6::1.2.3.4", 0 },
    { "::a.2.3.4", 0 },
    { "::.1.2.3", 0 },
    { ":: ", 0 },
    { " ::", 0 },
    { "::1 ", 0 },
    { "::1%eth0", 0 },
    { "[::1]", 0 },
    { "::1/128", 0 },
    { "1:2:3:4:5:6:7:8:", 0 },
    { ":1:2:3:4:5:6:7:8", 0 },
    { "0x1::", 0 },
};

static void test_pton_tables(void) {
    int bad = 0, wrong = 0;
    for (size_t i = 0; i < sizeof v4_cases / sizeof v4_cases[0]; i++) {
        uint8_t b[16];
        pton_agrees(AF_INET, v4_cases[i].text, &bad);
        pton_agrees(AF_INET6, v4_cases[i].text, &bad);
        if (nx_inet_pton(AF_INET, v4_cases[i].text, b) != v4_cases[i].ok)
            report(&wrong, "unexpected pton4 result", v4_cases[i].text);
    }
    CHECK("pton4_table_agrees_with_glibc", bad == 0);
    CHECK("pton4_table_expected", wrong == 0);

    bad = wrong = 0;
    for (size_t i = 0; i < sizeof v6_cases / sizeof v6_cases[0]; i++) {
        uint8_t b[16];
        pton_agrees(AF_INET6, v6_cases[i].text, &bad);
        pton_agrees(AF_INET, v6_cases[i].text, &bad);
        if (nx_inet_pton(AF_INET6, v6_cases[i].text, b) != v6_cases[i].ok)
            report(&wrong, "unexpected pton6 result", v6_cases[i].text);
    }
    CHECK("pton6_table_agrees_with_glibc", bad == 0);
    CHECK("pton6_table_expected", wrong == 0);
}

static void test_pton_values(void) {
    uint8_t b[16];
    static const uint8_t v4[4] = { 192, 168, 1, 254 };
    CHECK("pton4_value", nx_inet_pton(AF_INET, "192.168.1.254", b) == 1 && memcmp(b, v4, 4) == 0);
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    CHECK("pton6_value", nx_inet_pton(AF_INET6, "2001:db8::1", b) == 1 && memcmp(b, v6, 16) == 0);
    static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 2, 15 };
    CHECK("pton6_mapped_value",
          nx_inet_pton(AF_INET6, "::ffff:10.0.2.15", b) == 1 && memcmp(b, mapped, 16) == 0);
    errno = 0;
    CHECK("pton_bad_family", nx_inet_pton(AF_UNIX, "1.2.3.4", b) == -1 && errno == EAFNOSUPPORT);
}

/* Random strings over the characters that matter to the grammars, plus random edits of valid
 * addresses (which land near the boundaries more often than pure noise does). */
static void random_address_text(char *s, size_t room) {
    static const char alphabet[] = "0123456789abcdefABCDEF:::...xX 0000ffff12";
    size_t len = rnd() % (room - 1);
    if (rnd() % 2) {
        uint8_t a[16];
        for (int i = 0; i < 16; i++)
            a[i] = (rnd() % 3) ? 0 : (uint8_t)rnd();
        const char *t = (rnd() % 4) ? inet_ntop(AF_INET6, a, s, (socklen_t)room)
                                    : inet_ntop(AF_INET, a, s, (socklen_t)room);
        len = strlen(t);
        for (int edits = (int)(rnd() % 3); edits > 0 && len > 0; edits--) {
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: /* replace */
                s[at] = alphabet[rnd() % (sizeof alphabet - 1)];
                break;
            case 1: /* delete */
                memmove(s + at, s + at + 1, len - at);
                len--;
                break;
            default: /* insert */
                if (len + 2 < room) {
                    memmove(s + at + 1, s + at, len - at + 1);
                    s[at] = alphabet[rnd() % (sizeof alphabet - 1)];
                    len++;
                }
            }
        }
        s[len] = '\0';
        return;
    }
    for (size_t i = 0; i < len; i++)
        s[i] = alphabet[rnd() % (sizeof alphabet - 1)];
    s[len] = '\0';
}

static void test_pton_random(void) {
    int bad = 0;
    char s[64];
    long accepted = 0;
    for (int i = 0; i < 300000; i++) {
        random_address_text(s, sizeof s);
        pton_agrees(AF_INET, s, &bad);
        pton_agrees(AF_INET6, s, &bad);
        uint8_t b[16];
        accepted += nx_inet_pton(AF_INET6, s, b) == 1;
    }
    printf("  random pton: 300000 strings, %ld valid IPv6\n", accepted);
    CHECK("pton_random_agrees_with_glibc", bad == 0 && accepted > 1000);
}

/* ---- inet_ntop ---- */

struct ntop_case {
    uint8_t addr[16];
    const char *text;
};

static const struct ntop_case v6_text[] = {
    { { 0 }, "::" },
    { { [15] = 1 }, "::1" },
    { { [0] = 0, [1] = 1 }, "1::" },
    { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, "2001:db8::1" },
    /* RFC 5952 4.2.2: a single zero group is not compressed. */
    { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 }, "2001:db8:0:1:1:1:1:1" },
    /* 4.2.3: the longest run wins; the first of equal runs wins. */
    { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 }, "2001:db8::1:0:0:1" },
    { { 0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, "2001:0:0:1::1" },
    { { 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0 }, "1::1:0:0:1:0" },
    /* 4.1 and 4.3: no leading zeros, lowercase. */
    { { 0x00, 0x0a, 0x0b, 0xcd, 0xef, 0x00, 0x00, 0xff, 0x0f, 0xff, 0xab, 0xcd, 0x12, 0x34, 0x00,
        0x10 },
      "a:bcd:ef00:ff:fff:abcd:1234:10" },
    { { 0xfe, 0x80, [14] = 0x12, [15] = 0x34 }, "fe80::1234" },
    { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
      "102:304:506:708:90a:b0c:d0e:f10" },
    /* Section 5: IPv4-mapped in mixed notation. */
    { { [10] = 0xff, [11] = 0xff, [12] = 192, [13] = 0, [14] = 2, [15] = 128 },
      "::ffff:192.0.2.128" },
    { { [10] = 0xff, [11] = 0xff }, "::ffff:0.0.0.0" },
    /* IPv4-compatible (deprecated): hex, where glibc prints "::1.2.3.4". */
    { { [12] = 1, [13] = 2, [14] = 3, [15] = 4 }, "::102:304" },
    /* Neither mapped nor special. */
    { { [9] = 0xff, [10] = 0xff, [11] = 0xff, [15] = 1 }, "::ff:ffff:0:1" },
    { { [8] = 0xff, [9] = 0xff, [15] = 1 }, "::ffff:0:0:1" },
};

static int is_v4_compatible(const uint8_t a[16]) {
    static const uint8_t zero[12];
    return memcmp(a, zero, 12) == 0 && (a[12] | a[13]) != 0;
}

static void test_ntop_tables(void) {
    char buf[INET6_ADDRSTRLEN];
    int wrong = 0;
    for (size_t i = 0; i < sizeof v6_text / sizeof v6_text[0]; i++) {
        const char *t = nx_inet_ntop(AF_INET6, v6_text[i].addr, buf, sizeof buf);
        if (!t || strcmp(t, v6_text[i].text) != 0)
            report(&wrong, t ? t : "(null)", v6_text[i].text);
    }
    CHECK("ntop6_rfc5952_table", wrong == 0);

    static const uint8_t v4s[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 10, 0, 2, 15 },
                                      { 1, 20, 100, 9 } };
    static const char *v4_text[] = { "0.0.0.0", "255.255.255.255", "10.0.2.15", "1.20.100.9" };
    wrong = 0;
    for (size_t i = 0; i < 4; i++) {
        const char *t = nx_inet_ntop(AF_INET, v4s[i], buf, sizeof buf);
        if (!t || strcmp(t, v4_text[i]) != 0)
            report(&wrong, t ? t : "(null)", v4_text[i]);
    }
    CHECK("ntop4_table", wrong == 0);

    /* The deliberate difference, pinned so a glibc change (or ours) is noticed. */
    static const uint8_t compat[16] = { [12] = 1, [13] = 2, [14] = 3, [15] = 4 };
    char glibc_text[INET6_ADDRSTRLEN];
    CHECK("ntop6_v4_compatible_differs_from_glibc_only_in_form",
          inet_ntop(AF_INET6, compat, glibc_text, sizeof glibc_text) &&
              strcmp(glibc_text, "::1.2.3.4") == 0 &&
              strcmp(nx_inet_ntop(AF_INET6, compat, buf, sizeof buf), "::102:304") == 0);
}

/* A random address with runs of zero groups (or zero bytes) of every length. */
static void random_address(uint8_t a[16]) {
    int mode = (int)(rnd() % 4);
    for (int i = 0; i < 16; i += 2) {
        int zero = mode == 0 ? 0 : mode == 1 ? rnd() % 2 : rnd() % 4 != 0;
        a[i] = zero ? 0 : (uint8_t)rnd();
        a[i + 1] = zero ? 0 : (uint8_t)rnd();
    }
    if (rnd() % 16 == 0) { /* now and then an IPv4-mapped one */
        memset(a, 0, 10);
        a[10] = a[11] = 0xff;
    }
}

static void test_ntop_random(void) {
    int bad = 0, roundtrip_bad = 0;
    long compat = 0;
    for (int i = 0; i < 200000; i++) {
        uint8_t a[16], back[16];
        char mine[INET6_ADDRSTRLEN], theirs[INET6_ADDRSTRLEN];
        random_address(a);
        nx_inet_ntop(AF_INET6, a, mine, sizeof mine);
        inet_ntop(AF_INET6, a, theirs, sizeof theirs);
        if (is_v4_compatible(a))
            compat++;
        else if (strcmp(mine, theirs) != 0)
            report(&bad, mine, theirs);
        if (nx_inet_pton(AF_INET6, mine, back) != 1 || memcmp(a, back, 16) != 0)
            report(&roundtrip_bad, "ntop6 text does not parse back", mine);

        nx_inet_ntop(AF_INET, a, mine, sizeof mine);
        inet_ntop(AF_INET, a, theirs, sizeof theirs);
        if (strcmp(mine, theirs) != 0)
            report(&bad, mine, theirs);
        if (nx_inet_pton(AF_INET, mine, back) != 1 || memcmp(a, back, 4) != 0)
            report(&roundtrip_bad, "ntop4 text does not parse back", mine);
    }
    printf("  random ntop: 200000 addresses, %ld IPv4-compatible not compared\n", compat);
    CHECK("ntop_random_agrees_with_glibc", bad == 0);
    CHECK("ntop_pton_roundtrip", roundtrip_bad == 0);
}

static void test_ntop_limits(void) {
    static const uint8_t longest[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
    char buf[64];
    memset(buf, 'q', sizeof buf);
    errno = 0;
    /* 39 characters need 40 bytes; 39 must fail and leave the buffer alone. */
    CHECK("ntop6_enospc", nx_inet_ntop(AF_INET6, longest, buf, 39) == NULL && errno == ENOSPC &&
                              buf[0] == 'q' && buf[38] == 'q');
    CHECK("ntop6_exact_fit", nx_inet_ntop(AF_INET6, longest, buf, 40) == buf &&
                                 strlen(buf) == 39 && buf[40] == 'q');
    static const uint8_t v4[4] = { 255, 255, 255, 255 };
    errno = 0;
    CHECK("ntop4_enospc",
          nx_inet_ntop(AF_INET, v4, buf, 15) == NULL && errno == ENOSPC &&
              nx_inet_ntop(AF_INET, v4, buf, INET_ADDRSTRLEN) == buf);
    errno = 0;
    CHECK("ntop_size_zero", nx_inet_ntop(AF_INET, v4, buf, 0) == NULL && errno == ENOSPC);
    errno = 0;
    CHECK("ntop_bad_family",
          nx_inet_ntop(AF_UNIX, v4, buf, sizeof buf) == NULL && errno == EAFNOSUPPORT);
}

/* ---- inet_aton, inet_addr, inet_ntoa ---- */

static const char *aton_cases[] = {
    "1.2.3.4", "0", "1", "4294967295", "4294967296", "0xffffffff", "0x100000000",
    "037777777777", "040000000000", "1.16777215", "1.16777216", "1.2.65535", "1.2.65536",
    "1.2.3.255", "1.2.3.256", "01.02.03.04", "08.1.1.1", "0x.1.1.1", "0x", "0X1F.0.0.1",
    "1.0xffffff", "1.2.0xffff", "1.2.3.0xff", "1.2.3.0x100", "1.2.3.4.", "1.2.3.4.5", "1.",
    ".1", "", " ", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4 junk", "1.2.3.4\tx", "1.2.3.4\n",
    "1.2.3.4\v", "1.2.3.4x", "1.2.3.4\xc3\xa9", "-1", "+1", "1.-2", "1 2",
    "99999999999999999999", "00000000000000000000000000001", "0x000000000000000ff",
    "1..2", "255.255.255.255", "127.1", "0xg", "0x1g", "019", "0777.0.0.1",
};

static int aton_agrees(const char *s, int *bad) {
    struct in_addr mine = { 0x5a5a5a5a }, theirs = { 0x5a5a5a5a };
    int rm = nx_inet_aton(s, &mine);
    int rt = inet_aton(s, &theirs);
    if (rm != rt || mine.s_addr != theirs.s_addr)
        return report(bad, "inet_aton differs", s);
    if (nx_inet_addr(s) != inet_addr(s))
        return report(bad, "inet_addr differs", s);
    return 1;
}

static void test_aton(void) {
    int bad = 0;
    for (size_t i = 0; i < sizeof aton_cases / sizeof aton_cases[0]; i++)
        aton_agrees(aton_cases[i], &bad);
    CHECK("aton_table_agrees_with_glibc", bad == 0);

    bad = 0;
    static const char alphabet[] = "0123456789abcdefxX.. \t-+";
    char s[40];
    for (int i = 0; i < 300000; i++) {
        size_t len = rnd() % (sizeof s - 1);
        for (size_t j = 0; j < len; j++)
            s[j] = alphabet[rnd() % (sizeof alphabet - 1)];
        s[len] = '\0';
        aton_agrees(s, &bad);
    }
    CHECK("aton_random_agrees_with_glibc", bad == 0);

    struct in_addr a;
    CHECK("aton_value", nx_inet_aton("10.0.2.15", &a) == 1 && a.s_addr == htonl(0x0a00020f));
    CHECK("aton_short_forms", nx_inet_addr("127.1") == htonl(0x7f000001) &&
                                  nx_inet_addr("10.65535") == htonl(0x0a00ffff) &&
                                  nx_inet_addr("0x7f.0.0.010") == htonl(0x7f000008));
    CHECK("aton_null_destination", nx_inet_aton("1.2.3.4", NULL) == 1 &&
                                       nx_inet_aton("1.2.3.x", NULL) == 0);
    CHECK("inet_addr_invalid_is_none", nx_inet_addr("300.1.1.1") == INADDR_NONE);
}

static void test_ntoa(void) {
    struct in_addr a = { htonl(0xc0a80001) }, b = { htonl(0xffffffff) };
    char *first = nx_inet_ntoa(a);
    int ok = strcmp(first, "192.168.0.1") == 0;
    char *second = nx_inet_ntoa(b);
    CHECK("ntoa", ok && strcmp(second, "255.255.255.255") == 0 && first == second);
    int bad = 0;
    for (int i = 0; i < 10000; i++) {
        struct in_addr r = { rnd() };
        char mine[INET_ADDRSTRLEN];
        strcpy(mine, nx_inet_ntoa(r));
        if (strcmp(mine, inet_ntoa(r)) != 0)
            report(&bad, "inet_ntoa differs", mine);
    }
    CHECK("ntoa_random_agrees_with_glibc", bad == 0);
}

static void test_constants(void) {
    CHECK("in6addr_any", memcmp(&nx_in6addr_any, &in6addr_any, 16) == 0);
    CHECK("in6addr_loopback", memcmp(&nx_in6addr_loopback, &in6addr_loopback, 16) == 0);
}

int main(void) {
    check_suite = "inet";
    test_pton_tables();
    test_pton_values();
    test_pton_random();
    test_ntop_tables();
    test_ntop_random();
    test_ntop_limits();
    test_aton();
    test_ntoa();
    test_constants();
    return check_exit();
}
