/*
 * The UTCP receive path (docs/utcp.md sections 5-7): every drop cause, with the session table
 * unchanged byte for byte after each drop; every single-bit flip of a sealed frame; replays in both
 * sequence spaces; the handshake's forgeries (another key's CellID, a bad signature, a forged
 * cookie, a stale one, a replayed HELLO and CONFIRM) with the responder allocating nothing before
 * the initiator's signature verifies; the rate limit; a full session table; epochs crossing in
 * flight; DATA after FIN; signing through a signer hook (the service's way), and a hook that fails;
 * a reader without room holding the release back until it makes room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "utcp_fixture.h"

static struct test_node a, b, c;
static struct utcp_session sessions_before[FIXTURE_SESSIONS];

/* Receives a copy of frame at `n`; the sessions of n must be untouched by any drop. */
static enum utcp_drop receive(struct test_node *n, const uint8_t *frame, size_t len, uint64_t now) {
    memcpy(sessions_before, n->sessions, sizeof sessions_before);
    uint64_t drops_before[UTCP_DROP_CAUSES];
    memcpy(drops_before, n->core.drops, sizeof drops_before);
    uint8_t *copy = exact_copy(frame, len);
    struct utcp_session *from;
    enum utcp_drop drop = utcp_receive(&n->core, copy, len, now, &from);
    free(copy);
    bool counted = n->core.drops[drop] == drops_before[drop] + 1;
    /* the one drop that acts: a replayed CONFIRM is answered with the WINDOW again (section 5) */
    bool answers = drop == UTCP_DROP_REPLAY && len > UTCP_OFF_TYPE && frame[UTCP_OFF_TYPE] == UTCP_TYPE_CONFIRM;
    if (drop != UTCP_ACCEPTED && !answers && (!counted || memcmp(sessions_before, n->sessions, sizeof sessions_before) != 0)) {
        printf("FAIL utcp_frame.drop_changed_state: cause %s\n", utcp_drop_name(drop));
        check_failures++;
    }
    return drop;
}

/* The newest frame in n's outbox, taken out of it. */
#define take_last(n) take_last_at(n, __LINE__)
static struct sent_frame take_last_at(struct test_node *n, int line) {
    if (n->outbox_count == 0) {
        printf("FAIL utcp_frame.frame_sent: line %d: nothing in the outbox\n", line);
        check_failures++;
        return (struct sent_frame){.len = UTCP_HEADER_LEN};
    }
    struct sent_frame f = n->outbox[n->outbox_count - 1];
    n->outbox_count = 0;
    return f;
}

static struct utcp_session *ab, *ba;

