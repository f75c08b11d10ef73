/*
 * Address text conversion for libnexus: inet_pton, inet_ntop, inet_aton, inet_addr, inet_ntoa and
 * the in6addr_any/in6addr_loopback constants. Portable C with no Nexus dependency.
 *
 * What the parsers accept matches glibc exactly, so a program that validates addresses behaves
 * as it does on Linux; tests/host/test_inet.c and tests/fuzz/fuzz_inet.c hold the two side by
 * side. inet_ntop writes RFC 5952 text. Its one difference from glibc: IPv4-compatible addresses
 * (::a.b.c.d, deprecated by RFC 4291) print in hex ("::102:304"), because RFC 5952 keeps the
 * dotted form for prefixes that mark an embedded IPv4 address, i.e. ::ffff:a.b.c.d.
 *
 * The host tests compile this file with -DNX_INET_PREFIX=nx_ (or define it before including the
 * file) so both implementations can be linked into one program.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#ifdef NX_INET_PREFIX
#define NX_INET_CAT2(a, b) a##b
#define NX_INET_CAT(a, b) NX_INET_CAT2(a, b)
#define NAME(f) NX_INET_CAT(NX_INET_PREFIX, f)
#else
#define NAME(f) f
#endif

const struct in6_addr NAME(in6addr_any) = IN6ADDR_ANY_INIT;
const struct in6_addr NAME(in6addr_loopback) = IN6ADDR_LOOPBACK_INIT;

/* Digit value of c in base 8, 10 or 16, or -1. Not <ctype.h>: the result must not depend on
 * the locale. */
static int digit_value(char c, unsigned base) {
    int v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return v < (int)base ? v : -1;
}

/* The whitespace that may end an inet_aton string (the C locale's isspace). */
static int is_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* ---- inet_pton ---- */

/* Strict dotted quad filling all of s: four decimal parts 0..255, no leading zeros, nothing
 * else. Leading zeros are refused because other parsers read them as octal. */
static int pton4(const char *s, uint8_t out[4]) {
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return 0;
        const char *start = s;
        unsigned v = 0;
        for (; digit_value(*s, 10) >= 0; s++) {
            v = v * 10 + (unsigned)(*s - '0');
            if (v > 255)
                return 0;
        }
        if (s == start || (start[0] == '0' && s - start > 1))
            return 0;
        out[i] = (uint8_t)v;
    }
    return *s == '\0';
}

/*
 * RFC 4291 section 2.2 text: eight groups of 1-4 hex digits, at most one "::" standing for one
 * or more zero groups, and optionally a dotted quad (as in pton4) for the last two groups.
 */
static int pton6(const char *s, uint8_t out[16]) {
    uint16_t group[8];
    int n = 0;    /* groups parsed */
    int gap = -1; /* where "::" sits, as a group index */
    if (s[0] == ':') {
        if (s[1] != ':')
            return 0;
        gap = 0;
        s += 2;
        if (*s == '\0')
            goto expand;
    }
    for (;;) {
        int len = 0;
        while (digit_value(s[len], 16) >= 0)
            len++;
        if (s[len] == '.') {
            uint8_t v4[4];
            if (n > 6 || !pton4(s, v4))
                return 0;
            group[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            group[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            break;
        }
        if (len == 0 || len > 4 || n == 8)
            return 0;
        unsigned v = 0;
        for (int i = 0; i < len; i++)
            v = v << 4 | (unsigned)digit_value(s[i], 16);
        group[n++] = (uint16_t)v;
        s += len;
        if (*s == '\0')
            break;
        if (*s++ != ':')
            return 0;
        if (*s == ':') {
            if (gap >= 0)
                return 0;
            gap = n;
            if (*++s == '\0')
                break;
        } else if (*s == '\0') {
            return 0; /* a single trailing colon */
        }
    }
expand:
    if (gap < 0 ? n != 8 : n > 7) /* "::" must stand for at least one group */
        return 0;
    int zeros = 8 - n;
    for (int i = 0, j = 0; i < 8; i++) {
        uint16_t g = 0;
        if (gap < 0 || i < gap || i >= gap + zeros)
            g = group[j++];
        out[2 * i] = (uint8_t)(g >> 8);
        out[2 * i + 1] = (uint8_t)g;
    }
    return 1;
}

int NAME(inet_pton)(int af, const char *__restrict src, void *__restrict dst) {
    uint8_t buf[16];
    switch (af) {
    case AF_INET:
        if (!pton4(src, buf))
            return 0;
        memcpy(dst, buf, 4);
        return 1;
    case AF_INET6:
        if (!pton6(src, buf))
            return 0;
        memcpy(dst, buf, 16);
        return 1;
    default:
        errno = EAFNOSUPPORT;
        return -1;
    }
}

/* ---- inet_ntop ---- */

static char *put_dec8(char *p, unsigned v) {
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put_hex16(char *p, unsigned v) {
    static const char hex[] = "0123456789abcdef";
    int shift = 12;
    while (shift > 0 && (v >> shift) == 0) /* no leading zeros (RFC 5952 section 4.1) */
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = hex[(v >> shift) & 0xf];
    return p;
}

static char *ntop4(const uint8_t a[4], char *p) {
    for (int i = 0; i < 4; i++) {
        if (i > 0)
            *p++ = '.';
        p = put_dec8(p, a[i]);
    }
    return p;
}

/* RFC 5952 section 4: lowercase, no leading zeros, the longest run of two or more zero groups
 * (the first of equals) as "::", and section 5's ::ffff:a.b.c.d for IPv4-mapped addresses. */
static char *ntop6(const uint8_t a[16], char *p) {
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(a, mapped, sizeof mapped) == 0) {
        memcpy(p, "::ffff:", 7);
        return ntop4(a + 12, p + 7);
    }
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int zs = -1, zl = 0; /* the run to compress: start, length */
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i >= 2 && j - i > zl) {
            zs = i;
            zl = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == zs) {
            *p++ = ':';
            *p++ = ':';
            i += zl - 1;
            continue;
        }
        if (i > 0 && i != zs + zl)
            *p++ = ':';
        p = put_hex16(p, w[i]);
    }
    return p;
}

