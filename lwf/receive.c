/*
 * The receive checks of docs/lwf.md, section 10, in the spec's order. Steps 1-3 are the codec's
 * (frame.c); this file adds who the frame is for, who sent it, freshness, the cryptography, and
 * only then, step 8, the one write: the sender's window (and an ANNOUNCE's MAC). So a frame for
 * another CellID, garbage, a replay or a forgery leaves every peer exactly as it was.
 */
#include <string.h>

#include "lwf.h"

static bool same_cellid(const uint8_t *a, const uint8_t *b) {
    return memcmp(a, b, LWF_CELLID_LEN) == 0;
}

/* Section 9, checks 1 and 2 (and, for a known peer, the same key): the claim is about this
 * sender and this NIC, before a signature is spent on it. */
static bool announce_claim_matches(const struct lwf_frame_view *view, const struct lwf_peer *peer) {
    const uint8_t *public_key = view->payload + LWF_ANNOUNCE_OFF_PUBLIC_KEY;
    uint8_t claimed[LWF_CELLID_LEN];
    lwf_cellid(public_key, claimed);
    return same_cellid(claimed, view->header.src) &&
           memcmp(view->payload + LWF_ANNOUNCE_OFF_MAC, view->eth_src_mac, LWF_MAC_LEN) == 0 &&
           (!peer || memcmp(peer->public_key, public_key, LWF_PUBLIC_KEY_LEN) == 0);
}

/* Step 7: AEAD first (only a holder of the pairwise key passes it, so strangers cannot make us
 * spend an Ed25519 verify on DATA), then the signature. */
static enum lwf_drop check_crypto(const struct lwf_frame_view *view, const struct lwf_peer *peer,
                                  const uint8_t *signer_key, uint8_t *plain) {
    const struct lwf_header *h = &view->header;
    if (h->flags & LWF_FLAG_ENCRYPTED) {
        uint8_t ad[LWF_HEADER_LEN];
        lwf_associated_data(view->lwf, ad);
        if (!lwf_open(peer->pairwise_key, ad, h->nonce, view->payload, h->payload_length, plain))
            return LWF_DROP_AEAD;
    }
    size_t signed_len = view->size - LWF_CRC_LEN - LWF_SIGNATURE_LEN;
    if (view->signature && !lwf_verify(signer_key, view->lwf, signed_len, view->signature))
        return LWF_DROP_BAD_SIGNATURE;
    return LWF_ACCEPTED;
}

enum lwf_drop lwf_receive(const struct lwf_node *me, const uint8_t *eth, size_t eth_len,
                          lwf_peer_lookup lookup, void *table, uint8_t plain[LWF_PLAINTEXT_MAX],
                          struct lwf_received *out) {
    memset(out, 0, sizeof *out);
    struct lwf_frame_view *view = &out->view;
    enum lwf_drop drop = lwf_frame_parse(eth, eth_len, view);
    if (drop != LWF_ACCEPTED)
        return drop;
    const struct lwf_header *h = &view->header;

    if (!same_cellid(h->dst, me->cellid) && !same_cellid(h->dst, lwf_broadcast_cellid))
        return LWF_DROP_UNKNOWN_DESTINATION;
    /* Our own broadcast echoed back by the wire is no peer of ours. */
    if (same_cellid(h->src, me->cellid))
        return LWF_DROP_UNKNOWN_SENDER;
    struct lwf_peer *peer = lookup(table, h->src);
    bool announce = h->type == LWF_TYPE_ANNOUNCE;
    if (!announce && !peer)
        return LWF_DROP_UNKNOWN_SENDER;
    if (announce && !announce_claim_matches(view, peer))
        return LWF_DROP_BAD_SIGNATURE;
    if (peer && !lwf_replay_fresh(&peer->window, h->sequence))
        return LWF_DROP_REPLAY;
    const uint8_t *signer_key = announce ? view->payload + LWF_ANNOUNCE_OFF_PUBLIC_KEY
                                         : peer->public_key;
    drop = check_crypto(view, peer, signer_key, plain);
    if (drop != LWF_ACCEPTED)
        return drop;

    out->peer = peer;
    if (announce) {
        out->announce_public_key = signer_key;
        out->announce_mac = view->payload + LWF_ANNOUNCE_OFF_MAC;
        out->solicit = view->payload[LWF_ANNOUNCE_OFF_SOLICIT] == 1;
    } else {
        out->plain_len = (size_t)h->payload_length - LWF_TAG_LEN;
    }
    if (peer) {
        lwf_replay_accept(&peer->window, h->sequence);
        if (announce)
            memcpy(peer->mac, out->announce_mac, LWF_MAC_LEN);
    }
    return LWF_ACCEPTED;
}
