/*
 * The LWF frame codec (docs/lwf.md, sections 3, 4, 7 and receive steps 1-3 of section 10).
 * Parsing reads the caller's frame in place and checks every length before any byte it covers is
 * read: the class size first (so the CRC's position is known), then the CRC (so corrupt frames
 * cost one pass and nothing else), then the header rules.
 */
#include <string.h>

#include "lwf.h"

const uint8_t lwf_broadcast_cellid[LWF_CELLID_LEN] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

static const char *const drop_names[LWF_DROP_CAUSES] = {
    [LWF_ACCEPTED]                 = "accepted",
    [LWF_DROP_MALFORMED]           = "malformed",
    [LWF_DROP_CRC]                 = "crc",
    [LWF_DROP_UNKNOWN_DESTINATION] = "unknown_destination",
    [LWF_DROP_UNKNOWN_SENDER]      = "unknown_sender",
    [LWF_DROP_AEAD]                = "aead",
    [LWF_DROP_BAD_SIGNATURE]       = "bad_signature",
    [LWF_DROP_REPLAY]              = "replay",
    [LWF_DROP_FRAGMENT_OVERFLOW]   = "fragment_overflow",
    [LWF_DROP_FRAGMENT_DUPLICATE]  = "fragment_duplicate",
    [LWF_DROP_FRAGMENT_TIMEOUT]    = "fragment_timeout",
};

const char *lwf_drop_name(enum lwf_drop cause) {
    return (unsigned)cause < LWF_DROP_CAUSES ? drop_names[cause] : "unknown";
}

static const size_t frame_classes[] = {LWF_CLASS_SMALL, LWF_CLASS_MEDIUM, LWF_CLASS_LARGE};

size_t lwf_class_for(size_t need) {
    for (size_t i = 0; i < sizeof frame_classes / sizeof frame_classes[0]; i++)
        if (need <= frame_classes[i])
            return frame_classes[i];
    return 0;
}

static bool is_class_size(size_t size) {
    return size != 0 && lwf_class_for(size) == size;
}

/* What each frame type demands of flags and destination (docs/lwf.md, section 4). */
struct type_rule {
    uint8_t required_flags;
    uint8_t forbidden_flags;
    bool broadcast_allowed;
    uint16_t body_len;      /* exact payload length, 0: any */
};

