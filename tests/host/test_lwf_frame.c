/*
 * The LWF receive path under attack and corruption (docs/lwf.md, sections 8-10): every single-bit
 * flip of a valid frame, as the wire makes it (CRC catches all) and as a forger makes it (CRC
 * recomputed: each field's own check must catch it, with the right cause); replays, the window's
 * edges, forged ANNOUNCEs, frames for other CellIDs, unknown senders, garbage, truncation at every
 * length. After every drop the receiver's peer table must be byte for byte what it was.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lwf_fixture.h"

#define CAUSE(c) (1u << (c))

static uint8_t plain[LWF_PLAINTEXT_MAX];

/* b's view of the world: it knows a, its window at sequence 1. */
static struct peer_table table_of_b(void) {
    struct peer_table t = {0};
    table_add(&t, &node_b, &node_a, 1);
    return t;
}

/* Receives a copy of exactly len bytes at `me`; *unchanged says whether a drop left `t` as it was. */
static enum lwf_drop receive(const struct lwf_node *me, struct peer_table *t, const uint8_t *frame,
                             size_t len, bool *unchanged) {
    struct peer_table before;
    memcpy(&before, t, sizeof before);
    uint8_t *copy = exact_copy(frame, len);
    struct lwf_received got;
    enum lwf_drop drop = lwf_receive(me, copy, len, table_lookup, t, plain, &got);
    free(copy);
    if (drop != LWF_ACCEPTED && memcmp(&before, t, sizeof before) != 0)
        *unchanged = false;
    return drop;
}

/* The same frame with its CRC made right again: what a forger sends. */
static void fix_crc(uint8_t *eth, size_t len) {
    lwf_frame_seal_crc(eth + LWF_ETH_HEADER_LEN, len - LWF_ETH_HEADER_LEN);
}

struct field {
    const char *name;
    size_t offset;   /* in the LWF frame */
    size_t len;
    unsigned allowed; /* the causes a forged flip there may get */
};

/* Flips every bit of each field of `frame`, once as the wire does and once with the CRC fixed. */
static void flip_fields(const char *what, const struct lwf_node *me, struct peer_table (*table)(void),
                        const uint8_t *frame, size_t len, const struct field *fields, size_t n) {
    uint8_t *work = exact_copy(frame, len);
    for (size_t f = 0; f < n; f++) {
        bool raw_crc = true, forged_ok = true, unchanged = true;
        size_t flips = 0;
        unsigned got_causes = 0;
        for (size_t byte = fields[f].offset; byte < fields[f].offset + fields[f].len; byte++) {
            for (int bit = 0; bit < 8; bit++) {
                struct peer_table t = table();
                memcpy(work, frame, len);
                work[LWF_ETH_HEADER_LEN + byte] ^= (uint8_t)(1u << bit);
                raw_crc &= receive(me, &t, work, len, &unchanged) == LWF_DROP_CRC;
                fix_crc(work, len);
                t = table();
                enum lwf_drop drop = receive(me, &t, work, len, &unchanged);
                got_causes |= CAUSE(drop);
                forged_ok &= (fields[f].allowed & CAUSE(drop)) != 0;
                flips++;
            }
        }
        char name[96];
        snprintf(name, sizeof name, "%s.%s.wire_flip_is_crc", what, fields[f].name);
        CHECK(name, flips > 0 && raw_crc);
        snprintf(name, sizeof name, "%s.%s.forged_flip_cause", what, fields[f].name);
        CHECK(name, forged_ok);
        if (!forged_ok)
            printf("INFO %s: causes seen 0x%x, allowed 0x%x\n", name, got_causes, fields[f].allowed);
        snprintf(name, sizeof name, "%s.%s.no_state_on_drop", what, fields[f].name);
        CHECK(name, unchanged);
    }
    free(work);
}

