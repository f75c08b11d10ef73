/* Checks and conversions of the socket protocol (sockproto.h). Portable C: the Membrane uses
 * it on requests from apps it does not trust, libnexus on its own side, and the host tests and
 * the fuzz target on anything. */
#include "nexus/sockproto.h"

#include <errno.h>
#include <string.h>

#define FAMILY_INET 2
#define FAMILY_INET6 10
#define SOCKADDR_IN_LEN 16
#define SOCKADDR_IN6_LEN 28

/* Which ops name an existing socket in msg.sock. */
static const uint8_t op_needs_socket[NXS_OP_COUNT] = {
    [NXS_OP_BIND] = 1,       [NXS_OP_LISTEN] = 1,      [NXS_OP_ACCEPT] = 1,
    [NXS_OP_CONNECT] = 1,    [NXS_OP_SEND] = 1,        [NXS_OP_RECV] = 1,
    [NXS_OP_SHUTDOWN] = 1,   [NXS_OP_CLOSE] = 1,       [NXS_OP_SETSOCKOPT] = 1,
    [NXS_OP_GETSOCKOPT] = 1, [NXS_OP_GETSOCKNAME] = 1, [NXS_OP_GETPEERNAME] = 1,
    [NXS_OP_READABLE] = 1,
};

int nxs_msg_check(const struct nxs_msg *m) {
    if (m->op == 0 || m->op >= NXS_OP_COUNT)
        return -ENOSYS;
    if (op_needs_socket[m->op] && (m->sock < 0 || m->sock >= NXS_SOCKETS))
        return -EBADF;
    if (m->len > NXS_SLOT_DATA)
        return -EINVAL;
    if (m->addr_len > NXS_ADDR_MAX)
        return -EINVAL;
    return 0;
}

int nxs_post_check(const struct nxs_msg *m) {
    if (m->op != NXS_OP_SEND || m->arg[0] == 0 || m->arg[0] > NXS_SEND_CHUNKS || m->addr_len != 0)
        return -EINVAL;
    return m->len == m->arg[0] * sizeof(struct nxs_chunk) ? 0 : -EINVAL;
}

int nxs_msg_check_sockets(const struct nxs_msg *m, unsigned sockets) {
    int err = nxs_msg_check(m);
    if (err)
        return err;
    return op_needs_socket[m->op] && (unsigned)m->sock >= sockets ? -EBADF : 0;
}

int nxs_socket_args_check(const struct nxs_msg *m, uint32_t domain, uint32_t type) {
    if (m->arg[0] != domain)
        return -EAFNOSUPPORT;
    if (m->arg[1] != type)
        return -EPROTOTYPE;
    return m->arg[2] != 0 ? -EPROTONOSUPPORT : 0;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); } /* host order: LE */
static uint16_t get16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

int nxs_addr_decode(const uint8_t *raw, uint32_t len, struct nxs_addr *out) {
    memset(out, 0, sizeof *out);
    if (len < 2)
        return -EINVAL;
    out->family = get16(raw);
    if (out->family == FAMILY_INET) {
        if (len < SOCKADDR_IN_LEN)
            return -EINVAL;
        out->port = get16be(raw + 2);
        memcpy(out->ip, raw + 4, 4);
        return 0;
    }
    if (out->family == FAMILY_INET6) {
        if (len < SOCKADDR_IN6_LEN)
            return -EINVAL;
        out->port = get16be(raw + 2);
        memcpy(out->ip, raw + 8, 16);
        memcpy(&out->scope, raw + 24, 4);
        return 0;
    }
    return -EAFNOSUPPORT;
}

uint32_t nxs_addr_encode(const struct nxs_addr *a, uint8_t *raw, uint32_t room) {
    uint8_t buf[SOCKADDR_IN6_LEN] = {0};
    uint32_t len = a->family == FAMILY_INET6 ? SOCKADDR_IN6_LEN : SOCKADDR_IN_LEN;
    buf[0] = (uint8_t)a->family;
    buf[1] = (uint8_t)(a->family >> 8);
    buf[2] = (uint8_t)(a->port >> 8);
    buf[3] = (uint8_t)a->port;
    if (a->family == FAMILY_INET6) {
        memcpy(buf + 8, a->ip, 16);
        memcpy(buf + 24, &a->scope, 4);
    } else {
        memcpy(buf + 4, a->ip, 4);
    }
    if (len > room)
        len = room;
    memcpy(raw, buf, len);
    return len;
}
