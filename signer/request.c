/*
 * The signer's request check (nexus/signproto.h): every field of what a client wrote, before the
 * signer acts on it. Portable C with no state, so the host tests and a fuzz target run it as the
 * signer does. Policy is in two tables: what each operation takes, and what each domain's
 * messages look like.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lwf_wire.h"
#include "nexus/signproto.h"

_Static_assert(SIGN_MESSAGE_MAX == LWF_FRAME_MAX - LWF_SIGNATURE_LEN - LWF_CRC_LEN, "LWF's largest signed span");
_Static_assert(SIGN_CELLID_LEN == LWF_CELLID_LEN && SIGN_PUBLIC_KEY_LEN == LWF_PUBLIC_KEY_LEN &&
               SIGN_SIGNATURE_LEN == LWF_SIGNATURE_LEN && SIGN_KEY_LEN == LWF_KEY_LEN, "LWF's sizes");

/* An LWF frame's signed bytes, as lwf_sign hands them over: this node's, hop limit zeroed. */
static bool lwf_shaped(const uint8_t *message, size_t len, const uint8_t own_cellid[SIGN_CELLID_LEN]) {
    (void)len; /* the domain's bounds already hold the header */
    return message[LWF_OFF_MAGIC] == LWF_MAGIC_0 && message[LWF_OFF_MAGIC + 1] == LWF_MAGIC_1 &&
           message[LWF_OFF_VERSION] == LWF_VERSION && message[LWF_OFF_HOP_LIMIT] == 0 &&
           memcmp(message + LWF_OFF_SRC, own_cellid, SIGN_CELLID_LEN) == 0;
}

/* UTCP's wire is not pinned yet: any bytes, under its tag (nexus/signproto.h). */
static bool any_shape(const uint8_t *message, size_t len, const uint8_t own_cellid[SIGN_CELLID_LEN]) {
    (void)message, (void)len, (void)own_cellid;
    return true;
}

static const struct {
    uint16_t min_len, max_len;
    bool (*shaped)(const uint8_t *message, size_t len, const uint8_t own_cellid[SIGN_CELLID_LEN]);
} domains[SIGN_DOMAIN_COUNT] = {
    [SIGN_DOMAIN_LWF] = {LWF_HEADER_LEN, SIGN_MESSAGE_MAX, lwf_shaped},
    [SIGN_DOMAIN_UTCP] = {1, SIGN_MESSAGE_MAX, any_shape},
};

/* What each operation reads; whatever it does not read must be zero. */
enum domain_rule { DOMAIN_NONE, DOMAIN_ANY, DOMAIN_LWF_ONLY };
static const struct {
    enum domain_rule domain;
    bool message; /* takes message[len] */
    bool public_key;
} ops[SIGN_OP_COUNT] = {
    [SIGN_OP_IDENTITY] = {DOMAIN_NONE, false, false},
    [SIGN_OP_SEQUENCE_START] = {DOMAIN_ANY, false, false},
    [SIGN_OP_SIGN] = {DOMAIN_ANY, true, false},
    [SIGN_OP_PAIRWISE] = {DOMAIN_LWF_ONLY, false, true}, /* the pinned KDF is LWF's */
};

static bool all_zero(const uint8_t *bytes, size_t len) {
    uint8_t any = 0;
    for (size_t i = 0; i < len; i++)
        any |= bytes[i];
    return any == 0;
}

static bool domain_allowed(enum domain_rule rule, uint8_t domain) {
    switch (rule) {
    case DOMAIN_NONE:
        return domain == SIGN_DOMAIN_NONE;
    case DOMAIN_ANY:
        return domain != SIGN_DOMAIN_NONE && domain < SIGN_DOMAIN_COUNT;
    case DOMAIN_LWF_ONLY:
        return domain == SIGN_DOMAIN_LWF;
    }
    return false;
}

int sign_link_check(const struct nxs_msg *m) {
    bool rest_zero = m->sock == 0 && m->flags == 0 && m->result == 0 && m->addr_len == 0 &&
                     all_zero((const uint8_t *)m->arg, sizeof m->arg) && all_zero(m->addr, sizeof m->addr);
    return m->op == SIGN_LINK_OP && m->len == sizeof(struct sign_request) && rest_zero ? 0 : -EINVAL;
}

int sign_request_check(const struct sign_request *r, const uint8_t own_cellid[SIGN_CELLID_LEN]) {
    if (r->magic != SIGN_REQUEST_MAGIC || r->op == 0 || r->op >= SIGN_OP_COUNT || !all_zero(r->zero, sizeof r->zero))
        return -EINVAL;
    if (!domain_allowed(ops[r->op].domain, r->domain))
        return -EINVAL;
    if (!ops[r->op].public_key && !all_zero(r->public_key, sizeof r->public_key))
        return -EINVAL;
    if (!ops[r->op].message)
        return r->len == 0 && all_zero(r->message, sizeof r->message) ? 0 : -EINVAL;
    if (r->len < domains[r->domain].min_len || r->len > domains[r->domain].max_len ||
        !all_zero(r->message + r->len, sizeof r->message - r->len))
        return -EINVAL;
    return domains[r->domain].shaped(r->message, r->len, own_cellid) ? 0 : -EPERM;
}

int sign_reply_check(const struct sign_reply *r, uint8_t op) {
    bool kind_ok = op == SIGN_OP_IDENTITY ? r->kind > 0 && r->kind < SIGN_KIND_COUNT : r->kind == 0;
    return r->magic == SIGN_REPLY_MAGIC && r->op == op && kind_ok && r->zero == 0 ? 0 : -EBADMSG;
}

static const char *const kind_texts[SIGN_KIND_COUNT] = {
    [SIGN_KIND_PERSISTENT] = "persistent: the key file given at boot",
    [SIGN_KIND_EPHEMERAL_NO_FILE] = "ephemeral: no key file given at boot",
    [SIGN_KIND_EPHEMERAL_REFUSED] = "ephemeral: the key file given at boot was refused",
    [SIGN_KIND_EPHEMERAL_RESTARTED] = "ephemeral: the signer restarted, the key file was taken by its first run",
};

const char *sign_kind_text(uint8_t kind) {
    return kind > 0 && kind < SIGN_KIND_COUNT ? kind_texts[kind] : "?";
}