static void test_sealed_drops(void) {
    uint64_t now = 1000;
    uint8_t message[100];
    memset(message, 0x5a, sizeof message);
    utcp_send(&a.core, ab, 1, message, sizeof message, now);
    struct sent_frame data = take_last(&a);

    bool all_malformed = true;
    for (size_t len = 0; len < data.len; len++)
        all_malformed &= receive(&b, data.bytes, len, now) == UTCP_DROP_MALFORMED;
    CHECK("every_truncation_malformed", all_malformed);

    /* every bit of the frame: dropped, each field with its own cause */
    bool all_dropped = true, dst_cause = true, session_cause = true, ad_cause = true, body_cause = true;
    for (size_t bit = 0; bit < data.len * 8; bit++) {
        struct sent_frame f = data;
        size_t byte = bit / 8;
        f.bytes[byte] ^= (uint8_t)(1u << (bit % 8));
        enum utcp_drop drop = receive(&b, f.bytes, f.len, now);
        all_dropped &= drop != UTCP_ACCEPTED;
        if (byte >= UTCP_OFF_DST && byte < UTCP_OFF_DST + UTCP_CELLID_LEN)
            dst_cause &= drop == UTCP_DROP_UNKNOWN_DESTINATION;
        else if (byte >= UTCP_OFF_SESSION && byte < UTCP_OFF_SESSION + 4)
            session_cause &= drop == UTCP_DROP_NO_SESSION;
        else if (byte == UTCP_HEADER_LEN - 1) /* the window's low byte: any value is well formed */
            ad_cause &= drop == UTCP_DROP_AEAD;
        else if (byte >= UTCP_HEADER_LEN)
            body_cause &= drop == UTCP_DROP_AEAD;
    }
    CHECK("every_bit_flip_dropped", all_dropped);
    CHECK("flipped_dst_unknown_destination", dst_cause);
    CHECK("flipped_session_no_session", session_cause);
    CHECK("flipped_header_aead", ad_cause);
    CHECK("flipped_body_aead", body_cause);

    CHECK("genuine_frame_after_flips_accepted", receive(&b, data.bytes, data.len, now) == UTCP_ACCEPTED &&
                                                    b.stream_len == sizeof message);
    CHECK("stream_frame_replayed", receive(&b, data.bytes, data.len, now) == UTCP_DROP_REPLAY);

    uint8_t frame[UTCP_FRAME_MAX];
    size_t n = utcp_seal_frame(&a.core, ab, UTCP_TYPE_DATA, 0, 1, ba->release + ba->window + 1, message, 10, frame);
    CHECK("beyond_window_out_of_window", receive(&b, frame, n, now) == UTCP_DROP_OUT_OF_WINDOW);

    utcp_address_changed(&a.core, now); /* a PING: a control-space frame */
    struct sent_frame ping = take_last(&a);
    CHECK("control_frame_accepted", receive(&b, ping.bytes, ping.len, now) == UTCP_ACCEPTED && b.outbox_count == 1);
    b.outbox_count = 0;
    CHECK("control_frame_replayed", receive(&b, ping.bytes, ping.len, now) == UTCP_DROP_REPLAY);

    /* a frame for c, at b */
    struct utcp_session *ac = utcp_connect(&a.core, c.core.config.identity.cellid, now);
    struct sent_frame hello_to_c = take_last(&a);
    CHECK("frame_for_another_node_unknown_destination",
          ac && receive(&b, hello_to_c.bytes, hello_to_c.len, now) == UTCP_DROP_UNKNOWN_DESTINATION);
    /* c's sealed frame for b, with no session between them */
    struct test_node *ac_nodes[2] = {&a, &c};
    deliver_outbox(&a, ac_nodes, 2, now);
    receive(&c, hello_to_c.bytes, hello_to_c.len, now);
    for (int round = 0; round < 3; round++) {
        deliver_outbox(&c, ac_nodes, 2, now);
        deliver_outbox(&a, ac_nodes, 2, now);
    }
    struct utcp_session *ca = session_with(&c, &a);
    utcp_send(&c.core, ca, 2, message, 10, now);
    struct sent_frame from_c = take_last(&c);
    memcpy(from_c.bytes + UTCP_OFF_DST, b.core.config.identity.cellid, UTCP_CELLID_LEN);
    CHECK("sealed_frame_without_session_no_session", receive(&b, from_c.bytes, from_c.len, now) == UTCP_DROP_NO_SESSION);
}

/* Header rules (section 3-4), one field at a time; each is `malformed`. */
struct field_case {
    const char *name;
    size_t offset;
    uint8_t value;
};