static void test_unicast_flips(void) {
    size_t len;
    const uint8_t *frame = vector("unicast_frame", &len);
    size_t size = len - LWF_ETH_HEADER_LEN;
    size_t message_len;
    vector("unicast_message", &message_len);
    size_t payload_len = message_len + LWF_TAG_LEN;
    size_t signature_at = size - LWF_CRC_LEN - LWF_SIGNATURE_LEN;
    const struct field fields[] = {
        {"magic_version", LWF_OFF_MAGIC, 3, CAUSE(LWF_DROP_MALFORMED)},
        /* ENCRYPTED, SIGNED, FRAGMENTED, unknown bits: layout rules; RELAYABLE, PRIORITY: the AD */
        {"flags", LWF_OFF_FLAGS, 1, CAUSE(LWF_DROP_MALFORMED) | CAUSE(LWF_DROP_AEAD)},
        {"type", LWF_OFF_TYPE, 1, CAUSE(LWF_DROP_MALFORMED)},
        /* the one mutable byte: outside AD and signature by design (relays) */
        {"hop_limit", LWF_OFF_HOP_LIMIT, 1, CAUSE(LWF_ACCEPTED)},
        {"service", LWF_OFF_SERVICE, 2, CAUSE(LWF_DROP_AEAD)},
        {"src", LWF_OFF_SRC, LWF_CELLID_LEN, CAUSE(LWF_DROP_UNKNOWN_SENDER)},
        {"dst", LWF_OFF_DST, LWF_CELLID_LEN, CAUSE(LWF_DROP_UNKNOWN_DESTINATION)},
        /* higher: fresh, then the AD fails; clearing bit 32 gives 1, which the window has seen */
        {"sequence", LWF_OFF_SEQUENCE, 8, CAUSE(LWF_DROP_AEAD) | CAUSE(LWF_DROP_REPLAY)},
        {"fragment_fields", LWF_OFF_MESSAGE_ID, 8, CAUSE(LWF_DROP_MALFORMED)},
        /* shorter: ciphertext becomes non-zero padding; longer: zeros join the ciphertext */
        {"payload_length", LWF_OFF_PAYLOAD_LEN, 2, CAUSE(LWF_DROP_MALFORMED) | CAUSE(LWF_DROP_AEAD)},
        {"src_service", LWF_OFF_SRC_SERVICE, 2, CAUSE(LWF_DROP_AEAD)},
        {"nonce", LWF_OFF_NONCE, LWF_NONCE_LEN, CAUSE(LWF_DROP_AEAD)},
        {"payload", LWF_HEADER_LEN, payload_len, CAUSE(LWF_DROP_AEAD)},
        {"padding", LWF_HEADER_LEN + payload_len, signature_at - LWF_HEADER_LEN - payload_len,
         CAUSE(LWF_DROP_MALFORMED)},
        {"signature", signature_at, LWF_SIGNATURE_LEN, CAUSE(LWF_DROP_BAD_SIGNATURE)},
    };
    flip_fields("unicast", &node_b, table_of_b, frame, len, fields, sizeof fields / sizeof fields[0]);

    bool all_crc = true, unchanged = true;
    uint8_t *work = exact_copy(frame, len);
    for (size_t bit = 0; bit < 32; bit++) {
        struct peer_table t = table_of_b();
        memcpy(work, frame, len);
        work[len - LWF_CRC_LEN + bit / 8] ^= (uint8_t)(1u << bit % 8);
        all_crc &= receive(&node_b, &t, work, len, &unchanged) == LWF_DROP_CRC;
    }
    free(work);
    CHECK("unicast.crc.every_flip_is_crc", all_crc && unchanged);
}

static struct peer_table table_empty(void) {
    return (struct peer_table){0};
}

