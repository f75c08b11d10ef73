/* UTCP frames in and out: receive steps 1-3 (docs/utcp.md section 7) in place, header encoding,
 * the NACK body. Only the type table below says which header values each type allows. */
#include <string.h>

#include "utcp.h"

static const char *const drop_names[UTCP_DROP_CAUSES] = {
    [UTCP_ACCEPTED] = "accepted",
    [UTCP_DROP_MALFORMED] = "malformed",
    [UTCP_DROP_UNKNOWN_DESTINATION] = "unknown_destination",
    [UTCP_DROP_NO_SESSION] = "no_session",
    [UTCP_DROP_RATE_LIMITED] = "rate_limited",
    [UTCP_DROP_BAD_COOKIE] = "bad_cookie",
    [UTCP_DROP_BAD_SIGNATURE] = "bad_signature",
    [UTCP_DROP_AEAD] = "aead",
    [UTCP_DROP_REPLAY] = "replay",
    [UTCP_DROP_OUT_OF_WINDOW] = "out_of_window",
    [UTCP_DROP_NO_ROOM] = "no_room",
};

const char *utcp_drop_name(enum utcp_drop cause) {
    return (unsigned)cause < UTCP_DROP_CAUSES ? drop_names[cause] : "unknown";
}

/* What section 4 allows per type. Sealed lengths count the tag; a NACK's is 26 + 16 n. */
struct type_rule {
    bool sealed;
    bool has_stream; /* DATA, FIN: stream 1..65535; the rest: 0 */
    uint8_t flags_allowed;
    uint16_t min_length, max_length;
};

