/* Host tests for the socket protocol's checks and address codec (lib/link/sockproto.c): what
 * the Membrane and the family services rely on before they touch a request an app wrote. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "nexus/sockproto.h"

static struct nxs_msg msg(uint32_t op, int32_t sock, uint32_t len, uint32_t addr_len) {
    struct nxs_msg m;
    memset(&m, 0, sizeof m);
    m.op = op;
    m.sock = sock;
    m.len = len;
    m.addr_len = addr_len;
    return m;
}

int main(void) {
    check_suite = "sockproto";
    struct nxs_msg m = msg(NXS_OP_SOCKET, -1, 0, 0);
    CHECK("socket_needs_no_number", nxs_msg_check(&m) == 0);
    m = msg(0, 0, 0, 0);
    CHECK("op_zero_refused", nxs_msg_check(&m) == -ENOSYS);
    m = msg(NXS_OP_COUNT, 0, 0, 0);
    CHECK("op_past_end_refused", nxs_msg_check(&m) == -ENOSYS);
    m = msg(0xffffffffu, 0, 0, 0);
    CHECK("op_huge_refused", nxs_msg_check(&m) == -ENOSYS);
    int bad_socket = 0;
    for (uint32_t op = NXS_OP_BIND; op <= NXS_OP_GETPEERNAME; op++) {
        struct nxs_msg a = msg(op, -1, 0, 0), b = msg(op, NXS_SOCKETS, 0, 0), c = msg(op, NXS_SOCKETS - 1, 0, 0);
        bad_socket += nxs_msg_check(&a) != -EBADF || nxs_msg_check(&b) != -EBADF || nxs_msg_check(&c) != 0;
    }
    CHECK("socket_number_bounds_every_op", bad_socket == 0);
    struct nxs_msg r1 = msg(NXS_OP_READABLE, -1, 0, 0), r2 = msg(NXS_OP_READABLE, NXS_SOCKETS - 1, 0, 0);
    CHECK("readable_names_a_socket", nxs_msg_check(&r1) == -EBADF && nxs_msg_check(&r2) == 0);
    m = msg(NXS_OP_READABLE, 8, 0, 0);
    CHECK("family_readable_past_table_refused", nxs_msg_check_sockets(&m, 8) == -EBADF);
    m = msg(NXS_OP_SEND, 0, NXS_SLOT_DATA, 0);
    CHECK("data_up_to_slot", nxs_msg_check(&m) == 0);
    m = msg(NXS_OP_SEND, 0, NXS_SLOT_DATA + 1, 0);
    CHECK("data_past_slot_refused", nxs_msg_check(&m) == -EINVAL);
    m = msg(NXS_OP_CONNECT, 0, 0, NXS_ADDR_MAX + 1);
    CHECK("addr_past_field_refused", nxs_msg_check(&m) == -EINVAL);
    m = msg(NXS_OP_RESOLVE, -5, 10, 0);
    CHECK("resolve_ignores_socket", nxs_msg_check(&m) == 0);
    /* a family service with 8 sockets per link (the LWF and UTCP services) */
    m = msg(NXS_OP_RECV, 7, 0, 0);
    CHECK("family_last_socket_accepted", nxs_msg_check_sockets(&m, 8) == 0);
    m = msg(NXS_OP_RECV, 8, 0, 0);
    CHECK("family_socket_past_table_refused", nxs_msg_check_sockets(&m, 8) == -EBADF);
    m = msg(NXS_OP_SOCKET, 99, 0, 0);
    CHECK("family_socket_op_needs_no_number", nxs_msg_check_sockets(&m, 8) == 0);
    m = msg(NXS_OP_SEND, 0, NXS_SLOT_DATA + 1, 0);
    CHECK("family_keeps_general_checks", nxs_msg_check_sockets(&m, 8) == -EINVAL);
    m = msg(NXS_OP_SOCKET, 0, 0, 0);
    m.arg[0] = 48, m.arg[1] = 1;
    CHECK("family_args_accepted", nxs_socket_args_check(&m, 48, 1) == 0);
    CHECK("family_other_domain_refused", nxs_socket_args_check(&m, 49, 1) == -EAFNOSUPPORT);
    CHECK("family_other_type_refused", nxs_socket_args_check(&m, 48, 2) == -EPROTOTYPE);
    m.arg[2] = 6;
    CHECK("family_protocol_refused", nxs_socket_args_check(&m, 48, 1) == -EPROTONOSUPPORT);

    struct nxs_addr a = {.family = 2, .port = 8080, .ip = {10, 0, 2, 15}}, b;
    uint8_t raw[NXS_ADDR_MAX];
    uint32_t n = nxs_addr_encode(&a, raw, sizeof raw);
    CHECK("inet_encode_len", n == 16 && raw[0] == 2 && raw[1] == 0 && raw[2] == 0x1f && raw[3] == 0x90 && raw[4] == 10);
    CHECK("inet_roundtrip", nxs_addr_decode(raw, n, &b) == 0 && b.family == 2 && b.port == 8080 && !memcmp(b.ip, a.ip, 4));
    CHECK("inet_short_refused", nxs_addr_decode(raw, 15, &b) == -EINVAL);
    struct nxs_addr a6 = {.family = 10, .port = 443, .scope = 3, .ip = {0xfe, 0x80, [15] = 1}};
    n = nxs_addr_encode(&a6, raw, sizeof raw);
    CHECK("inet6_roundtrip", n == 28 && nxs_addr_decode(raw, n, &b) == 0 && b.family == 10 && b.port == 443 &&
                                 b.scope == 3 && !memcmp(b.ip, a6.ip, 16));
    CHECK("inet6_short_refused", nxs_addr_decode(raw, 27, &b) == -EINVAL);
    raw[0] = 1;
    CHECK("unix_family_refused", nxs_addr_decode(raw, 28, &b) == -EAFNOSUPPORT);
    CHECK("empty_refused", nxs_addr_decode(raw, 1, &b) == -EINVAL);
    uint8_t small[8];
    memset(small, 0xee, sizeof small);
    CHECK("encode_truncates_to_room", nxs_addr_encode(&a6, small, 4) == 4 && small[4] == 0xee);
    CHECK("layout_fits_link", NXS_LINK_BYTES == 20 * 4096 && NXS_LINK_SEND_BYTES == 40 * 4096 &&
                                  sizeof(struct nxs_header) <= 4096 &&
                                  (NXS_POST_SLOT + 1) * sizeof(struct nxs_msg) <= NXS_OFF_POST_DATA - NXS_OFF_MSGS);

    /* The post slot takes a send whose data is its chunk list alone. */
    struct nxs_msg p = msg(NXS_OP_SEND, 3, 2 * sizeof(struct nxs_chunk), 0);
    p.arg[0] = 2;
    CHECK("post_send_of_chunks_accepted", nxs_msg_check(&p) == 0 && nxs_post_check(&p) == 0);
    p.arg[0] = NXS_SEND_CHUNKS, p.len = NXS_SEND_CHUNKS * sizeof(struct nxs_chunk);
    CHECK("post_every_chunk_accepted", nxs_post_check(&p) == 0 && p.len <= NXS_POST_DATA);
    p.arg[0] = NXS_SEND_CHUNKS + 1, p.len = (NXS_SEND_CHUNKS + 1) * sizeof(struct nxs_chunk);
    CHECK("post_past_chunks_refused", nxs_post_check(&p) == -EINVAL);
    p.arg[0] = 0, p.len = 0;
    CHECK("post_without_chunks_refused", nxs_post_check(&p) == -EINVAL);
    p.arg[0] = 2, p.len = 2 * sizeof(struct nxs_chunk) + 1;
    CHECK("post_with_bytes_after_list_refused", nxs_post_check(&p) == -EINVAL);
    p.len = sizeof(struct nxs_chunk);
    CHECK("post_list_shorter_than_count_refused", nxs_post_check(&p) == -EINVAL);
    p.len = 2 * sizeof(struct nxs_chunk), p.addr_len = 16;
    CHECK("post_with_address_refused", nxs_post_check(&p) == -EINVAL);
    p.addr_len = 0, p.op = NXS_OP_RECV;
    CHECK("post_of_other_op_refused", nxs_post_check(&p) == -EINVAL);
    p.op = NXS_OP_SEND, p.arg[0] = 0x80000001u, p.len = 4; /* a count whose list length wraps */
    CHECK("post_wrapping_count_refused", nxs_post_check(&p) == -EINVAL);
    return check_exit();
}