static void test_header_rules(void) {
    uint64_t now = 1500;
    utcp_send(&a.core, ab, 1, (const uint8_t *)"rules", 5, now);
    struct sent_frame data = take_last(&a);
    static const struct field_case cases[] = {
        {"version_2", UTCP_OFF_VERSION, 2},         {"type_0", UTCP_OFF_TYPE, 0},
        {"type_11", UTCP_OFF_TYPE, 11},             {"type_hello_sealed_length", UTCP_OFF_TYPE, UTCP_TYPE_HELLO},
        {"flag_reply_on_data", UTCP_OFF_FLAGS, UTCP_FLAG_REPLY}, {"unknown_flag", UTCP_OFF_FLAGS, 0x80},
        {"reserved", UTCP_OFF_RESERVED, 1},         {"stream_0", UTCP_OFF_STREAM + 1, 0},
        {"length_short", UTCP_OFF_LENGTH + 1, 20},  {"window_over_4096", UTCP_OFF_WINDOW + 1, 0x10},
    };
    bool all = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sent_frame f = data;
        f.bytes[cases[i].offset] = cases[i].value;
        enum utcp_drop drop = receive(&b, f.bytes, f.len, now);
        if (drop != UTCP_DROP_MALFORMED) {
            printf("INFO header case %s: %s\n", cases[i].name, utcp_drop_name(drop));
            all = false;
        }
    }
    struct sent_frame f = data;
    memset(f.bytes + UTCP_OFF_SEQUENCE, 0, 8);
    all &= receive(&b, f.bytes, f.len, now) == UTCP_DROP_MALFORMED;
    f = data;
    memset(f.bytes + UTCP_OFF_SESSION, 0, 4);
    all &= receive(&b, f.bytes, f.len, now) == UTCP_DROP_MALFORMED;
    f = data;
    memcpy(f.bytes + UTCP_OFF_SRC, b.core.config.identity.cellid, UTCP_CELLID_LEN);
    all &= receive(&b, f.bytes, f.len, now) == UTCP_DROP_MALFORMED;
    CHECK("every_header_rule_malformed", all);

    /* a sealed NACK whose ranges break the rules: authentic, still malformed, changes nothing */
    uint8_t body[UTCP_NACK_FIXED_LEN + 2 * UTCP_NACK_RANGE_LEN], frame[UTCP_FRAME_MAX];
    const uint64_t ranges[] = {7, 9, 8, 10}; /* overlapping */
    utcp_put64(body, 0);
    body[8] = 0, body[9] = 2;
    for (int i = 0; i < 4; i++)
        utcp_put64(body + UTCP_NACK_FIXED_LEN + 8 * i, ranges[i]);
    size_t n = utcp_seal_frame(&a.core, ab, UTCP_TYPE_NACK, 0, 0, ab->control_next++, body, sizeof body, frame);
    CHECK("nack_overlapping_ranges_malformed", receive(&b, frame, n, now) == UTCP_DROP_MALFORMED);
    body[9] = 1; /* the count disagrees with the length */
    n = utcp_seal_frame(&a.core, ab, UTCP_TYPE_NACK, 0, 0, ab->control_next++, body, sizeof body, frame);
    CHECK("nack_count_mismatch_malformed", receive(&b, frame, n, now) == UTCP_DROP_MALFORMED);
    CHECK("data_after_rules_accepted", receive(&b, data.bytes, data.len, now) == UTCP_ACCEPTED);
    b.outbox_count = 0;

    struct utcp_session *cb = utcp_connect(&c.core, b.core.config.identity.cellid, now);
    struct sent_frame hello = take_last(&c);
    hello.bytes[hello.len - 1] = 1;
    CHECK("hello_padding_not_zero_malformed", cb && receive(&b, hello.bytes, hello.len, now) == UTCP_DROP_MALFORMED);
    utcp_session_close(&c.core, cb, UTCP_RESET_CLOSED, true);
}

static void test_epochs_cross_in_flight(void) {
    uint64_t now = 2000;
    uint8_t part[3][50];
    struct sent_frame f[3];
    for (int i = 0; i < 3; i++) {
        memset(part[i], 'A' + i, sizeof part[i]);
        if (i == 2)
            ab->sealed_in_epoch = UTCP_REKEY_INTERVAL; /* the third frame is sealed in the next epoch */
        utcp_send(&a.core, ab, 1, part[i], sizeof part[i], now);
        f[i] = take_last(&a);
    }
    size_t before = b.stream_len;
    uint64_t epoch = ba->recv_epoch;
    bool ok = receive(&b, f[2].bytes, f[2].len, now) == UTCP_ACCEPTED && ba->recv_epoch == epoch + 1 &&
              receive(&b, f[0].bytes, f[0].len, now) == UTCP_ACCEPTED &&
              receive(&b, f[1].bytes, f[1].len, now) == UTCP_ACCEPTED;
    CHECK("new_epoch_first_then_old_epoch_frames", ok && b.stream_len == before + 150 &&
                                                       memcmp(b.stream_bytes + before + 100, part[2], 50) == 0);
    b.outbox_count = 0;
}

