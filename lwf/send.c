/*
 * Building LWF frames (docs/lwf.md, sections 2-7, 9): Ethernet header, LWF header, payload
 * (sealed for DATA, the identity claim for ANNOUNCE), zero padding to the class, signature, CRC.
 * Each built frame is parsed back before it is handed out, so a sender can never emit a frame
 * that the spec's receiver would call malformed: the header rules live once, in frame.c.
 */
#include <string.h>

#include "lwf.h"

#define HOP_LIMIT_DIRECT    1u
#define HOP_LIMIT_RELAYABLE 8u

static const uint8_t ethernet_broadcast[LWF_MAC_LEN] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* Writes the Ethernet and LWF headers and zeroes the rest of the class; returns the LWF frame's
 * size, or 0 when `body_len` fits no class or the caller's buffer. */
static size_t frame_begin(const struct lwf_node *me, const uint8_t dst_mac[LWF_MAC_LEN],
                          struct lwf_header *h, size_t body_len, uint8_t *out, size_t cap) {
    size_t signature_len = (h->flags & LWF_FLAG_SIGNED) ? LWF_SIGNATURE_LEN : 0;
    size_t tag_len = (h->flags & LWF_FLAG_ENCRYPTED) ? LWF_TAG_LEN : 0;
    if (body_len > LWF_FRAME_MAX)
        return 0;
    size_t size = lwf_class_for(LWF_HEADER_LEN + body_len + tag_len + signature_len + LWF_CRC_LEN);
    if (size == 0 || cap < LWF_ETH_HEADER_LEN + size)
        return 0;
    memcpy(out, dst_mac, LWF_MAC_LEN);
    memcpy(out + LWF_ETH_SRC_OFFSET, me->mac, LWF_MAC_LEN);
    out[12] = (uint8_t)(LWF_ETHERTYPE >> 8);
    out[13] = (uint8_t)LWF_ETHERTYPE;
    uint8_t *lwf = out + LWF_ETH_HEADER_LEN;
    memset(lwf, 0, size);
    h->hop_limit = (h->flags & LWF_FLAG_RELAYABLE) ? HOP_LIMIT_RELAYABLE : HOP_LIMIT_DIRECT;
    h->payload_length = (uint16_t)(body_len + tag_len);
    memcpy(h->src, me->cellid, LWF_CELLID_LEN);
    lwf_header_encode(h, lwf);
    return size;
}

/* Signs (when SIGNED), adds the CRC and parses the result back as a receiver would. */
static size_t frame_finish(const struct lwf_node *me, uint8_t *out, size_t size) {
    uint8_t *lwf = out + LWF_ETH_HEADER_LEN;
    size_t signature_at = size - LWF_CRC_LEN - LWF_SIGNATURE_LEN;
    if ((lwf[LWF_OFF_FLAGS] & LWF_FLAG_SIGNED) &&
        !lwf_sign(me, lwf, signature_at, lwf + signature_at))
        return 0;
    lwf_frame_seal_crc(lwf, size);
    struct lwf_frame_view view;
    if (lwf_frame_parse(out, LWF_ETH_HEADER_LEN + size, &view) != LWF_ACCEPTED)
        return 0;
    return LWF_ETH_HEADER_LEN + size;
}

size_t lwf_build_data(const struct lwf_node *me, const struct lwf_peer *peer,
                      const struct lwf_data_frame *spec, const uint8_t *plain, size_t len,
                      uint8_t *out, size_t cap) {
    const uint8_t optional = LWF_FLAG_SIGNED | LWF_FLAG_RELAYABLE | LWF_FLAG_PRIORITY;
    struct lwf_header h = {
        .flags = (uint8_t)((spec->flags & optional) | LWF_FLAG_ENCRYPTED),
        .type = LWF_TYPE_DATA,
        .service = spec->service,
        .src_service = spec->src_service,
        .sequence = spec->sequence,
        .message_id = spec->message_id,
        .fragment_index = spec->fragment_index,
        .fragment_count = spec->fragment_count,
    };
    if (spec->fragment_count > 1)
        h.flags |= LWF_FLAG_FRAGMENTED | LWF_FLAG_SIGNED;
    memcpy(h.dst, peer->cellid, LWF_CELLID_LEN);
    memcpy(h.nonce, spec->nonce, LWF_NONCE_LEN);
    size_t size = frame_begin(me, peer->mac, &h, len, out, cap);
    if (size == 0)
        return 0;
    uint8_t *lwf = out + LWF_ETH_HEADER_LEN;
    uint8_t ad[LWF_HEADER_LEN];
    lwf_associated_data(lwf, ad);
    lwf_seal(peer->pairwise_key, ad, h.nonce, plain, len, lwf + LWF_HEADER_LEN);
    return frame_finish(me, out, size);
}

size_t lwf_build_announce(const struct lwf_node *me, const struct lwf_peer *to, uint64_t sequence,
                          bool solicit, uint8_t *out, size_t cap) {
    struct lwf_header h = {
        .flags = LWF_FLAG_SIGNED,
        .type = LWF_TYPE_ANNOUNCE,
        .sequence = sequence,
        .fragment_count = 1,
    };
    memcpy(h.dst, to ? to->cellid : lwf_broadcast_cellid, LWF_CELLID_LEN);
    size_t size = frame_begin(me, to ? to->mac : ethernet_broadcast, &h, LWF_ANNOUNCE_BODY_LEN,
                              out, cap);
    if (size == 0)
        return 0;
    uint8_t *body = out + LWF_ETH_HEADER_LEN + LWF_HEADER_LEN;
    memcpy(body + LWF_ANNOUNCE_OFF_PUBLIC_KEY, me->public_key, LWF_PUBLIC_KEY_LEN);
    memcpy(body + LWF_ANNOUNCE_OFF_MAC, me->mac, LWF_MAC_LEN);
    body[LWF_ANNOUNCE_OFF_SOLICIT] = solicit ? 1 : 0;
    return frame_finish(me, out, size);
}
