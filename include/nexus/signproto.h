/*
 * The signer's protocol: the few operations that need the node's secret key, asked of the signer
 * fiber (signer/) over a service link (nexus/link.h) by the LWF service (and the UTCP service
 * next). The secret never crosses the link: out come a public key, signatures, and LWF pairwise
 * keys derived inside the signer (docs/lwf.md, section 5), never the X25519 shared secret.
 *
 * One request, one reply, both fixed-size: the link header's op is SIGN_LINK_OP, its len exactly
 * sizeof(struct sign_request), every other header field zero; the slot's data holds one struct
 * sign_request. The reply's len is sizeof(struct sign_reply), its data one struct sign_reply.
 * signer/request.c checks every field of both headers (sign_link_check, sign_request_check);
 * docs/identity.md, "The signer", describes it in prose.
 *
 * Domains: a signature is made for one protocol, named by the request's domain byte, and can
 * never pass as another protocol's.
 *   SIGN_DOMAIN_LWF   the message is an LWF frame's signed bytes (docs/lwf.md, section 6),
 *                     signed as they are, so nothing on the wire changes: the signer checks they
 *                     are shaped like one of this node's frames (magic 'L' 'W', version 1, hop
 *                     limit 0, source CellID this node's, 84..1282 bytes).
 *   SIGN_DOMAIN_UTCP  the signer signs SIGN_UTCP_TAG || message: UTCP's signed bytes always
 *                     begin with 'n', an LWF frame's with 'L', so neither can stand for the other.
 */
#ifndef NEXUS_SIGNPROTO_H
#define NEXUS_SIGNPROTO_H

#include <stdint.h>

#include "nexus/link.h"

#define SIGN_LINK_MAGIC 0x4e585347u    /* "NXSG" in the link header: a signer answers here */
#define SIGN_REQUEST_MAGIC 0x53475251u /* "SGRQ" */
#define SIGN_REPLY_MAGIC 0x53475250u   /* "SGRP" */
#define SIGN_LINK_OP 1u

#define SIGN_MESSAGE_MAX 1282u /* LWF's largest signed span: class 1350 - signature 64 - CRC 4 */
#define SIGN_PUBLIC_KEY_LEN 32u
#define SIGN_CELLID_LEN 16u
#define SIGN_SIGNATURE_LEN 64u
#define SIGN_KEY_LEN 32u
#define SIGN_UTCP_TAG "nexus-utcp-signature-v1" /* ASCII, no NUL, before a UTCP message */

enum sign_op {
    SIGN_OP_IDENTITY = 1,   /* -> public key, CellID, kind */
    SIGN_OP_SEQUENCE_START, /* domain -> the seconds that start a sender's sequence numbers */
    SIGN_OP_SIGN,           /* domain, message[len] -> signature */
    SIGN_OP_PAIRWISE,       /* domain LWF, a peer's public key -> the LWF pairwise key */
    SIGN_OP_COUNT
};

enum sign_domain {
    SIGN_DOMAIN_NONE = 0, /* IDENTITY only */
    SIGN_DOMAIN_LWF = 1,
    SIGN_DOMAIN_UTCP = 2,
    SIGN_DOMAIN_COUNT
};

/* Where the key pair came from (/Bus/lwf/identity says it in words: sign_kind_text). */
enum sign_kind {
    SIGN_KIND_PERSISTENT = 1,       /* the key file given at boot */
    SIGN_KIND_EPHEMERAL_NO_FILE,    /* no key file: made from the entropy syscall */
    SIGN_KIND_EPHEMERAL_REFUSED,    /* the key file was refused (the console says why) */
    SIGN_KIND_EPHEMERAL_RESTARTED,  /* the signer restarted: the blob is gone with its first run */
    SIGN_KIND_COUNT
};

struct sign_request {
    uint32_t magic;   /* SIGN_REQUEST_MAGIC */
    uint8_t op;       /* enum sign_op */
    uint8_t domain;   /* enum sign_domain; NONE for IDENTITY */
    uint16_t len;     /* SIGN: message bytes; 0 otherwise */
    uint8_t public_key[SIGN_PUBLIC_KEY_LEN]; /* PAIRWISE: the peer's Ed25519 key; else zero */
    uint8_t message[SIGN_MESSAGE_MAX];       /* SIGN: len bytes, the rest zero; else zero */
    uint8_t zero[6];                         /* to a multiple of 8: zero */
};

struct sign_reply {
    uint32_t magic;  /* SIGN_REPLY_MAGIC */
    uint8_t op;      /* the request's */
    uint8_t kind;    /* IDENTITY: enum sign_kind */
    uint16_t zero;
    uint64_t sequence_start;                 /* SEQUENCE_START */
    uint8_t public_key[SIGN_PUBLIC_KEY_LEN]; /* IDENTITY */
    uint8_t cellid[SIGN_CELLID_LEN];         /* IDENTITY */
    uint8_t signature[SIGN_SIGNATURE_LEN];   /* SIGN */
    uint8_t key[SIGN_KEY_LEN];               /* PAIRWISE */
};

_Static_assert(sizeof(struct sign_request) % 8 == 0, "no padding the check would not see");
_Static_assert(sizeof(struct sign_request) <= NXS_SLOT_DATA, "a request fits a link slot");
_Static_assert(sizeof(struct sign_reply) <= NXS_SLOT_DATA, "a reply fits a link slot");

/* The link header of a signer request: 0, or -EINVAL (another op, another length, any other
 * field not zero). */
int sign_link_check(const struct nxs_msg *m);
/* A request, copied out of the slot, for a signer whose CellID is `own_cellid`: 0; -EINVAL for a
 * bad magic, op, domain or length, or a byte not zero that must be; -EPERM for an LWF message
 * that is not shaped like this node's frame. */
int sign_request_check(const struct sign_request *r, const uint8_t own_cellid[SIGN_CELLID_LEN]);
/* A reply for `op`: 0, or -EBADMSG. */
int sign_reply_check(const struct sign_reply *r, uint8_t op);
/* The words /Bus/lwf/identity holds for a kind ("?" for none). */
const char *sign_kind_text(uint8_t kind);

#endif