const char *NAME(inet_ntop)(int af, const void *__restrict src, char *__restrict dst,
                            socklen_t size) {
    char text[INET6_ADDRSTRLEN];
    char *end;
    switch (af) {
    case AF_INET:
        end = ntop4(src, text);
        break;
    case AF_INET6:
        end = ntop6(src, text);
        break;
    default:
        errno = EAFNOSUPPORT;
        return NULL;
    }
    size_t len = (size_t)(end - text);
    if (len >= size) {
        errno = ENOSPC;
        return NULL;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return dst;
}

/* ---- the classic IPv4 forms ---- */

/* One part of inet_aton's notation: a C integer constant (0x hex, leading 0 octal, otherwise
 * decimal) of at most 32 bits. Stops at the first character that is not a digit of the base. */
static int aton_part(const char **sp, uint32_t *out) {
    const char *s = *sp;
    unsigned base = 10;
    if (digit_value(*s, 10) < 0)
        return 0; /* no sign, no space: a part starts with a digit */
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (digit_value(s[2], 16) < 0)
            return 0; /* "0x" alone: the 'x' would be left over as junk anyway */
        base = 16;
        s += 2;
    } else if (s[0] == '0') {
        base = 8;
    }
    uint64_t v = 0;
    for (int d; (d = digit_value(*s, base)) >= 0; s++) {
        v = v * base + (unsigned)d;
        if (v > 0xffffffffu)
            return 0;
    }
    *out = (uint32_t)v;
    *sp = s;
    return 1;
}

/* a.b.c.d, a.b.c (c fills 16 bits), a.b (b fills 24 bits) or a (32 bits); whitespace may end the
 * string and anything after it is ignored, as in the BSD original. Host byte order. */
static int aton(const char *s, uint32_t *out) {
    static const uint32_t last_max[4] = { 0xffffffffu, 0xffffffu, 0xffffu, 0xffu };
    uint32_t parts[3];
    uint32_t v;
    int n = 0; /* parts before the last */
    for (;;) {
        if (!aton_part(&s, &v))
            return 0;
        if (*s != '.')
            break;
        if (n == 3 || v > 0xff)
            return 0;
        parts[n++] = v;
        s++;
    }
    if (*s != '\0' && !is_space(*s))
        return 0;
    if (v > last_max[n])
        return 0;
    for (int i = 0; i < n; i++)
        v |= parts[i] << (24 - 8 * i);
    *out = v;
    return 1;
}

int NAME(inet_aton)(const char *cp, struct in_addr *inp) {
    uint32_t v;
    if (!aton(cp, &v))
        return 0;
    if (inp)
        inp->s_addr = htonl(v);
    return 1;
}

in_addr_t NAME(inet_addr)(const char *cp) {
    uint32_t v;
    return aton(cp, &v) ? htonl(v) : INADDR_NONE;
}

char *NAME(inet_ntoa)(struct in_addr in) {
    static char text[INET_ADDRSTRLEN];
    uint8_t a[4];
    memcpy(a, &in.s_addr, 4);
    *ntop4(a, text) = '\0';
    return text;
}

/* The one place Nexus's headers are always compiled for the target: catch an ABI slip there. */
#ifdef NEXUS_SYS_SOCKET_H
#include <fcntl.h>
_Static_assert(sizeof(struct sockaddr_storage) == 128, "sockaddr_storage is 128 bytes");
_Static_assert(_Alignof(struct sockaddr_storage) == 8, "sockaddr_storage is 8-byte aligned");
_Static_assert(sizeof(struct sockaddr_in) == 16, "sockaddr_in as on Linux");
_Static_assert(sizeof(struct sockaddr_in6) == 28, "sockaddr_in6 as on Linux");
_Static_assert(sizeof(struct in6_addr) == 16, "in6_addr is 16 bytes");
_Static_assert(SOCK_NONBLOCK == O_NONBLOCK, "socket flags pass straight to fcntl");
_Static_assert(((SOCK_NONBLOCK | SOCK_CLOEXEC) & 0xf) == 0, "flags clear of the type bits");
#endif
