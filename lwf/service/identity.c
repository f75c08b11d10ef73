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

#include "link/client.h"
#include "lwfd.h"
#include "nexus.h"
#include "nexus/signproto.h"

#define SIGNER_WAIT_TRIES 6 /* link_client_ready waits up to 5 s each: 30 s for a signer to start */
#define NS_PER_S 1000000000ull
#define SEQUENCE_WAIT_MAX_S 30

static struct link_client signer = {.service = "signer", .magic = SIGN_LINK_MAGIC};
static bool lost;

void cellid_hex(const uint8_t cellid[LWF_CELLID_LEN], char out[2 * LWF_CELLID_LEN + 1]) {
    for (unsigned i = 0; i < LWF_CELLID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", cellid[i]);
}

bool identity_lost(void) { return lost; }

/* One request; the checked reply in *reply. 0 or -errno; a dead or restarted signer marks the
 * identity lost. */
static long ask(struct sign_request *request, struct sign_reply *reply) {
    struct nxs_msg m = {.op = SIGN_LINK_OP, .len = sizeof *request};
    request->magic = SIGN_REQUEST_MAGIC;
    long result = link_client_call(&signer, &m, request, sizeof *request, reply, sizeof *reply);
    if (result == -ECONNRESET || result == -ENETDOWN || result == -EIO)
        lost = true;
    if (result == 0 && (m.len != sizeof *reply || sign_reply_check(reply, request->op) != 0))
        result = -EBADMSG;
    return result;
}

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
    if (ask(&request, &reply) != 0)
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
    bool ok = ask(&request, &reply) == 0;
    if (ok)
        memcpy(key, reply.key, LWF_KEY_LEN);
    memset(&reply, 0, sizeof reply);
    return ok;
}

/* The signer starts beside this service at boot; give it time, and say what is awaited. */
static bool signer_ready(void) {
    for (int i = 0; i < SIGNER_WAIT_TRIES; i++) {
        if (link_client_ready(&signer) == 0)
            return true;
        printf("lwf: waiting for the signer, which holds this node's key (%d s)\n", 5 * (i + 1));
    }
    printf("lwf: the signer did not answer in %d s: this node cannot sign, so LWF does not start\n",
           5 * SIGNER_WAIT_TRIES);
    return false;
}

/* The signer hands out a start second later than any it gave this service before; if that is
 * ahead of the clock (a restart within the second), wait for the clock to reach it. */
static bool sequence_first(uint64_t *first) {
    static struct sign_request request;
    struct sign_reply reply;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_SEQUENCE_START;
    request.domain = SIGN_DOMAIN_LWF;
    if (ask(&request, &reply) != 0)
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
    if (!signer_ready())
        return false;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_IDENTITY;
    long err = ask(&request, &reply);
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