static void test_announce_flips(void) {
    size_t len;
    const uint8_t *frame = vector("announce_frame", &len);
    size_t body = LWF_HEADER_LEN;
    size_t signature_at = len - LWF_ETH_HEADER_LEN - LWF_CRC_LEN - LWF_SIGNATURE_LEN;
    const struct field fields[] = {
        {"src", LWF_OFF_SRC, LWF_CELLID_LEN, CAUSE(LWF_DROP_BAD_SIGNATURE)},
        {"body_public_key", body + LWF_ANNOUNCE_OFF_PUBLIC_KEY, LWF_PUBLIC_KEY_LEN,
         CAUSE(LWF_DROP_BAD_SIGNATURE)},
        {"body_mac", body + LWF_ANNOUNCE_OFF_MAC, LWF_MAC_LEN, CAUSE(LWF_DROP_BAD_SIGNATURE)},
        /* bit 0 makes solicit 0, still well formed: then the signature fails */
        {"body_solicit", body + LWF_ANNOUNCE_OFF_SOLICIT, 1,
         CAUSE(LWF_DROP_MALFORMED) | CAUSE(LWF_DROP_BAD_SIGNATURE)},
        {"body_reserved", body + LWF_ANNOUNCE_OFF_RESERVED, 1, CAUSE(LWF_DROP_MALFORMED)},
        {"signature", signature_at, LWF_SIGNATURE_LEN, CAUSE(LWF_DROP_BAD_SIGNATURE)},
        {"sequence", LWF_OFF_SEQUENCE, 8, CAUSE(LWF_DROP_BAD_SIGNATURE)},
    };
    flip_fields("announce", &node_b, table_empty, frame, len, fields, sizeof fields / sizeof fields[0]);
}

static uint8_t frame[LWF_ETH_HEADER_LEN + LWF_FRAME_MAX];

static size_t data_frame(const struct lwf_node *from, const struct lwf_peer *to, uint64_t sequence,
                         uint8_t flags, size_t plain_len) {
    static uint8_t message[LWF_PLAINTEXT_MAX + 1];
    struct lwf_data_frame spec = {.flags = flags, .service = 5, .sequence = sequence,
                                  .fragment_count = 1};
    memset(spec.nonce, (int)(sequence & 0xFF), sizeof spec.nonce);
    return lwf_build_data(from, to, &spec, message, plain_len, frame, sizeof frame);
}

