/* The cryptography of docs/utcp.md sections 5-6 through libsodium: CellID, the responder's
 * cookie-derived ephemeral, the transcript and its signatures, the session keys, the rekey
 * ratchet, and ChaCha20-Poly1305-IETF with sequence nonces and the header as AD. */
#include <string.h>

#include <sodium.h>

#include "utcp.h"

#define TAG_CELLID     "libertaria-cellid-v1"
#define TAG_EPHEMERAL  "utcp-responder-ephemeral-v1"
#define TAG_TRANSCRIPT "utcp-transcript-v1"
#define TAG_KEYS       "utcp-session-keys-v1"
#define TAG_REKEY      "utcp-rekey-v1"
#define TAG_LEN(t)     (sizeof(t) - 1)

void utcp_cellid(const uint8_t public_key[UTCP_PUBLIC_KEY_LEN], uint8_t cellid[UTCP_CELLID_LEN]) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, UTCP_CELLID_LEN);
    crypto_generichash_update(&st, (const uint8_t *)TAG_CELLID, TAG_LEN(TAG_CELLID));
    crypto_generichash_update(&st, public_key, UTCP_PUBLIC_KEY_LEN);
    crypto_generichash_final(&st, cellid, UTCP_CELLID_LEN);
}

void utcp_identity_init(struct utcp_identity *id, const uint8_t secret_key[UTCP_SECRET_KEY_LEN]) {
    memcpy(id->secret_key, secret_key, UTCP_SECRET_KEY_LEN);
    crypto_sign_ed25519_sk_to_pk(id->public_key, secret_key);
    utcp_cellid(id->public_key, id->cellid);
}

static void put32(uint8_t p[4], uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

void utcp_responder_ephemeral(const uint8_t cookie_secret[UTCP_KEY_LEN], const uint8_t initiator[UTCP_CELLID_LEN],
                              uint32_t session, const uint8_t initiator_ephemeral[UTCP_PUBLIC_KEY_LEN],
                              uint8_t secret[UTCP_KEY_LEN]) {
    uint8_t sid[4];
    put32(sid, session);
    crypto_generichash_state st;
    crypto_generichash_init(&st, cookie_secret, UTCP_KEY_LEN, UTCP_KEY_LEN);
    crypto_generichash_update(&st, (const uint8_t *)TAG_EPHEMERAL, TAG_LEN(TAG_EPHEMERAL));
    crypto_generichash_update(&st, initiator, UTCP_CELLID_LEN);
    crypto_generichash_update(&st, sid, sizeof sid);
    crypto_generichash_update(&st, initiator_ephemeral, UTCP_PUBLIC_KEY_LEN);
    crypto_generichash_final(&st, secret, UTCP_KEY_LEN);
}

void utcp_ephemeral_public(const uint8_t secret[UTCP_KEY_LEN], uint8_t public_key[UTCP_PUBLIC_KEY_LEN]) {
    crypto_scalarmult_base(public_key, secret);
}

void utcp_transcript(const uint8_t initiator[UTCP_CELLID_LEN], const uint8_t responder[UTCP_CELLID_LEN],
                     uint32_t session, const uint8_t pk_initiator[UTCP_PUBLIC_KEY_LEN],
                     const uint8_t pk_responder[UTCP_PUBLIC_KEY_LEN], const uint8_t e_initiator[UTCP_PUBLIC_KEY_LEN],
                     const uint8_t e_responder[UTCP_PUBLIC_KEY_LEN], uint8_t th[UTCP_KEY_LEN]) {
    uint8_t sid[4];
    put32(sid, session);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, UTCP_KEY_LEN);
    crypto_generichash_update(&st, (const uint8_t *)TAG_TRANSCRIPT, TAG_LEN(TAG_TRANSCRIPT));
    crypto_generichash_update(&st, initiator, UTCP_CELLID_LEN);
    crypto_generichash_update(&st, responder, UTCP_CELLID_LEN);
    crypto_generichash_update(&st, sid, sizeof sid);
    crypto_generichash_update(&st, pk_initiator, UTCP_PUBLIC_KEY_LEN);
    crypto_generichash_update(&st, pk_responder, UTCP_PUBLIC_KEY_LEN);
    crypto_generichash_update(&st, e_initiator, UTCP_PUBLIC_KEY_LEN);
    crypto_generichash_update(&st, e_responder, UTCP_PUBLIC_KEY_LEN);
    crypto_generichash_final(&st, th, UTCP_KEY_LEN);
}

size_t utcp_signed_message(const char *context, const uint8_t th[UTCP_KEY_LEN], uint8_t out[UTCP_SIGNED_MESSAGE_MAX]) {
    size_t n = strlen(context);
    if (n > UTCP_SIGNED_MESSAGE_MAX - UTCP_KEY_LEN)
        n = UTCP_SIGNED_MESSAGE_MAX - UTCP_KEY_LEN;
    memcpy(out, context, n);
    memcpy(out + n, th, UTCP_KEY_LEN);
    return n + UTCP_KEY_LEN;
}