#define SEALED(plain_min, plain_max) (plain_min) + UTCP_TAG_LEN, (plain_max) + UTCP_TAG_LEN
static const struct type_rule type_rules[UTCP_TYPE_COUNT] = {
    [UTCP_TYPE_HELLO] = {false, false, 0, UTCP_HELLO_BODY_LEN, UTCP_HELLO_BODY_LEN},
    [UTCP_TYPE_WELCOME] = {false, false, 0, UTCP_WELCOME_BODY_LEN, UTCP_WELCOME_BODY_LEN},
    [UTCP_TYPE_CONFIRM] = {false, false, 0, UTCP_CONFIRM_BODY_LEN, UTCP_CONFIRM_BODY_LEN},
    [UTCP_TYPE_DATA] = {true, true, UTCP_FLAG_KEY_PHASE, SEALED(0, UTCP_PLAINTEXT_MAX)}, /* 0: opens a stream */
    [UTCP_TYPE_NACK] = {true, false, UTCP_FLAG_KEY_PHASE | UTCP_FLAG_REPLY,
                        SEALED(UTCP_NACK_FIXED_LEN + UTCP_NACK_RANGE_LEN,
                               UTCP_NACK_FIXED_LEN + UTCP_NACK_RANGES_MAX * UTCP_NACK_RANGE_LEN)},
    [UTCP_TYPE_WINDOW] = {true, false, UTCP_FLAG_KEY_PHASE | UTCP_FLAG_REPLY, SEALED(UTCP_RELEASE_LEN, UTCP_RELEASE_LEN)},
    [UTCP_TYPE_SYNC] = {true, false, UTCP_FLAG_KEY_PHASE, SEALED(UTCP_RELEASE_LEN, UTCP_RELEASE_LEN)},
    [UTCP_TYPE_FIN] = {true, true, UTCP_FLAG_KEY_PHASE, SEALED(0, 0)},
    [UTCP_TYPE_RESET] = {true, false, UTCP_FLAG_KEY_PHASE, SEALED(UTCP_RESET_LEN, UTCP_RESET_LEN)},
    [UTCP_TYPE_PING] = {true, false, UTCP_FLAG_KEY_PHASE | UTCP_FLAG_REPLY,
                        SEALED(UTCP_RELEASE_LEN, UTCP_RELEASE_LEN)},
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
uint64_t utcp_get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
void utcp_put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

static bool all_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static bool header_rules_hold(const struct utcp_header *h, size_t len, const uint8_t *frame,
                              const uint8_t me[UTCP_CELLID_LEN]) {
    if (frame[UTCP_OFF_RESERVED] != 0 || h->type == 0 || h->type >= UTCP_TYPE_COUNT)
        return false;
    const struct type_rule *rule = &type_rules[h->type];
    if ((h->flags & ~rule->flags_allowed) != 0 || h->length != len - UTCP_HEADER_LEN ||
        h->length < rule->min_length || h->length > rule->max_length)
        return false;
    if (h->type == UTCP_TYPE_NACK &&
        (h->length - UTCP_TAG_LEN - UTCP_NACK_FIXED_LEN) % UTCP_NACK_RANGE_LEN != 0)
        return false;
    if (rule->has_stream ? h->stream == 0 : h->stream != 0)
        return false;
    if (rule->sealed ? h->sequence == 0 : h->sequence != 0)
        return false;
    if (h->session == 0 || h->window > UTCP_WINDOW_MAX || memcmp(h->src, me, UTCP_CELLID_LEN) == 0)
        return false;
    /* the HELLO's padding: zero, so it says nothing and costs as much as the WELCOME */
    if (h->type == UTCP_TYPE_HELLO &&
        !all_zero(frame + UTCP_HEADER_LEN + 2 * UTCP_PUBLIC_KEY_LEN, UTCP_HELLO_BODY_LEN - 2 * UTCP_PUBLIC_KEY_LEN))
        return false;
    return true;
}

enum utcp_drop utcp_frame_parse(const uint8_t *frame, size_t len, const uint8_t me[UTCP_CELLID_LEN],
                                struct utcp_frame_view *view) {
    if (len < UTCP_HEADER_LEN || len > UTCP_FRAME_MAX || frame[UTCP_OFF_VERSION] != UTCP_VERSION)
        return UTCP_DROP_MALFORMED;
    if (memcmp(frame + UTCP_OFF_DST, me, UTCP_CELLID_LEN) != 0)
        return UTCP_DROP_UNKNOWN_DESTINATION;
    struct utcp_header *h = &view->header;
    h->type = frame[UTCP_OFF_TYPE];
    h->flags = frame[UTCP_OFF_FLAGS];
    memcpy(h->dst, frame + UTCP_OFF_DST, UTCP_CELLID_LEN);
    memcpy(h->src, frame + UTCP_OFF_SRC, UTCP_CELLID_LEN);
    h->session = get32(frame + UTCP_OFF_SESSION);
    h->stream = get16(frame + UTCP_OFF_STREAM);
    h->length = get16(frame + UTCP_OFF_LENGTH);
    h->sequence = utcp_get64(frame + UTCP_OFF_SEQUENCE);
    h->window = get32(frame + UTCP_OFF_WINDOW);
    if (!header_rules_hold(h, len, frame, me))
        return UTCP_DROP_MALFORMED;
    view->frame = frame;
    view->len = len;
    view->body = frame + UTCP_HEADER_LEN;
    return UTCP_ACCEPTED;
}

void utcp_header_encode(const struct utcp_header *h, uint8_t out[UTCP_HEADER_LEN]) {
    out[UTCP_OFF_VERSION] = UTCP_VERSION;
    out[UTCP_OFF_TYPE] = h->type;
    out[UTCP_OFF_FLAGS] = h->flags;
    out[UTCP_OFF_RESERVED] = 0;
    memcpy(out + UTCP_OFF_DST, h->dst, UTCP_CELLID_LEN);
    memcpy(out + UTCP_OFF_SRC, h->src, UTCP_CELLID_LEN);
    put32(out + UTCP_OFF_SESSION, h->session);
    put16(out + UTCP_OFF_STREAM, h->stream);
    put16(out + UTCP_OFF_LENGTH, h->length);
    utcp_put64(out + UTCP_OFF_SEQUENCE, h->sequence);
    put32(out + UTCP_OFF_WINDOW, h->window);
}

bool utcp_nack_parse(const uint8_t *plain, size_t len, struct utcp_nack *nack) {
    if (len < UTCP_NACK_FIXED_LEN)
        return false;
    nack->release = utcp_get64(plain);
    nack->count = get16(plain + 8);
    nack->ranges = plain + UTCP_NACK_FIXED_LEN;
    if (nack->count == 0 || nack->count > UTCP_NACK_RANGES_MAX ||
        len != UTCP_NACK_FIXED_LEN + (size_t)nack->count * UTCP_NACK_RANGE_LEN)
        return false;
    uint64_t floor = nack->release; /* each range starts above the one before */
    for (uint16_t i = 0; i < nack->count; i++) {
        uint64_t first, last;
        utcp_nack_range(nack, i, &first, &last);
        if (first <= floor || last < first)
            return false;
        floor = last;
    }
    return true;
}

void utcp_nack_range(const struct utcp_nack *nack, uint16_t i, uint64_t *first, uint64_t *last) {
    *first = utcp_get64(nack->ranges + (size_t)i * UTCP_NACK_RANGE_LEN);
    *last = utcp_get64(nack->ranges + (size_t)i * UTCP_NACK_RANGE_LEN + 8);
}
