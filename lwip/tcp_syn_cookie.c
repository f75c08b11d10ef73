/*
 * SYN cookies (tcp_syn_cookie.h): the keyed hash, the encoding of an ISN and lwIP's ISN hook.
 * SipHash-2-4 is written here from its paper (Aumasson and Bernstein, 2012).
 */
#include "tcp_syn_cookie.h"

#include <stdbool.h>
#include <string.h>

#include "lwip/arch.h"
#include "lwip/opt.h"
#include "lwip/sys.h"

#define SLOT_BITS_SHIFT 2
#define MSS_MASK 0x3u
#define SLOT_MASK 0x3u
#define HASH_MASK 0xFFFFFFF0u
#define MESSAGE_MAX (2 * 16 + 2 + 2 + 4 + 4)

/* The MSS a cookie can say: RFC 879's default, then common sizes up to Ethernet's. The index of
 * the largest entry not above what the client announced goes into the cookie. */
static const uint16_t mss_table[] = {536, 1220, 1440, 1460};

static uint64_t key[2];
static bool keyed;
static uint32_t syn_isn;
static uint16_t syn_mss;
static struct {
    bool on;
    ip_addr_t local, remote;
    uint16_t local_port, remote_port;
    uint32_t iss;
} forced;

static uint64_t rotl(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

static void sipround(uint64_t v[4]) {
    v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
    v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
    v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
    v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

static uint64_t load_le64(const uint8_t *p) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static uint64_t siphash24(const uint8_t *m, size_t len) {
    uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
                     key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull};
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t w = load_le64(m + i);
        v[3] ^= w;
        sipround(v), sipround(v);
        v[0] ^= w;
    }
    uint8_t last[8] = {0};
    memcpy(last, m + whole, len - whole);
    last[7] = (uint8_t)len;
    uint64_t w = load_le64(last);
    v[3] ^= w;
    sipround(v), sipround(v);
    v[0] ^= w;
    v[2] ^= 0xff;
    sipround(v), sipround(v), sipround(v), sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void ensure_key(void) {
    if (keyed)
        return;
    for (int i = 0; i < 2; i++)
        key[i] = (uint64_t)LWIP_RAND() << 32 | (uint32_t)LWIP_RAND();
    keyed = true;
}

static size_t put_addr(uint8_t *m, const ip_addr_t *a) {
#if LWIP_IPV6
    if (IP_IS_V6(a)) {
        memcpy(m, ip_2_ip6(a)->addr, 16);
        return 16;
    }
#endif
    memcpy(m, &ip_2_ip4(a)->addr, 4);
    return 4;
}

static uint32_t hash(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote, uint16_t remote_port,
                     uint32_t client_isn, uint32_t slot) {
    ensure_key();
    uint8_t m[MESSAGE_MAX];
    size_t n = put_addr(m, local);
    n += put_addr(m + n, remote);
    uint32_t words[3] = {(uint32_t)local_port << 16 | remote_port, client_isn, slot};
    memcpy(m + n, words, sizeof words);
    n += sizeof words;
    return (uint32_t)siphash24(m, n);
}

static unsigned mss_index(uint16_t mss) {
    unsigned i = 0;
    while (i + 1 < LWIP_ARRAYSIZE(mss_table) && mss_table[i + 1] <= mss)
        i++;
    return i;
}

uint32_t tcp_syn_cookie_make(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                             uint16_t remote_port, uint32_t client_isn, uint16_t mss, uint32_t now_ms) {
    uint32_t slot = now_ms / TCP_SYN_COOKIE_SLOT_MS;
    return (hash(local, local_port, remote, remote_port, client_isn, slot) & HASH_MASK) |
           (slot & SLOT_MASK) << SLOT_BITS_SHIFT | mss_index(mss);
}

uint16_t tcp_syn_cookie_check(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                              uint16_t remote_port, uint32_t client_isn, uint32_t cookie, uint32_t now_ms) {
    uint32_t now_slot = now_ms / TCP_SYN_COOKIE_SLOT_MS;
    for (uint32_t age = 0; age < 2 && age <= now_slot; age++) {
        uint32_t slot = now_slot - age;
        if (((cookie >> SLOT_BITS_SHIFT) & SLOT_MASK) != (slot & SLOT_MASK))
            continue;
        if (((hash(local, local_port, remote, remote_port, client_isn, slot) ^ cookie) & HASH_MASK) == 0)
            return mss_table[cookie & MSS_MASK];
    }
    return 0;
}

void tcp_syn_cookie_note_syn(uint32_t client_isn, uint16_t mss) {
    syn_isn = client_isn;
    syn_mss = mss ? mss : mss_table[0];
}

void tcp_syn_cookie_force(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                          uint16_t remote_port, uint32_t iss) {
    ip_addr_copy(forced.local, *local);
    ip_addr_copy(forced.remote, *remote);
    forced.local_port = local_port;
    forced.remote_port = remote_port;
    forced.iss = iss;
    forced.on = true;
}

void tcp_syn_cookie_forced_done(void) { forced.on = false; }

uint32_t tcp_syn_cookie_isn(const ip_addr_t *local, uint16_t local_port, const ip_addr_t *remote,
                            uint16_t remote_port) {
    if (forced.on && forced.local_port == local_port && forced.remote_port == remote_port &&
        ip_addr_cmp(&forced.local, local) && ip_addr_cmp(&forced.remote, remote))
        return forced.iss;
    /* A passive connection's SYN was noted by the guard just before; an active one has none,
     * and its number is never checked. */
    uint32_t isn = tcp_syn_cookie_make(local, local_port, remote, remote_port, syn_isn, syn_mss, sys_now());
    syn_isn = 0;
    syn_mss = mss_table[0];
    return isn;
}
