/* A service's calls to the signer (signer_client.h). */
#include "identity/signer_client.h"

#include <errno.h>
#include <stdio.h>

#define SIGNER_WAIT_TRIES 6 /* link_client_ready waits up to 5 s each: 30 s for a signer to start */

long signer_ask(struct signer_client *c, struct sign_request *request, struct sign_reply *reply) {
    struct nxs_msg m = {.op = SIGN_LINK_OP, .len = sizeof *request};
    request->magic = SIGN_REQUEST_MAGIC;
    long result = link_client_call(&c->link, &m, request, sizeof *request, reply, sizeof *reply);
    if (result == -ECONNRESET || result == -ENETDOWN || result == -EIO)
        c->lost = true;
    if (result == 0 && (m.len != sizeof *reply || sign_reply_check(reply, request->op) != 0))
        result = -EBADMSG;
    return result;
}

bool signer_wait_ready(struct signer_client *c, const char *who, const char *protocol) {
    for (int i = 0; i < SIGNER_WAIT_TRIES; i++) {
        if (link_client_ready(&c->link) == 0)
            return true;
        printf("%s: waiting for the signer, which holds this node's key (%d s)\n", who, 5 * (i + 1));
    }
    printf("%s: the signer did not answer in %d s: this node cannot sign, so %s does not start\n", who,
           5 * SIGNER_WAIT_TRIES, protocol);
    return false;
}

void cellid_hex(const uint8_t cellid[SIGN_CELLID_LEN], char out[2 * SIGN_CELLID_LEN + 1]) {
    for (unsigned i = 0; i < SIGN_CELLID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", cellid[i]);
}
