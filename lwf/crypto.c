/*
 * LWF's cryptography (docs/lwf.md, sections 1, 5, 6), all of it libsodium: Debian's libsodium-dev
 * on the host, the freestanding build of Debian's source package in the guest. Nothing here is a
 * primitive of its own; this file pins which primitive gets which bytes.
 */
#include <string.h>

#include <sodium.h>

#include "lwf.h"

static const char cellid_tag[] = "libertaria-cellid-v1";
static const char pairwise_tag[] = "libertaria-lwf-pairwise-v1";
#define TAG_BYTES(tag) (sizeof(tag) - 1) /* the ASCII bytes, no NUL */

_Static_assert(LWF_SIGNATURE_LEN == crypto_sign_BYTES, "Ed25519 signature size");
_Static_assert(LWF_SECRET_KEY_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(LWF_PUBLIC_KEY_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(LWF_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "XChaCha nonce");
_Static_assert(LWF_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "Poly1305 tag");
_Static_assert(LWF_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "AEAD key size");

void lwf_cellid(const uint8_t public_key[LWF_PUBLIC_KEY_LEN], uint8_t cellid[LWF_CELLID_LEN]) {
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, LWF_CELLID_LEN);
    crypto_generichash_update(&state, (const uint8_t *)cellid_tag, TAG_BYTES(cellid_tag));
    crypto_generichash_update(&state, public_key, LWF_PUBLIC_KEY_LEN);
    crypto_generichash_final(&state, cellid, LWF_CELLID_LEN);
}

bool lwf_sign_message(const uint8_t secret_key[LWF_SECRET_KEY_LEN], const uint8_t *message, size_t len,
                      uint8_t signature[LWF_SIGNATURE_LEN]) {
    return crypto_sign_detached(signature, NULL, message, len, secret_key) == 0;
}

bool lwf_pairwise_derive(const uint8_t secret_key[LWF_SECRET_KEY_LEN], const uint8_t my_cellid[LWF_CELLID_LEN],
                         const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN], uint8_t key[LWF_KEY_LEN]) {
    uint8_t my_x25519[crypto_scalarmult_curve25519_BYTES];
    uint8_t peer_x25519[crypto_scalarmult_curve25519_BYTES];
    uint8_t shared[crypto_scalarmult_curve25519_BYTES];
    uint8_t peer_cellid[LWF_CELLID_LEN];
    bool ok = crypto_sign_ed25519_pk_to_curve25519(peer_x25519, peer_public_key) == 0 &&
              crypto_sign_ed25519_sk_to_curve25519(my_x25519, secret_key) == 0 &&
              crypto_scalarmult_curve25519(shared, my_x25519, peer_x25519) == 0;
    if (ok) {
        lwf_cellid(peer_public_key, peer_cellid);
        bool mine_lower = memcmp(my_cellid, peer_cellid, LWF_CELLID_LEN) < 0;
        crypto_generichash_state state;
        crypto_generichash_init(&state, NULL, 0, LWF_KEY_LEN);
        crypto_generichash_update(&state, (const uint8_t *)pairwise_tag, TAG_BYTES(pairwise_tag));
        crypto_generichash_update(&state, shared, sizeof shared);
        crypto_generichash_update(&state, mine_lower ? my_cellid : peer_cellid, LWF_CELLID_LEN);
        crypto_generichash_update(&state, mine_lower ? peer_cellid : my_cellid, LWF_CELLID_LEN);
        crypto_generichash_final(&state, key, LWF_KEY_LEN);
    }
    sodium_memzero(my_x25519, sizeof my_x25519);
    sodium_memzero(shared, sizeof shared);
    return ok;
}

/* The hooks of a node whose key is held in this process. */
static bool local_sign(void *context, const uint8_t *message, size_t len, uint8_t signature[LWF_SIGNATURE_LEN]) {
    const struct lwf_local_key *key = context;
    return lwf_sign_message(key->secret_key, message, len, signature);
}

