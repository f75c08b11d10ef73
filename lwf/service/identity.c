/*
 * The node's identity, asked of the signer (signer/, nexus/signproto.h): this fiber parses
 * hostile frames, so it holds no secret. At each start it asks the signer for the public key and
 * CellID (the same across restarts of this service: the signer keeps the key) and for the
 * second its sequence numbers start at; signing and the pairwise keys go through the node's
 * hooks to the signer. If the signer is gone, nothing can be signed: the loop ends and the
 * supervisor starts this service again, which asks the new signer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity/signer_client.h"
#include "lwfd.h"
#include "nexus.h"

#define NS_PER_S 1000000000ull
#define SEQUENCE_WAIT_MAX_S 30

static struct signer_client signer = SIGNER_CLIENT_INIT;

bool identity_lost(void) { return signer.lost; }

static bool sign_hook(void *context, const uint8_t *message, size_t len, uint8_t signature[LWF_SIGNATURE_LEN]) {
    (void)context;
    static struct sign_request request;
    struct sign_reply reply;
    if (len > sizeof request.message)
        return false;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_SIGN;
    request.domain = SIGN_DOMAIN_LWF;
    request.len = (uint16_t)len;
    memcpy(request.message, message, len);
    if (signer_ask(&signer, &request, &reply) != 0)
        return false;
    memcpy(signature, reply.signature, LWF_SIGNATURE_LEN);
    return true;
}

static bool pairwise_hook(void *context, const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN], uint8_t key[LWF_KEY_LEN]) {
    (void)context;
    static struct sign_request request;
    struct sign_reply reply;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_PAIRWISE;
    request.domain = SIGN_DOMAIN_LWF;
    memcpy(request.public_key, peer_public_key, LWF_PUBLIC_KEY_LEN);
    bool ok = signer_ask(&signer, &request, &reply) == 0;
    if (ok)
        memcpy(key, reply.key, LWF_KEY_LEN);
    memset(&reply, 0, sizeof reply);
    return ok;
}

/* The signer hands out a start second later than any it gave this service before; if that is
 * ahead of the clock (a restart within the second), wait for the clock to reach it. */
static bool sequence_first(uint64_t *first) {
    static struct sign_request request;
    struct sign_reply reply;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_SEQUENCE_START;
    request.domain = SIGN_DOMAIN_LWF;
    if (signer_ask(&signer, &request, &reply) != 0)
        return false;
    uint64_t start = reply.sequence_start;
    long now = nx_realtime_ns();
    if (now <= 0)
        printf("lwf: no real-time clock: sequence numbers start at %llu << 32 | 1, so peers that saw this "
               "identity in an earlier boot refuse its frames as replays until they restart\n",
               (unsigned long long)start);
    else if (start > (uint64_t)now / NS_PER_S + SEQUENCE_WAIT_MAX_S)
        return printf("lwf: the signer's sequence start is far past the clock\n"), false;
    while (now > 0 && (uint64_t)now / NS_PER_S < start) {
        nx_sleep_ns(NX_MS(100));
        now = nx_realtime_ns();
    }
    *first = start << 32 | 1;
    return true;
}

bool identity_load(struct lwf_node *me, const uint8_t mac[LWF_MAC_LEN], uint64_t *first_sequence) {
    static struct sign_request request;
    struct sign_reply reply;
    if (!signer_wait_ready(&signer, "lwf", "LWF"))
        return false;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_IDENTITY;
    long err = signer_ask(&signer, &request, &reply);
    if (err != 0) {
        printf("lwf: the signer refused the identity request (error %ld)\n", -err);
        return false;
    }
    memcpy(me->public_key, reply.public_key, LWF_PUBLIC_KEY_LEN);
    lwf_cellid(me->public_key, me->cellid);
    if (memcmp(me->cellid, reply.cellid, LWF_CELLID_LEN) != 0) {
        printf("lwf: the signer's CellID is not its public key's\n");
        return false;
    }
    memcpy(me->mac, mac, LWF_MAC_LEN);
    me->sign = sign_hook;
    me->pairwise = pairwise_hook;
    me->context = NULL;
    if (!sequence_first(first_sequence))
        return false;
    char cellid[2 * LWF_CELLID_LEN + 1];
    cellid_hex(me->cellid, cellid);
    printf("lwf: CellID %s (%s)\n", cellid, sign_kind_text(reply.kind));
    return true;
}
