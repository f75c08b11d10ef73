/* libFuzzer target for lib/link/sockproto.c: any request header and any address bytes an app
 * could write. A header the check accepts must be within every bound the Membrane relies on;
 * an address that decodes must encode and decode back to itself. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nexus/sockproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nxs_msg m;
    memset(&m, 0, sizeof m);
    memcpy(&m, data, size < sizeof m ? size : sizeof m);
    if (nxs_msg_check(&m) == 0) {
        if (m.op == 0 || m.op >= NXS_OP_COUNT || m.len > NXS_SLOT_DATA || m.addr_len > NXS_ADDR_MAX)
            abort();
        if (m.op != NXS_OP_SOCKET && m.op != NXS_OP_RESOLVE && (m.sock < 0 || m.sock >= NXS_SOCKETS))
            abort();
    }
    /* a post the checks accept names only chunks, and its list fits the post slot's data */
    if (nxs_msg_check(&m) == 0 && nxs_post_check(&m) == 0 &&
        (m.op != NXS_OP_SEND || m.arg[0] == 0 || m.arg[0] > NXS_SEND_CHUNKS || m.addr_len != 0 ||
         m.len != m.arg[0] * sizeof(struct nxs_chunk) || m.len > NXS_POST_DATA))
        abort();
    /* a family service's table of 8 sockets per link: every socket number it accepts is in it */
    if (nxs_msg_check_sockets(&m, 8) == 0 && m.op != NXS_OP_SOCKET && m.op != NXS_OP_RESOLVE &&
        (m.sock < 0 || m.sock >= 8))
        abort();
    if (nxs_socket_args_check(&m, m.arg[0], m.arg[1]) != (m.arg[2] ? -EPROTONOSUPPORT : 0))
        abort();
    struct nxs_addr a, b;
    uint32_t len = size > NXS_ADDR_MAX ? NXS_ADDR_MAX : (uint32_t)size;
    if (nxs_addr_decode(data, len, &a) == 0) {
        uint8_t raw[NXS_ADDR_MAX];
        uint32_t n = nxs_addr_encode(&a, raw, sizeof raw);
        if (nxs_addr_decode(raw, n, &b) != 0 || memcmp(&a, &b, sizeof a) != 0)
            abort();
    }
    return 0;
}