static void test_handshake_forgeries(void) {
    uint64_t now = 10 * 1000000ull;
    size_t in_use = utcp_sessions_in_use(&b.core);
    struct utcp_session *cb = utcp_connect(&c.core, b.core.config.identity.cellid, now);
    struct sent_frame hello = take_last(&c);
    CHECK("hello_answered", receive(&b, hello.bytes, hello.len, now) == UTCP_ACCEPTED && b.outbox_count == 1);
    struct sent_frame welcome = take_last(&b);
    CHECK("replayed_hello_same_welcome_no_state",
          receive(&b, hello.bytes, hello.len, now) == UTCP_ACCEPTED &&
              memcmp(b.outbox[0].bytes, welcome.bytes, welcome.len) == 0 && utcp_sessions_in_use(&b.core) == in_use);
    b.outbox_count = 0;

    struct sent_frame forged = hello; /* a's key in c's HELLO: the CellID is not proven */
    memcpy(forged.bytes + UTCP_HEADER_LEN + UTCP_PUBLIC_KEY_LEN, a.core.config.identity.public_key, UTCP_PUBLIC_KEY_LEN);
    now += 1000000;
    CHECK("hello_with_another_key_bad_signature", receive(&b, forged.bytes, forged.len, now) == UTCP_DROP_BAD_SIGNATURE);

    forged = welcome;
    forged.bytes[UTCP_HEADER_LEN + 2 * UTCP_PUBLIC_KEY_LEN] ^= 1;
    CHECK("welcome_bad_signature", receive(&c, forged.bytes, forged.len, now) == UTCP_DROP_BAD_SIGNATURE &&
                                       cb->state == UTCP_HELLO_SENT);
    forged = welcome;
    forged.bytes[UTCP_OFF_SESSION] ^= 1;
    CHECK("welcome_for_no_handshake_no_session", receive(&c, forged.bytes, forged.len, now) == UTCP_DROP_NO_SESSION);
    CHECK("welcome_accepted", receive(&c, welcome.bytes, welcome.len, now) == UTCP_ACCEPTED &&
                                  cb->state == UTCP_CONFIRM_SENT);
    struct sent_frame confirm = take_last(&c);

    /* forged CONFIRMs: nothing allocated at b */
    const size_t e_responder = UTCP_HEADER_LEN + UTCP_PUBLIC_KEY_LEN, pk = UTCP_HEADER_LEN + 2 * UTCP_PUBLIC_KEY_LEN,
                 signature = UTCP_HEADER_LEN + 3 * UTCP_PUBLIC_KEY_LEN;
    forged = confirm;
    forged.bytes[signature + 5] ^= 0x10;
    now += 1000000;
    CHECK("confirm_bad_signature", receive(&b, forged.bytes, forged.len, now) == UTCP_DROP_BAD_SIGNATURE);
    forged = confirm;
    memcpy(forged.bytes + pk, a.core.config.identity.public_key, UTCP_PUBLIC_KEY_LEN);
    now += 1000000;
    CHECK("confirm_with_another_key_bad_signature", receive(&b, forged.bytes, forged.len, now) == UTCP_DROP_BAD_SIGNATURE);
    forged = confirm;
    forged.bytes[e_responder] ^= 0x40;
    now += 1000000;
    CHECK("confirm_forged_cookie_bad_cookie", receive(&b, forged.bytes, forged.len, now) == UTCP_DROP_BAD_COOKIE);
    CHECK("no_responder_state_before_signature", utcp_sessions_in_use(&b.core) == in_use && b.outbox_count == 0);

    now += 1000000;
    CHECK("genuine_confirm_makes_one_session", receive(&b, confirm.bytes, confirm.len, now) == UTCP_ACCEPTED &&
                                                   utcp_sessions_in_use(&b.core) == in_use + 1 && b.outbox_count == 1);
    b.outbox_count = 0;
    CHECK("replayed_confirm_replay_and_window_again",
          receive(&b, confirm.bytes, confirm.len, now) == UTCP_DROP_REPLAY &&
              utcp_sessions_in_use(&b.core) == in_use + 1 && b.outbox_count == 1 &&
              b.outbox[0].bytes[UTCP_OFF_TYPE] == UTCP_TYPE_WINDOW);
    struct test_node *cb_nodes[2] = {&b, &c};
    deliver_outbox(&b, cb_nodes, 2, now);
    CHECK("initiator_established_by_window", cb->state == UTCP_ESTABLISHED);
}