/* What Ed25519 signs: the signature tag, then the signed message (docs/utcp.md, section 5). */
static size_t tagged_message(const uint8_t *message, size_t len, uint8_t out[UTCP_TAGGED_MESSAGE_MAX]) {
    size_t tag = sizeof UTCP_SIGNATURE_TAG - 1;
    memcpy(out, UTCP_SIGNATURE_TAG, tag);
    memcpy(out + tag, message, len);
    return tag + len;
}

void utcp_sign_message(const uint8_t secret_key[UTCP_SECRET_KEY_LEN], const uint8_t *message, size_t len,
                       uint8_t signature[UTCP_SIGNATURE_LEN]) {
    uint8_t tagged[UTCP_TAGGED_MESSAGE_MAX];
    size_t n = tagged_message(message, len, tagged);
    crypto_sign_detached(signature, NULL, tagged, n, secret_key);
}

bool utcp_verify_transcript(const uint8_t public_key[UTCP_PUBLIC_KEY_LEN], const char *context,
                            const uint8_t th[UTCP_KEY_LEN], const uint8_t signature[UTCP_SIGNATURE_LEN]) {
    uint8_t message[UTCP_SIGNED_MESSAGE_MAX], tagged[UTCP_TAGGED_MESSAGE_MAX];
    size_t n = tagged_message(message, utcp_signed_message(context, th, message), tagged);
    return crypto_sign_verify_detached(signature, tagged, n, public_key) == 0;
}

bool utcp_session_keys(const uint8_t secret[UTCP_KEY_LEN], const uint8_t peer_ephemeral[UTCP_PUBLIC_KEY_LEN],
                       const uint8_t th[UTCP_KEY_LEN], uint8_t key_i2r[UTCP_KEY_LEN], uint8_t key_r2i[UTCP_KEY_LEN]) {
    uint8_t shared[UTCP_KEY_LEN], okm[2 * UTCP_KEY_LEN];
    /* libsodium refuses (non-zero) an all-zero result: a small-order point */
    if (crypto_scalarmult(shared, secret, peer_ephemeral) != 0)
        return false;
    crypto_generichash_state st;
    crypto_generichash_init(&st, shared, sizeof shared, sizeof okm);
    crypto_generichash_update(&st, (const uint8_t *)TAG_KEYS, TAG_LEN(TAG_KEYS));
    crypto_generichash_update(&st, th, UTCP_KEY_LEN);
    crypto_generichash_final(&st, okm, sizeof okm);
    memcpy(key_i2r, okm, UTCP_KEY_LEN);
    memcpy(key_r2i, okm + UTCP_KEY_LEN, UTCP_KEY_LEN);
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(okm, sizeof okm);
    return true;
}

void utcp_rekey(const uint8_t key[UTCP_KEY_LEN], uint8_t next[UTCP_KEY_LEN]) {
    crypto_generichash(next, UTCP_KEY_LEN, (const uint8_t *)TAG_REKEY, TAG_LEN(TAG_REKEY), key, UTCP_KEY_LEN);
}

uint32_t utcp_space_of(uint8_t type) {
    return type == UTCP_TYPE_DATA || type == UTCP_TYPE_FIN ? UTCP_SPACE_STREAM : UTCP_SPACE_CONTROL;
}

static void make_nonce(uint32_t space, uint64_t sequence, uint8_t nonce[UTCP_NONCE_LEN]) {
    put32(nonce, space);
    utcp_put64(nonce + 4, sequence);
}

void utcp_seal(const uint8_t key[UTCP_KEY_LEN], uint32_t space, uint8_t *frame, const uint8_t *plain, size_t len) {
    uint8_t nonce[UTCP_NONCE_LEN];
    make_nonce(space, utcp_get64(frame + UTCP_OFF_SEQUENCE), nonce);
    crypto_aead_chacha20poly1305_ietf_encrypt(frame + UTCP_HEADER_LEN, NULL, plain, len, frame, UTCP_HEADER_LEN,
                                              NULL, nonce, key);
}

bool utcp_open(const uint8_t key[UTCP_KEY_LEN], uint32_t space, const struct utcp_frame_view *view, uint8_t *plain) {
    uint8_t nonce[UTCP_NONCE_LEN];
    make_nonce(space, view->header.sequence, nonce);
    return crypto_aead_chacha20poly1305_ietf_decrypt(plain, NULL, NULL, view->body, view->header.length, view->frame,
                                                     UTCP_HEADER_LEN, nonce, key) == 0;
}