static const struct type_rule type_rules[] = {
    [LWF_TYPE_DATA]     = {LWF_FLAG_ENCRYPTED, 0, false, 0},
    [LWF_TYPE_ANNOUNCE] = {LWF_FLAG_SIGNED, LWF_FLAG_ENCRYPTED | LWF_FLAG_FRAGMENTED, true,
                           LWF_ANNOUNCE_BODY_LEN},
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

static bool all_zero(const uint8_t *p, size_t n) {
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= p[i];
    return any == 0;
}

static void header_decode(const uint8_t *p, struct lwf_header *h) {
    h->flags = p[LWF_OFF_FLAGS];
    h->type = p[LWF_OFF_TYPE];
    h->hop_limit = p[LWF_OFF_HOP_LIMIT];
    h->service = get16(p + LWF_OFF_SERVICE);
    memcpy(h->src, p + LWF_OFF_SRC, LWF_CELLID_LEN);
    memcpy(h->dst, p + LWF_OFF_DST, LWF_CELLID_LEN);
    h->sequence = get64(p + LWF_OFF_SEQUENCE);
    h->message_id = get32(p + LWF_OFF_MESSAGE_ID);
    h->fragment_index = get16(p + LWF_OFF_FRAG_INDEX);
    h->fragment_count = get16(p + LWF_OFF_FRAG_COUNT);
    h->payload_length = get16(p + LWF_OFF_PAYLOAD_LEN);
    h->src_service = get16(p + LWF_OFF_SRC_SERVICE);
    memcpy(h->nonce, p + LWF_OFF_NONCE, LWF_NONCE_LEN);
}

void lwf_header_encode(const struct lwf_header *h, uint8_t out[LWF_HEADER_LEN]) {
    out[LWF_OFF_MAGIC] = LWF_MAGIC_0;
    out[LWF_OFF_MAGIC + 1] = LWF_MAGIC_1;
    out[LWF_OFF_VERSION] = LWF_VERSION;
    out[LWF_OFF_FLAGS] = h->flags;
    out[LWF_OFF_TYPE] = h->type;
    out[LWF_OFF_HOP_LIMIT] = h->hop_limit;
    put16(out + LWF_OFF_SERVICE, h->service);
    memcpy(out + LWF_OFF_SRC, h->src, LWF_CELLID_LEN);
    memcpy(out + LWF_OFF_DST, h->dst, LWF_CELLID_LEN);
    put64(out + LWF_OFF_SEQUENCE, h->sequence);
    put32(out + LWF_OFF_MESSAGE_ID, h->message_id);
    put16(out + LWF_OFF_FRAG_INDEX, h->fragment_index);
    put16(out + LWF_OFF_FRAG_COUNT, h->fragment_count);
    put16(out + LWF_OFF_PAYLOAD_LEN, h->payload_length);
    put16(out + LWF_OFF_SRC_SERVICE, h->src_service);
    memcpy(out + LWF_OFF_NONCE, h->nonce, LWF_NONCE_LEN);
}

void lwf_associated_data(const uint8_t header[LWF_HEADER_LEN], uint8_t ad[LWF_HEADER_LEN]) {
    memcpy(ad, header, LWF_HEADER_LEN);
    ad[LWF_OFF_HOP_LIMIT] = 0;
}

void lwf_frame_seal_crc(uint8_t *lwf, size_t size) {
    put32(lwf + size - LWF_CRC_LEN, lwf_crc32c(lwf, size - LWF_CRC_LEN));
}

/* Section 7: a fragment's place in its message, or an unfragmented frame's zeros. */
static bool fragment_fields_valid(const struct lwf_header *h) {
    if (!(h->flags & LWF_FLAG_FRAGMENTED))
        return h->fragment_count == 1 && h->fragment_index == 0 && h->message_id == 0;
    const uint8_t needed = LWF_FLAG_ENCRYPTED | LWF_FLAG_SIGNED;
    if ((h->flags & needed) != needed || h->fragment_count < 2 ||
        h->fragment_count > LWF_FRAGMENTS_MAX || h->fragment_index >= h->fragment_count)
        return false;
    size_t chunk = (size_t)h->payload_length - LWF_TAG_LEN;
    bool last = h->fragment_index == h->fragment_count - 1;
    return last ? chunk >= 1 && chunk <= LWF_CHUNK_LEN : chunk == LWF_CHUNK_LEN;
}

static bool header_valid(const uint8_t *lwf, const struct lwf_header *h) {
    if (lwf[LWF_OFF_MAGIC] != LWF_MAGIC_0 || lwf[LWF_OFF_MAGIC + 1] != LWF_MAGIC_1 ||
        lwf[LWF_OFF_VERSION] != LWF_VERSION || (h->flags & ~LWF_FLAGS_KNOWN) ||
        h->sequence == 0 ||
        memcmp(h->src, lwf_broadcast_cellid, LWF_CELLID_LEN) == 0)
        return false;
    if (h->type >= sizeof type_rules / sizeof type_rules[0] || type_rules[h->type].required_flags == 0)
        return false;
    const struct type_rule *rule = &type_rules[h->type];
    if ((h->flags & rule->required_flags) != rule->required_flags || (h->flags & rule->forbidden_flags))
        return false;
    if (!rule->broadcast_allowed && memcmp(h->dst, lwf_broadcast_cellid, LWF_CELLID_LEN) == 0)
        return false;
    if (rule->body_len && h->payload_length != rule->body_len)
        return false;
    if (h->type == LWF_TYPE_ANNOUNCE && (h->service != 0 || h->src_service != 0))
        return false;
    if (h->flags & LWF_FLAG_ENCRYPTED) {
        if (h->payload_length < LWF_TAG_LEN)
            return false;
    } else if (!all_zero(h->nonce, LWF_NONCE_LEN)) {
        return false;
    }
    return fragment_fields_valid(h);
}

/* Section 9: the body's two one-byte fields; its length was checked with the header. */
static bool announce_body_valid(const uint8_t *body) {
    return body[LWF_ANNOUNCE_OFF_SOLICIT] <= 1 && body[LWF_ANNOUNCE_OFF_RESERVED] == 0;
}

enum lwf_drop lwf_frame_parse(const uint8_t *eth, size_t eth_len, struct lwf_frame_view *view) {
    if (eth_len < LWF_ETH_HEADER_LEN || !is_class_size(eth_len - LWF_ETH_HEADER_LEN))
        return LWF_DROP_MALFORMED;
    const uint8_t *lwf = eth + LWF_ETH_HEADER_LEN;
    size_t size = eth_len - LWF_ETH_HEADER_LEN;
    if (lwf_crc32c(lwf, size - LWF_CRC_LEN) != get32(lwf + size - LWF_CRC_LEN))
        return LWF_DROP_CRC;

    struct lwf_header *h = &view->header;
    header_decode(lwf, h);
    if (!header_valid(lwf, h))
        return LWF_DROP_MALFORMED;
    size_t signature_len = (h->flags & LWF_FLAG_SIGNED) ? LWF_SIGNATURE_LEN : 0;
    size_t used = LWF_HEADER_LEN + (size_t)h->payload_length + signature_len + LWF_CRC_LEN;
    if (used > size)
        return LWF_DROP_MALFORMED;
    size_t padding_at = LWF_HEADER_LEN + h->payload_length;
    if (!all_zero(lwf + padding_at, size - used))
        return LWF_DROP_MALFORMED;
    if (h->type == LWF_TYPE_ANNOUNCE && !announce_body_valid(lwf + LWF_HEADER_LEN))
        return LWF_DROP_MALFORMED;

    view->eth_src_mac = eth + LWF_ETH_SRC_OFFSET;
    view->lwf = lwf;
    view->size = size;
    view->payload = lwf + LWF_HEADER_LEN;
    view->signature = signature_len ? lwf + size - LWF_CRC_LEN - LWF_SIGNATURE_LEN : NULL;
    return LWF_ACCEPTED;
}
