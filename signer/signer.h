/*
 * The signer (signer/): the one fiber that holds the node's key pair, for its whole life. It
 * takes the boot key blob (docs/identity.md) or makes an ephemeral key, publishes the CellID,
 * and answers the few requests that need the secret (nexus/signproto.h) over its links: from
 * the LWF service now, the UTCP service next. It parses no frame and serves no app, so the
 * fiber that reads hostile input (the LWF service) never has the secret to lose, and a crash
 * there costs the node nothing of its identity.
 *
 *   keys.c     the key pair: from the key blob or ephemeral; what it publishes
 *   signer.c   the loop and the operations, each checked first by request.c
 *   request.c  the check of every request field (portable: host tests, fuzz_signproto)
 */
#ifndef SIGNER_H
#define SIGNER_H

#include <stdbool.h>
#include <stdint.h>

#include "lwf.h"
#include "nexus/signproto.h"

struct signer_keys {
    uint8_t secret_key[LWF_SECRET_KEY_LEN]; /* libsodium's seed || public key */
    uint8_t public_key[LWF_PUBLIC_KEY_LEN];
    uint8_t cellid[LWF_CELLID_LEN];
    uint8_t kind; /* enum sign_kind */
};

/* Takes the key blob, or without one makes an ephemeral pair; gives up the keyblob promise
 * either way and publishes /Bus/net/cellid, /Bus/lwf/public_key, /Bus/lwf/identity. false if
 * no key could be made (the reason is printed and published). */
bool keys_load(struct signer_keys *k);

#endif
