/* libFuzzer target for signer/request.c: any link header and request a client could write. What
 * the check accepts must be within every bound the signer relies on when it acts. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lwf_wire.h"
#include "nexus/signproto.h"

static const uint8_t own[SIGN_CELLID_LEN] = {0x3a, 0xe2, 0x97, 0x8d, 0x58, 0xbc, 0xdb, 0x75,
                                             0x4c, 0xb0, 0xea, 0x58, 0xf3, 0x17, 0x9c, 0x6c};

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nxs_msg m;
    memset(&m, 0, sizeof m);
    memcpy(&m, data, size < sizeof m ? size : sizeof m);
    if (sign_link_check(&m) == 0 && (m.op != SIGN_LINK_OP || m.len != sizeof(struct sign_request) || m.sock))
        abort();
    /* The request: the input as it is (short inputs leave zeros, as a client's fresh slot). */
    static struct sign_request r;
    memset(&r, 0, sizeof r);
    memcpy(&r, data, size < sizeof r ? size : sizeof r);
    int err = sign_request_check(&r, own);
    if (err == 0) {
        if (r.op == 0 || r.op >= SIGN_OP_COUNT || r.domain >= SIGN_DOMAIN_COUNT || r.len > SIGN_MESSAGE_MAX)
            abort();
        if (r.op == SIGN_OP_SIGN && (r.len == 0 || !all_zero(r.message + r.len, sizeof r.message - r.len)))
            abort();
        if (r.op == SIGN_OP_SIGN && r.domain == SIGN_DOMAIN_LWF &&
            (r.len < LWF_HEADER_LEN || r.message[LWF_OFF_HOP_LIMIT] != 0 ||
             memcmp(r.message + LWF_OFF_SRC, own, sizeof own) != 0))
            abort();
        if (r.op == SIGN_OP_PAIRWISE && r.domain != SIGN_DOMAIN_LWF)
            abort();
    } else if (err != -EINVAL && err != -EPERM) {
        abort();
    }
    return 0;
}
