/* signer/request.c: the signer's check of every request field (nexus/signproto.h). Each refusal
 * is one field wrong in an otherwise good request, so the check is shown to look at each. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "lwf_wire.h"
#include "nexus/signproto.h"

static const uint8_t own[SIGN_CELLID_LEN] = {0x3a, 0xe2, 0x97, 0x8d, 0x58, 0xbc, 0xdb, 0x75,
                                             0x4c, 0xb0, 0xea, 0x58, 0xf3, 0x17, 0x9c, 0x6c};

static struct sign_request request(uint8_t op, uint8_t domain) {
    struct sign_request r;
    memset(&r, 0, sizeof r);
    r.magic = SIGN_REQUEST_MAGIC;
    r.op = op;
    r.domain = domain;
    return r;
}

/* The signed bytes of one of this node's LWF frames, len long. */
static struct sign_request lwf_sign_request(uint16_t len) {
    struct sign_request r = request(SIGN_OP_SIGN, SIGN_DOMAIN_LWF);
    r.len = len;
    r.message[LWF_OFF_MAGIC] = LWF_MAGIC_0;
    r.message[LWF_OFF_MAGIC + 1] = LWF_MAGIC_1;
    r.message[LWF_OFF_VERSION] = LWF_VERSION;
    memcpy(r.message + LWF_OFF_SRC, own, sizeof own);
    for (size_t i = LWF_HEADER_LEN; i < len; i++)
        r.message[i] = (uint8_t)(i | 1);
    return r;
}

static int checked(struct sign_request r) { return sign_request_check(&r, own); }

static void test_requests(void) {
    CHECK("identity_accepted", checked(request(SIGN_OP_IDENTITY, SIGN_DOMAIN_NONE)) == 0);
    CHECK("identity_with_domain_refused", checked(request(SIGN_OP_IDENTITY, SIGN_DOMAIN_LWF)) == -EINVAL);
    CHECK("sequence_start_lwf_accepted", checked(request(SIGN_OP_SEQUENCE_START, SIGN_DOMAIN_LWF)) == 0);
    CHECK("sequence_start_utcp_accepted", checked(request(SIGN_OP_SEQUENCE_START, SIGN_DOMAIN_UTCP)) == 0);
    CHECK("sequence_start_without_domain_refused",
          checked(request(SIGN_OP_SEQUENCE_START, SIGN_DOMAIN_NONE)) == -EINVAL);
    CHECK("unknown_domain_refused", checked(request(SIGN_OP_SEQUENCE_START, SIGN_DOMAIN_COUNT)) == -EINVAL);
    CHECK("op_zero_refused", checked(request(0, SIGN_DOMAIN_NONE)) == -EINVAL);
    CHECK("op_past_last_refused", checked(request(SIGN_OP_COUNT, SIGN_DOMAIN_LWF)) == -EINVAL);
    struct sign_request r = request(SIGN_OP_IDENTITY, SIGN_DOMAIN_NONE);
    r.magic ^= 1;
    CHECK("bad_magic_refused", checked(r) == -EINVAL);
    r = request(SIGN_OP_IDENTITY, SIGN_DOMAIN_NONE);
    r.zero[5] = 1;
    CHECK("padding_not_zero_refused", checked(r) == -EINVAL);
    r = request(SIGN_OP_IDENTITY, SIGN_DOMAIN_NONE);
    r.len = 1;
    CHECK("len_where_none_taken_refused", checked(r) == -EINVAL);
    r = request(SIGN_OP_IDENTITY, SIGN_DOMAIN_NONE);
    r.message[SIGN_MESSAGE_MAX - 1] = 1;
    CHECK("message_where_none_taken_refused", checked(r) == -EINVAL);
    r = request(SIGN_OP_SEQUENCE_START, SIGN_DOMAIN_LWF);
    r.public_key[0] = 1;
    CHECK("public_key_where_none_taken_refused", checked(r) == -EINVAL);

    r = request(SIGN_OP_PAIRWISE, SIGN_DOMAIN_LWF);
    memset(r.public_key, 0x42, sizeof r.public_key);
    CHECK("pairwise_lwf_accepted", checked(r) == 0);
    r.domain = SIGN_DOMAIN_UTCP;
    CHECK("pairwise_utcp_refused", checked(r) == -EINVAL);
    r.domain = SIGN_DOMAIN_LWF;
    r.len = 32;
    CHECK("pairwise_with_len_refused", checked(r) == -EINVAL);
}

