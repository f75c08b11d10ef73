/*
 * The node's identity for UTCP, asked of the signer (signer/, nexus/signproto.h): this fiber
 * parses hostile frames, so it holds no secret. The handshake's signatures go to the signer in
 * its UTCP domain, which puts UTCP_SIGNATURE_TAG before the message exactly as docs/utcp.md
 * section 5 signs. If the signer is gone, nothing can be signed: the loop ends and the
 * supervisor starts this service again, which asks the new signer.
 */
#include <stdio.h>
#include <string.h>

#include "identity/signer_client.h"
#include "nexus.h"
#include "utcpd.h"

_Static_assert(sizeof SIGN_UTCP_TAG == sizeof UTCP_SIGNATURE_TAG, "the signer's UTCP tag is the spec's");
_Static_assert(SIGN_CELLID_LEN == UTCP_CELLID_LEN && SIGN_PUBLIC_KEY_LEN == UTCP_PUBLIC_KEY_LEN &&
               SIGN_SIGNATURE_LEN == UTCP_SIGNATURE_LEN, "UTCP's sizes");
_Static_assert(UTCP_SIGNED_MESSAGE_MAX <= SIGN_MESSAGE_MAX, "a signed message fits a request");

static struct signer_client signer = SIGNER_CLIENT_INIT;

bool identity_lost(void) { return signer.lost; }

bool identity_sign(void *ctx, const uint8_t *message, size_t len, uint8_t signature[UTCP_SIGNATURE_LEN]) {
    (void)ctx;
    static struct sign_request request;
    struct sign_reply reply;
    if (len == 0 || len > sizeof request.message)
        return false;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_SIGN;
    request.domain = SIGN_DOMAIN_UTCP;
    request.len = (uint16_t)len;
    memcpy(request.message, message, len);
    if (signer_ask(&signer, &request, &reply) != 0)
        return false;
    memcpy(signature, reply.signature, UTCP_SIGNATURE_LEN);
    return true;
}

bool identity_load(struct utcp_identity *id) {
    static struct sign_request request;
    struct sign_reply reply;
    if (!signer_wait_ready(&signer, "utcp", "UTCP"))
        return false;
    memset(&request, 0, sizeof request);
    request.op = SIGN_OP_IDENTITY;
    long err = signer_ask(&signer, &request, &reply);
    if (err != 0) {
        printf("utcp: the signer refused the identity request (error %ld)\n", -err);
        return false;
    }
    memset(id, 0, sizeof *id);
    memcpy(id->public_key, reply.public_key, UTCP_PUBLIC_KEY_LEN);
    utcp_cellid(id->public_key, id->cellid);
    if (memcmp(id->cellid, reply.cellid, UTCP_CELLID_LEN) != 0) {
        printf("utcp: the signer's CellID is not its public key's\n");
        return false;
    }
    char text[2 * UTCP_CELLID_LEN + 1];
    cellid_hex(id->cellid, text);
    printf("utcp: CellID %s\n", text);
    return true;
}
