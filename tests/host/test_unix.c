/* Host tests for libnexus's AF_UNIX backend (lib/libnexus/unix.c): socket requests as socket.c
 * makes them, answered in the backend's own data slot. LeakSanitizer checks at exit that a pair
 * closed at both ends leaves nothing behind. */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "check.h"
#include "libnexus/libnexus.h"
#include "nexus/unixlane.h"

static long call(uint32_t op, int32_t sock, const void *in, uint32_t len) {
    struct nxs_msg m = {.op = op, .sock = sock, .len = len};
    if (in)
        memcpy(nxl_unix.data(), in, len);
    return nxl_unix.call(&m, nxl_unix.data());
}

static long recv_msg(int32_t sock, uint32_t want, struct nxs_msg *m) {
    memset(m, 0, sizeof *m);
    m->op = NXS_OP_RECV;
    m->sock = sock;
    m->len = want;
    return nxl_unix.call(m, nxl_unix.data());
}

static int32_t s[2];

int main(void) {
    check_suite = "unix";
    struct nxs_msg m;
    CHECK("pair_stream", nxl_unix.pair(SOCK_STREAM, 0, s) == 0 && s[0] != s[1] && nxl_unix.data());
    CHECK("fresh_writable_not_readable", (nxl_unix.status(s[0]) & (NXS_EV_OUT | NXS_EV_IN)) == NXS_EV_OUT);
    CHECK("send", call(NXS_OP_SEND, s[0], "0123456789", 10) == 10 && (nxl_unix.status(s[1]) & NXS_EV_IN));
    CHECK("readable_bytes", call(NXS_OP_READABLE, s[1], NULL, 0) == 10);
    CHECK("recv_part", recv_msg(s[1], 4, &m) == 4 && m.len == 4 && !memcmp(nxl_unix.data(), "0123", 4));
    CHECK("recv_rest", recv_msg(s[1], 100, &m) == 6 && !memcmp(nxl_unix.data(), "456789", 6));
    CHECK("recv_empty_eagain", recv_msg(s[1], 100, &m) == -EAGAIN);
    static uint8_t block[UNIX_LANE_BUF_BYTES];
    unsigned sends = 0;
    while (call(NXS_OP_SEND, s[0], block, sizeof block) == (long)sizeof block && sends < 100)
        sends++;
    CHECK("lane_holds_its_buffers", sends == UNIX_LANE_BUFS && call(NXS_OP_SEND, s[0], "x", 1) == -EAGAIN &&
                                        !(nxl_unix.status(s[0]) & NXS_EV_OUT));
    struct nxs_msg to = {.op = NXS_OP_SEND, .sock = s[0], .len = 1, .addr_len = 2};
    CHECK("send_with_address_eisconn", nxl_unix.call(&to, nxl_unix.data()) == -EISCONN);
    struct nxs_msg sh = {.op = NXS_OP_SHUTDOWN, .sock = s[1], .arg = {7}};
    CHECK("shutdown_einval", nxl_unix.call(&sh, nxl_unix.data()) == -EINVAL);
    CHECK("close_one_end", call(NXS_OP_CLOSE, s[0], NULL, 0) == 0 && call(NXS_OP_READABLE, s[0], NULL, 0) == -EBADF);
    long drained = 0, r;
    while ((r = recv_msg(s[1], 5000, &m)) > 0)
        drained += r;
    CHECK("queued_then_end_of_file", drained == (long)(UNIX_LANE_BUFS * UNIX_LANE_BUF_BYTES) && r == 0);
    CHECK("hup_after_peer_close", (nxl_unix.status(s[1]) & (NXS_EV_IN | NXS_EV_HUP)) == (NXS_EV_IN | NXS_EV_HUP));
    CHECK("epipe_after_peer_close", call(NXS_OP_SEND, s[1], "x", 1) == -EPIPE);
    CHECK("close_other_end", call(NXS_OP_CLOSE, s[1], NULL, 0) == 0);

    CHECK("pair_dgram", nxl_unix.pair(SOCK_DGRAM, AF_UNIX, s) == 0);
    CHECK("dgram_too_long", call(NXS_OP_SEND, s[0], NULL, UNIX_LANE_BUF_BYTES + 1) == -EMSGSIZE);
    call(NXS_OP_SEND, s[0], "abcdefghij", 10);
    call(NXS_OP_SEND, s[0], "k", 1);
    CHECK("dgram_readable_is_next", call(NXS_OP_READABLE, s[1], NULL, 0) == 10);
    CHECK("dgram_cut", recv_msg(s[1], 3, &m) == 3 && m.arg[0] == 10 && !memcmp(nxl_unix.data(), "abc", 3));
    CHECK("dgram_next_whole", recv_msg(s[1], 100, &m) == 1 && m.arg[0] == 1);
    struct nxs_msg peek = {.op = NXS_OP_RECV, .sock = s[1], .len = 10, .flags = MSG_PEEK};
    call(NXS_OP_SEND, s[0], "pk", 2);
    CHECK("dgram_peek_keeps", nxl_unix.call(&peek, nxl_unix.data()) == 2 && recv_msg(s[1], 10, &m) == 2);
    call(NXS_OP_CLOSE, s[1], NULL, 0);
    CHECK("dgram_refused_then_notconn",
          call(NXS_OP_SEND, s[0], "x", 1) == -ECONNREFUSED && call(NXS_OP_SEND, s[0], "x", 1) == -ENOTCONN);
    CHECK("getsockopt_type", ({
              struct nxs_msg g = {.op = NXS_OP_GETSOCKOPT, .sock = s[0], .arg = {SOL_SOCKET, SO_TYPE}};
              int v = 0;
              long n = nxl_unix.call(&g, nxl_unix.data());
              memcpy(&v, nxl_unix.data(), sizeof v);
              n == sizeof v && v == SOCK_DGRAM;
          }));
    CHECK("unknown_option", ({
              struct nxs_msg g = {.op = NXS_OP_GETSOCKOPT, .sock = s[0], .arg = {SOL_SOCKET, 9999}};
              nxl_unix.call(&g, nxl_unix.data()) == -ENOPROTOOPT;
          }));
    call(NXS_OP_CLOSE, s[0], NULL, 0);

    CHECK("bad_type", nxl_unix.pair(SOCK_RAW, 0, s) == -EPROTONOSUPPORT);
    CHECK("bad_protocol", nxl_unix.pair(SOCK_STREAM, 5, s) == -EPROTONOSUPPORT);
    CHECK("bad_socket_numbers", call(NXS_OP_READABLE, -1, NULL, 0) == -EBADF &&
                                    call(NXS_OP_READABLE, NXL_FDS, NULL, 0) == -EBADF &&
                                    nxl_unix.status(-5) == 0 && nxl_unix.status(NXL_FDS + 3) == 0);
    int32_t all[NXL_FDS + 2];
    unsigned pairs = 0;
    while (pairs < NXL_FDS / 2 + 1 && nxl_unix.pair(SOCK_STREAM, 0, &all[2 * pairs]) == 0)
        pairs++;
    CHECK("table_full_emfile", pairs == NXL_FDS / 2 && nxl_unix.pair(SOCK_STREAM, 0, s) == -EMFILE);
    for (unsigned i = 0; i < 2 * pairs; i++)
        call(NXS_OP_CLOSE, all[i], NULL, 0);
    CHECK("table_free_again", nxl_unix.pair(SOCK_DGRAM, 0, s) == 0);
    call(NXS_OP_CLOSE, s[0], NULL, 0);
    call(NXS_OP_CLOSE, s[1], NULL, 0);
    return check_exit();
}