static bool local_pairwise(void *context, const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN],
                           uint8_t key[LWF_KEY_LEN]) {
    const struct lwf_local_key *mine = context;
    return lwf_pairwise_derive(mine->secret_key, mine->cellid, peer_public_key, key);
}

void lwf_node_init(struct lwf_node *node, struct lwf_local_key *key, const uint8_t secret_key[LWF_SECRET_KEY_LEN],
                   const uint8_t mac[LWF_MAC_LEN]) {
    memcpy(key->secret_key, secret_key, LWF_SECRET_KEY_LEN);
    crypto_sign_ed25519_sk_to_pk(node->public_key, secret_key);
    lwf_cellid(node->public_key, node->cellid);
    memcpy(key->cellid, node->cellid, LWF_CELLID_LEN);
    memcpy(node->mac, mac, LWF_MAC_LEN);
    node->sign = local_sign;
    node->pairwise = local_pairwise;
    node->context = key;
}

bool lwf_pairwise_key(const struct lwf_node *me, const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN],
                      uint8_t key[LWF_KEY_LEN]) {
    return me->pairwise(me->context, peer_public_key, key);
}

bool lwf_peer_init(struct lwf_peer *peer, const struct lwf_node *me,
                   const uint8_t public_key[LWF_PUBLIC_KEY_LEN], const uint8_t mac[LWF_MAC_LEN],
                   uint64_t sequence) {
    if (!lwf_pairwise_key(me, public_key, peer->pairwise_key))
        return false;
    memcpy(peer->public_key, public_key, LWF_PUBLIC_KEY_LEN);
    lwf_cellid(public_key, peer->cellid);
    memcpy(peer->mac, mac, LWF_MAC_LEN);
    lwf_replay_start(&peer->window, sequence);
    return true;
}

void lwf_seal(const uint8_t key[LWF_KEY_LEN], const uint8_t ad[LWF_HEADER_LEN],
              const uint8_t nonce[LWF_NONCE_LEN], const uint8_t *plain, size_t len, uint8_t *out) {
    crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, plain, len, ad, LWF_HEADER_LEN, NULL,
                                               nonce, key);
}

bool lwf_open(const uint8_t key[LWF_KEY_LEN], const uint8_t ad[LWF_HEADER_LEN],
              const uint8_t nonce[LWF_NONCE_LEN], const uint8_t *sealed, size_t len, uint8_t *plain) {
    return len >= LWF_TAG_LEN &&
           crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, sealed, len, ad,
                                                      LWF_HEADER_LEN, nonce, key) == 0;
}

/* Ed25519 (pure) needs its message in one piece, and the signed bytes differ from the frame in
 * the hop limit, so they are copied once: the frame itself may be read-only (an RX buffer). */
static size_t signed_bytes(const uint8_t *lwf, size_t signed_len, uint8_t copy[LWF_FRAME_MAX]) {
    memcpy(copy, lwf, signed_len);
    copy[LWF_OFF_HOP_LIMIT] = 0;
    return signed_len;
}

static bool signed_len_valid(size_t signed_len) {
    return signed_len >= LWF_HEADER_LEN && signed_len <= LWF_FRAME_MAX;
}

bool lwf_sign(const struct lwf_node *me, const uint8_t *lwf, size_t signed_len,
              uint8_t signature[LWF_SIGNATURE_LEN]) {
    uint8_t copy[LWF_FRAME_MAX];
    return signed_len_valid(signed_len) &&
           me->sign(me->context, copy, signed_bytes(lwf, signed_len, copy), signature);
}

bool lwf_verify(const uint8_t public_key[LWF_PUBLIC_KEY_LEN], const uint8_t *lwf, size_t signed_len,
                const uint8_t signature[LWF_SIGNATURE_LEN]) {
    uint8_t copy[LWF_FRAME_MAX];
    return signed_len_valid(signed_len) &&
           crypto_sign_verify_detached(signature, copy, signed_bytes(lwf, signed_len, copy),
                                       public_key) == 0;
}