static void test_rate_limit_and_cookie_life(void) {
    uint64_t now = 100 * 1000000ull;
    /* c's HELLOs for new sessions: 4 tokens, then refused until a token grows back (250 ms) */
    enum utcp_drop drops[6];
    struct sent_frame hellos[6];
    for (int i = 0; i < 6; i++) {
        struct utcp_session *s = utcp_connect(&c.core, b.core.config.identity.cellid, now);
        hellos[i] = take_last(&c);
        drops[i] = receive(&b, hellos[i].bytes, hellos[i].len, now);
        if (s)
            utcp_session_close(&c.core, s, UTCP_RESET_CLOSED, true);
    }
    b.outbox_count = 0;
    CHECK("rate_limit_after_burst", drops[0] == UTCP_ACCEPTED && drops[3] == UTCP_ACCEPTED &&
                                        drops[4] == UTCP_DROP_RATE_LIMITED && drops[5] == UTCP_DROP_RATE_LIMITED);
    CHECK("rate_limit_refills", receive(&b, hellos[5].bytes, hellos[5].len, now + 250000) == UTCP_ACCEPTED);
    b.outbox_count = 0;

    /* two CONFIRMs made under b's current cookie secret, delivered after it turned once, twice */
    struct sent_frame confirms[2];
    now += 10 * 1000000ull;
    for (int i = 0; i < 2; i++) {
        utcp_connect(&c.core, b.core.config.identity.cellid, now);
        struct sent_frame hello = take_last(&c);
        receive(&b, hello.bytes, hello.len, now);
        struct sent_frame welcome = take_last(&b);
        receive(&c, welcome.bytes, welcome.len, now);
        confirms[i] = take_last(&c);
    }
    now += UTCP_COOKIE_LIFETIME_US;
    utcp_poll(&b.core, now);
    b.outbox_count = 0;
    size_t in_use = utcp_sessions_in_use(&b.core);
    CHECK("confirm_under_previous_cookie_accepted",
          receive(&b, confirms[0].bytes, confirms[0].len, now) == UTCP_ACCEPTED &&
              utcp_sessions_in_use(&b.core) == in_use + 1);
    now += UTCP_COOKIE_LIFETIME_US;
    utcp_poll(&b.core, now);
    b.outbox_count = 0;
    CHECK("confirm_after_two_turns_bad_cookie",
          receive(&b, confirms[1].bytes, confirms[1].len, now) == UTCP_DROP_BAD_COOKIE);
}

/* An empty DATA opens a stream at the receiver before any byte (docs/utcp.md, section 10). */
static void test_empty_data_opens_stream(void) {
    uint64_t now = 40 * 1000000ull;
    size_t before = b.stream_len;
    a.outbox_count = 0;
    CHECK("open_stream_queued", utcp_open_stream(&a.core, ab, 11, now));
    struct sent_frame open = take_last(&a);
    CHECK("open_is_an_empty_data", open.len == UTCP_HEADER_LEN + UTCP_TAG_LEN &&
                                       open.bytes[UTCP_OFF_TYPE] == UTCP_TYPE_DATA);
    b.last_stream = 0;
    CHECK("empty_data_opens_the_stream_at_the_receiver",
          receive(&b, open.bytes, open.len, now) == UTCP_ACCEPTED && b.last_stream == 11 && b.stream_len == before);
    CHECK("bytes_follow", utcp_send(&a.core, ab, 11, (const uint8_t *)"hi", 2, now) == 2);
    struct sent_frame hi = take_last(&a);
    CHECK("bytes_after_the_open_delivered", receive(&b, hi.bytes, hi.len, now) == UTCP_ACCEPTED &&
                                                b.stream_len == before + 2 &&
                                                memcmp(b.stream_bytes + before, "hi", 2) == 0);
    CHECK("open_after_bytes_refused", !utcp_open_stream(&a.core, ab, 11, now));
}