static void test_replay(void) {
    struct peer_table of_a = {0}, t = table_of_b();
    struct lwf_peer *b_at_a = table_add(&of_a, &node_a, &node_b, 1);
    bool unchanged = true;
    size_t n = data_frame(&node_a, b_at_a, 100, LWF_FLAG_SIGNED, 10);
    uint8_t first[sizeof frame];
    memcpy(first, frame, n);
    CHECK("replay.first_accepted", receive(&node_b, &t, first, n, &unchanged) == LWF_ACCEPTED);
    CHECK("replay.again_dropped", receive(&node_b, &t, first, n, &unchanged) == LWF_DROP_REPLAY);
    n = data_frame(&node_a, b_at_a, 90, 0, 10);
    CHECK("replay.older_unseen_in_window_accepted", receive(&node_b, &t, frame, n, &unchanged) == LWF_ACCEPTED);
    CHECK("replay.older_seen_dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_REPLAY);
    n = data_frame(&node_a, b_at_a, 100 + LWF_REPLAY_WINDOW, 0, 10);
    CHECK("replay.jump_accepted", receive(&node_b, &t, frame, n, &unchanged) == LWF_ACCEPTED);
    /* the window is now 101 ... 164: 100 is 64 behind, just out; 101 the oldest still in */
    n = data_frame(&node_a, b_at_a, 99, 0, 10);
    CHECK("replay.out_of_window_dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_REPLAY);
    n = data_frame(&node_a, b_at_a, 100, 0, 10);
    CHECK("replay.just_out_of_window_dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_REPLAY);
    n = data_frame(&node_a, b_at_a, 101, 0, 10);
    CHECK("replay.oldest_in_window_accepted", receive(&node_b, &t, frame, n, &unchanged) == LWF_ACCEPTED);
    CHECK("replay.drops_left_no_state", unchanged);

    struct lwf_replay_window w;
    lwf_replay_start(&w, UINT64_MAX - 1);
    bool top = lwf_replay_fresh(&w, UINT64_MAX) && !lwf_replay_fresh(&w, UINT64_MAX - 1);
    lwf_replay_accept(&w, UINT64_MAX);
    top &= !lwf_replay_fresh(&w, UINT64_MAX) && !lwf_replay_fresh(&w, 1) &&
           lwf_replay_fresh(&w, UINT64_MAX - 63) && !lwf_replay_fresh(&w, UINT64_MAX - 64);
    CHECK("window.top_of_sequence_space", top);
    lwf_replay_start(&w, 1);
    lwf_replay_accept(&w, 1000);
    CHECK("window.far_jump_forgets_old_bits", w.seen == 1 && w.highest == 1000 && lwf_replay_fresh(&w, 999));
}

static void test_destination_and_sender(void) {
    struct peer_table of_a = {0}, of_c = {0}, t = table_of_b();
    struct lwf_peer *c_at_a = table_add(&of_a, &node_a, &node_c, 1);
    struct lwf_peer *b_at_c = table_add(&of_c, &node_c, &node_b, 1);
    bool unchanged = true;
    size_t n = data_frame(&node_a, c_at_a, 5, LWF_FLAG_SIGNED, 100);
    CHECK("other_cellid.dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_UNKNOWN_DESTINATION);
    /* whatever follows the header, a frame for someone else costs no crypto and no state */
    memset(frame + LWF_ETH_HEADER_LEN + LWF_HEADER_LEN, 0x5A, 16);
    fix_crc(frame, n);
    enum lwf_drop drop = receive(&node_b, &t, frame, n, &unchanged);
    CHECK("other_cellid.garbage_payload_dropped_as_other", drop == LWF_DROP_UNKNOWN_DESTINATION ||
                                                            drop == LWF_DROP_MALFORMED);
    n = data_frame(&node_c, b_at_c, 5, LWF_FLAG_SIGNED, 100);
    CHECK("unknown_sender.dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_UNKNOWN_SENDER);
    n = lwf_build_announce(&node_b, NULL, 7, true, frame, sizeof frame);
    CHECK("own_announce_echo.dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_UNKNOWN_SENDER);
    CHECK("destination_and_sender.no_state", unchanged && t.count == 1);

    /* the hop limit may change on the way: neither AEAD nor signature covers it */
    struct peer_table of_b2 = {0};
    struct lwf_peer *b_at_a = table_add(&of_b2, &node_a, &node_b, 1);
    n = data_frame(&node_a, b_at_a, 6, LWF_FLAG_SIGNED | LWF_FLAG_RELAYABLE, 100);
    frame[LWF_ETH_HEADER_LEN + LWF_OFF_HOP_LIMIT]--;
    fix_crc(frame, n);
    CHECK("relay.hop_limit_decrement_accepted", receive(&node_b, &t, frame, n, &unchanged) == LWF_ACCEPTED);
}

static void test_forged_announce(void) {
    bool unchanged = true;
    struct peer_table t = table_empty();
    /* c claims a's CellID with its own key: the CellID does not match the key */
    size_t n = lwf_build_announce(&node_c, NULL, 9, false, frame, sizeof frame);
    memcpy(frame + LWF_ETH_HEADER_LEN + LWF_OFF_SRC, node_a.cellid, LWF_CELLID_LEN);
    size_t signature_at = n - LWF_ETH_HEADER_LEN - LWF_CRC_LEN - LWF_SIGNATURE_LEN;
    lwf_sign(&node_c, frame + LWF_ETH_HEADER_LEN, signature_at,
             frame + LWF_ETH_HEADER_LEN + signature_at);
    fix_crc(frame, n);
    CHECK("forged_announce.cellid_of_other_key", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_BAD_SIGNATURE);
    /* c claims a's key and CellID but cannot sign as a */
    struct lwf_node impostor = node_a;
    impostor.context = node_c.context; /* signs with c's key */
    n = lwf_build_announce(&impostor, NULL, 9, false, frame, sizeof frame);
    CHECK("forged_announce.signed_by_other_key", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_BAD_SIGNATURE);
    /* a's genuine ANNOUNCE re-sent from another NIC: the signed MAC is not the sender's */
    size_t len;
    const uint8_t *genuine = vector("announce_frame", &len);
    memcpy(frame, genuine, len);
    memcpy(frame + LWF_ETH_SRC_OFFSET, node_c.mac, LWF_MAC_LEN);
    CHECK("forged_announce.replayed_from_other_mac", receive(&node_b, &t, frame, len, &unchanged) == LWF_DROP_BAD_SIGNATURE);
    CHECK("forged_announce.no_peer_added", unchanged && t.count == 0);

    /* b knows a at MAC a; a's fresh ANNOUNCE from a new MAC moves it, a replay does not */
    t = table_of_b();
    struct lwf_node moved = node_a;
    static const uint8_t new_mac[LWF_MAC_LEN] = {0x52, 0x54, 0x00, 0x00, 0x00, 0xAA};
    memcpy(moved.mac, new_mac, LWF_MAC_LEN);
    n = lwf_build_announce(&moved, NULL, 50, false, frame, sizeof frame);
    CHECK("announce.mac_change_with_signature_accepted",
          receive(&node_b, &t, frame, n, &unchanged) == LWF_ACCEPTED &&
              memcmp(t.peers[0].mac, new_mac, LWF_MAC_LEN) == 0);
    CHECK("announce.replay_dropped", receive(&node_b, &t, frame, n, &unchanged) == LWF_DROP_REPLAY);
    /* DATA from yet another NIC is delivered (it is authentic) but moves nothing */
    struct peer_table of_a = {0};
    struct lwf_peer *b_at_a = table_add(&of_a, &node_a, &node_b, 1);
    n = data_frame(&node_a, b_at_a, 51, 0, 10);
    memcpy(frame + LWF_ETH_SRC_OFFSET, node_c.mac, LWF_MAC_LEN);
    CHECK("data.from_other_mac_does_not_move_peer",
          receive(&node_b, &t, frame, n, &unchanged) == LWF_ACCEPTED &&
              memcmp(t.peers[0].mac, new_mac, LWF_MAC_LEN) == 0);
    CHECK("announce.drops_left_no_state", unchanged);
}

static void test_truncation_and_garbage(void) {
    size_t len;
    const uint8_t *genuine = vector("fragment0_frame", &len);
    bool ok = true, unchanged = true;
    for (size_t n = 0; n < len; n++) {
        struct peer_table t = table_of_b();
        enum lwf_drop drop = receive(&node_b, &t, genuine, n, &unchanged);
        ok &= drop == LWF_DROP_MALFORMED || drop == LWF_DROP_CRC;
    }
    CHECK("truncated_at_every_length.dropped", ok && unchanged);

    ok = true;
    uint8_t *longer = calloc(1, len + 64);
    memcpy(longer, genuine, len);
    for (size_t n = len + 1; n <= len + 64; n++) {
        struct peer_table t = table_of_b();
        ok &= receive(&node_b, &t, longer, n, &unchanged) == LWF_DROP_MALFORMED;
    }
    free(longer);
    CHECK("extended_frames.malformed", ok && unchanged);

    /* random bytes of every length, then of every class with a right CRC and a right magic */
    uint32_t x = 0x12345678;
    static uint8_t junk[LWF_ETH_HEADER_LEN + LWF_FRAME_MAX];
    bool never_accepted = true, crc_fixed_malformed = true;
    for (size_t n = 0; n <= sizeof junk; n++) {
        for (size_t i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            junk[i] = (uint8_t)(x >> 24);
        }
        struct peer_table t = table_of_b();
        never_accepted &= receive(&node_b, &t, junk, n, &unchanged) != LWF_ACCEPTED;
        if (n >= LWF_ETH_HEADER_LEN && lwf_class_for(n - LWF_ETH_HEADER_LEN) == n - LWF_ETH_HEADER_LEN) {
            junk[LWF_ETH_HEADER_LEN] = LWF_MAGIC_0;
            junk[LWF_ETH_HEADER_LEN + 1] = LWF_MAGIC_1;
            junk[LWF_ETH_HEADER_LEN + 2] = LWF_VERSION;
            fix_crc(junk, n);
            crc_fixed_malformed &= receive(&node_b, &t, junk, n, &unchanged) == LWF_DROP_MALFORMED;
        }
    }
    CHECK("garbage.never_accepted", never_accepted && unchanged);
    CHECK("garbage.with_right_crc_is_malformed", crc_fixed_malformed);
}

static void test_classes_and_build_limits(void) {
    struct peer_table of_a = {0};
    struct lwf_peer *b_at_a = table_add(&of_a, &node_a, &node_b, 1);
    struct { uint8_t flags; size_t plain_len; size_t frame_len; } cases[] = {
        {0, 0, 128}, {0, 24, 128}, {0, 25, 512}, {0, 408, 512}, {0, 409, 1350},
        {0, LWF_PLAINTEXT_MAX, 1350}, {0, LWF_PLAINTEXT_MAX + 1, 0},
        {LWF_FLAG_SIGNED, 0, 512}, {LWF_FLAG_SIGNED, 344, 512}, {LWF_FLAG_SIGNED, 345, 1350},
        {LWF_FLAG_SIGNED, 1182, 1350}, {LWF_FLAG_SIGNED, 1183, 0},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = data_frame(&node_a, b_at_a, 1000 + i, cases[i].flags, cases[i].plain_len);
        size_t want = cases[i].frame_len ? LWF_ETH_HEADER_LEN + cases[i].frame_len : 0;
        if (n != want) {
            printf("INFO class case %zu: plaintext %zu flags %u built %zu, want %zu\n", i,
                   cases[i].plain_len, cases[i].flags, n, want);
            ok = false;
        }
    }
    CHECK("class.smallest_that_fits", ok);
    uint8_t small[200];
    struct lwf_data_frame spec = {.sequence = 1, .fragment_count = 1};
    CHECK("build.refuses_small_buffer", lwf_build_data(&node_a, b_at_a, &spec, plain, 100, small, sizeof small) == 0);
    spec.fragment_count = 3;
    spec.message_id = 1;
    CHECK("build.refuses_short_inner_fragment", lwf_build_data(&node_a, b_at_a, &spec, plain, 1000, frame, sizeof frame) == 0);
    spec.fragment_index = 3;
    CHECK("build.refuses_index_past_count", lwf_build_data(&node_a, b_at_a, &spec, plain, 1024, frame, sizeof frame) == 0);
    uint8_t signature[LWF_SIGNATURE_LEN];
    CHECK("sign.refuses_length_past_frame", !lwf_sign(&node_a, frame, LWF_FRAME_MAX + 1, signature) &&
                                                !lwf_verify(node_a.public_key, frame, LWF_FRAME_MAX + 1, signature));
    bool named = strcmp(lwf_drop_name(LWF_DROP_CAUSES), "unknown") == 0;
    for (int cause = 0; cause < LWF_DROP_CAUSES; cause++)
        named &= lwf_drop_name(cause) != NULL && strcmp(lwf_drop_name(cause), "unknown") != 0;
    CHECK("drop_names.every_cause_named", named);
}

int main(int argc, char **argv) {
    check_suite = "lwf_frame";
    if (!fixture_load(argc > 1 ? argv[1] : "tests/host/data")) {
        printf("FAIL lwf_frame.load: cannot read lwf_vectors.txt\n");
        return 1;
    }
    test_unicast_flips();
    test_announce_flips();
    test_replay();
    test_destination_and_sender();
    test_forged_announce();
    test_truncation_and_garbage();
    test_classes_and_build_limits();
    return check_exit();
}