static void test_sign_domains(void) {
    CHECK("lwf_smallest_accepted", checked(lwf_sign_request(LWF_HEADER_LEN)) == 0);
    CHECK("lwf_largest_accepted", checked(lwf_sign_request(SIGN_MESSAGE_MAX)) == 0);
    CHECK("lwf_shorter_than_header_refused", checked(lwf_sign_request(LWF_HEADER_LEN - 1)) == -EINVAL);
    struct sign_request r = lwf_sign_request(SIGN_MESSAGE_MAX);
    r.len = SIGN_MESSAGE_MAX + 1;
    CHECK("lwf_longer_than_span_refused", checked(r) == -EINVAL);
    r = lwf_sign_request(200);
    r.message[200] = 1;
    CHECK("bytes_past_len_refused", checked(r) == -EINVAL);
    r = lwf_sign_request(200);
    r.message[LWF_OFF_SRC] ^= 1;
    CHECK("lwf_of_another_cellid_refused", checked(r) == -EPERM);
    r = lwf_sign_request(200);
    r.message[LWF_OFF_HOP_LIMIT] = 1;
    CHECK("lwf_hop_limit_not_zeroed_refused", checked(r) == -EPERM);
    r = lwf_sign_request(200);
    r.message[LWF_OFF_MAGIC] = 'n';
    CHECK("lwf_without_magic_refused", checked(r) == -EPERM);
    r = lwf_sign_request(200);
    r.message[LWF_OFF_VERSION] = LWF_VERSION + 1;
    CHECK("lwf_other_version_refused", checked(r) == -EPERM);

    r = request(SIGN_OP_SIGN, SIGN_DOMAIN_UTCP);
    r.len = 1;
    r.message[0] = 0xff;
    CHECK("utcp_one_byte_accepted", checked(r) == 0);
    r.len = 0;
    r.message[0] = 0;
    CHECK("utcp_empty_refused", checked(r) == -EINVAL);
    r = request(SIGN_OP_SIGN, SIGN_DOMAIN_NONE);
    r.len = 1;
    CHECK("sign_without_domain_refused", checked(r) == -EINVAL);
    /* The tag that keeps a UTCP signature from passing as an LWF frame's starts unlike one. */
    CHECK("utcp_tag_is_no_lwf_frame_start", SIGN_UTCP_TAG[0] != (char)LWF_MAGIC_0);
}

static void test_link_and_reply(void) {
    struct nxs_msg m;
    memset(&m, 0, sizeof m);
    m.op = SIGN_LINK_OP;
    m.len = sizeof(struct sign_request);
    m.tag = 77; /* the client's, echoed: any value */
    CHECK("link_header_accepted", sign_link_check(&m) == 0);
    struct nxs_msg bad = m;
    bad.op = SIGN_LINK_OP + 1;
    CHECK("link_other_op_refused", sign_link_check(&bad) == -EINVAL);
    bad = m;
    bad.len--;
    CHECK("link_short_len_refused", sign_link_check(&bad) == -EINVAL);
    bad = m;
    bad.sock = 1;
    CHECK("link_sock_refused", sign_link_check(&bad) == -EINVAL);
    bad = m;
    bad.arg[2] = 1;
    CHECK("link_arg_refused", sign_link_check(&bad) == -EINVAL);
    bad = m;
    bad.addr[NXS_ADDR_MAX - 1] = 1;
    CHECK("link_addr_refused", sign_link_check(&bad) == -EINVAL);

    struct sign_reply reply;
    memset(&reply, 0, sizeof reply);
    reply.magic = SIGN_REPLY_MAGIC;
    reply.op = SIGN_OP_SIGN;
    CHECK("reply_accepted", sign_reply_check(&reply, SIGN_OP_SIGN) == 0);
    CHECK("reply_for_other_op_refused", sign_reply_check(&reply, SIGN_OP_PAIRWISE) == -EBADMSG);
    reply.op = SIGN_OP_IDENTITY;
    CHECK("identity_reply_without_kind_refused", sign_reply_check(&reply, SIGN_OP_IDENTITY) == -EBADMSG);
    reply.kind = SIGN_KIND_PERSISTENT;
    CHECK("identity_reply_accepted", sign_reply_check(&reply, SIGN_OP_IDENTITY) == 0);
    CHECK("kind_texts", strncmp(sign_kind_text(SIGN_KIND_PERSISTENT), "persistent", 10) == 0 &&
                            strncmp(sign_kind_text(SIGN_KIND_EPHEMERAL_NO_FILE), "ephemeral", 9) == 0 &&
                            strcmp(sign_kind_text(0), "?") == 0 && strcmp(sign_kind_text(SIGN_KIND_COUNT), "?") == 0);
}

int main(void) {
    check_suite = "signproto";
    test_requests();
    test_sign_domains();
    test_link_and_reply();
    return check_exit();
}