static void test_data_after_fin(void) {
    uint64_t now = 50 * 1000000ull;
    CHECK("fin_queued", utcp_finish(&a.core, ab, 7, now) && !utcp_send(&a.core, ab, 7, (const uint8_t *)"x", 1, now));
    struct sent_frame fin = take_last(&a);
    unsigned fins = b.fins, closed = b.closed;
    CHECK("fin_delivered", receive(&b, fin.bytes, fin.len, now) == UTCP_ACCEPTED && b.fins == fins + 1 &&
                               b.last_stream == 7);
    uint8_t frame[UTCP_FRAME_MAX];
    size_t n = utcp_seal_frame(&a.core, ab, UTCP_TYPE_DATA, 0, 7, ab->send_next, (const uint8_t *)"late", 4, frame);
    b.outbox_count = 0;
    receive(&b, frame, n, now);
    CHECK("data_after_fin_resets_session", b.closed == closed + 1 && b.last_close_reason == UTCP_RESET_ERROR &&
                                               b.outbox_count == 1 && b.outbox[0].bytes[UTCP_OFF_TYPE] == UTCP_TYPE_RESET);
    struct sent_frame reset = take_last(&b);
    CHECK("reset_closes_peer", receive(&a, reset.bytes, reset.len, now) == UTCP_ACCEPTED && ab->state == UTCP_FREE);
}

static void test_full_table(void) {
    uint64_t now = 300 * 1000000ull;
    for (int i = 0; i < FIXTURE_SESSIONS; i++) /* room at c for one more handshake */
        if (c.sessions[i].state != UTCP_FREE)
            utcp_session_close(&c.core, &c.sessions[i], UTCP_RESET_CLOSED, true);
    /* b's free sessions go to handshakes of its own, then c's CONFIRM finds no room */
    uint8_t stranger[UTCP_CELLID_LEN];
    memset(stranger, 0x77, sizeof stranger);
    while (utcp_connect(&b.core, stranger, now))
        stranger[0]++;
    b.outbox_count = 0;
    struct utcp_session *s = utcp_connect(&c.core, b.core.config.identity.cellid, now);
    struct sent_frame hello = take_last(&c);
    receive(&b, hello.bytes, hello.len, now);
    struct sent_frame welcome = take_last(&b);
    receive(&c, welcome.bytes, welcome.len, now);
    struct sent_frame confirm = take_last(&c);
    CHECK("full_table_no_room", s && receive(&b, confirm.bytes, confirm.len, now) == UTCP_DROP_NO_ROOM);

}

static size_t reader_room, reader_start; /* b's reader takes reader_room bytes from reader_start */
static size_t room_of_reader(void *ctx, struct utcp_session *s, uint16_t stream) {
    (void)ctx, (void)s, (void)stream;
    size_t taken = b.stream_len - reader_start;
    return reader_room > taken ? reader_room - taken : 0;
}

static void test_reader_room(void) {
    uint64_t now = 3000;
    b.core.config.room = room_of_reader;
    reader_room = 0;
    size_t before = reader_start = b.stream_len;
    uint64_t release = ba->release;
    utcp_send(&a.core, ab, 5, (const uint8_t *)"held back", 9, now);
    struct sent_frame first = take_last(&a);
    utcp_send(&a.core, ab, 5, (const uint8_t *)"and this", 8, now);
    struct sent_frame second = take_last(&a);
    bool taken = receive(&b, first.bytes, first.len, now) == UTCP_ACCEPTED &&
                 receive(&b, second.bytes, second.len, now) == UTCP_ACCEPTED;
    CHECK("no_room_holds_release", taken && b.stream_len == before && ba->release == release);
    CHECK("held_frame_is_replay", receive(&b, first.bytes, first.len, now) == UTCP_DROP_REPLAY);
    reader_room = 9; /* room for the first only */
    CHECK("room_for_one_delivers_one", utcp_receiver_deliver(&b.core, ba) && b.stream_len == before + 9 &&
                                           ba->release == release + 1);
    reader_room = 1 << 20;
    CHECK("room_delivers_rest_in_order", utcp_receiver_deliver(&b.core, ba) && b.stream_len == before + 17 &&
                                             memcmp(b.stream_bytes + before, "held backand this", 17) == 0 &&
                                             ba->release == release + 2);
    b.core.config.room = NULL;
    b.outbox_count = 0;
}

