/*
 * A network service's side of the signer (signer/, nexus/signproto.h): the one request call
 * with its reply check, the wait for a signer that starts beside the service at boot, and the
 * CellID as text. The LWF and UTCP services both hold the node's identity only through these.
 */
#ifndef NEXUS_SIGNER_CLIENT_H
#define NEXUS_SIGNER_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "link/client.h"
#include "nexus/signproto.h"

struct signer_client {
    struct link_client link; /* {.service = "signer", .magic = SIGN_LINK_MAGIC} */
    bool lost;               /* the signer died or restarted: nothing more can be signed */
};

#define SIGNER_CLIENT_INIT {.link = {.service = "signer", .magic = SIGN_LINK_MAGIC}}

/* One request (its magic filled in here); the checked reply in *reply. 0 or -errno; a dead or
 * restarted signer sets c->lost. */
long signer_ask(struct signer_client *c, struct sign_request *request, struct sign_reply *reply);
/* Waits up to 30 s for the signer, saying so on the console as `who` ("lwf: ..."); false if it
 * never answered (`protocol` names what then does not start). */
bool signer_wait_ready(struct signer_client *c, const char *who, const char *protocol);
/* 32 lowercase hex digits and a NUL. */
void cellid_hex(const uint8_t cellid[SIGN_CELLID_LEN], char out[2 * SIGN_CELLID_LEN + 1]);

#endif