/* A signer apart from the core, as the service's is: it holds the key, signs the tag and the
 * message the core hands over, and can fail. */
static uint8_t hook_secret[crypto_sign_SECRETKEYBYTES];
static bool hook_works;
static unsigned hook_calls;

static bool hook_sign(void *ctx, const uint8_t *message, size_t len, uint8_t signature[UTCP_SIGNATURE_LEN]) {
    (void)ctx;
    hook_calls++;
    uint8_t tagged[128];
    static const char tag[] = "nexus-utcp-signature-v1";
    if (!hook_works || len + sizeof tag - 1 > sizeof tagged)
        return false;
    memcpy(tagged, tag, sizeof tag - 1);
    memcpy(tagged + sizeof tag - 1, message, len);
    return crypto_sign_detached(signature, NULL, tagged, sizeof tag - 1 + len, hook_secret) == 0;
}

static void test_signer_hook(void) {
    static struct test_node d; /* b's identity, its secret only in the hook */
    uint64_t now = 40 * 1000000ull;
    uint8_t seed[32], public_key[crypto_sign_PUBLICKEYBYTES];
    fixture_seed(seed, 0x20);
    crypto_sign_seed_keypair(public_key, hook_secret, seed);
    test_node_init(&d, seed, NULL, 0, FIXTURE_WINDOW, now);
    d.core.config.sign = hook_sign;
    memset(d.core.config.identity.secret_key, 0, UTCP_SECRET_KEY_LEN);

    hook_works = false;
    utcp_connect(&a.core, d.core.config.identity.cellid, now);
    struct sent_frame hello = take_last(&a);
    CHECK("failing_signer_no_welcome_no_state", receive(&d, hello.bytes, hello.len, now) == UTCP_ACCEPTED &&
                                                    hook_calls == 1 && d.outbox_count == 0 &&
                                                    utcp_sessions_in_use(&d.core) == 0);
    hook_works = true;
    struct test_node *nodes[2] = {&a, &d};
    receive(&d, hello.bytes, hello.len, now);
    for (int round = 0; round < 3; round++) {
        deliver_outbox(&d, nodes, 2, now);
        deliver_outbox(&a, nodes, 2, now);
    }
    struct utcp_session *da = session_with(&d, &a);
    CHECK("signer_hook_signatures_verify", da && da->state == UTCP_ESTABLISHED && hook_calls == 2);
}

int main(void) {
    check_suite = "utcp_frame";
    uint8_t seed[32];
    fixture_seed(seed, 0x00);
    test_node_init(&a, seed, NULL, 0, FIXTURE_WINDOW, 0);
    fixture_seed(seed, 0x20);
    test_node_init(&b, seed, NULL, 0, FIXTURE_WINDOW, 0);
    fixture_seed(seed, 0x40);
    test_node_init(&c, seed, NULL, 0, FIXTURE_WINDOW, 0);
    ab = fixture_connect(&a, &b, 0);
    ba = session_with(&b, &a);
    CHECK("established", ab && ba && ba->state == UTCP_ESTABLISHED);
    if (!ab || !ba)
        return check_exit();
    test_sealed_drops();
    test_header_rules();
    test_epochs_cross_in_flight();
    test_reader_room();
    test_handshake_forgeries();
    test_empty_data_opens_stream();
    test_data_after_fin();
    test_rate_limit_and_cookie_life();
    test_full_table();
    test_signer_hook();
    return check_exit();
}
