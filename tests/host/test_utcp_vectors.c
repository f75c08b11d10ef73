/*
 * Known-answer tests: the C core reproduces every vector of docs/utcp.md section 13 byte for byte
 * (tests/host/data/utcp_vectors.txt, written by tools/utcp_vectors.py with PyNaCl, not with utcp/):
 * identities, the cookie-derived ephemeral, transcript, keys, rekey, and the handshake and sealed
 * frames as two cores make them, each received by the other side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "utcp_fixture.h"
#include "vector_file.h"

static bool same(const uint8_t *got, size_t got_len, const char *name) {
    size_t len;
    const uint8_t *want = vector_bytes(name, &len);
    return got_len == len && memcmp(got, want, len) == 0;
}

static struct test_node a, b;

static void test_derivations(void) {
    CHECK("public_key_a", same(a.core.config.identity.public_key, UTCP_PUBLIC_KEY_LEN, "public_a"));
    CHECK("cellid_a", same(a.core.config.identity.cellid, UTCP_CELLID_LEN, "cellid_a"));
    CHECK("cellid_b", same(b.core.config.identity.cellid, UTCP_CELLID_LEN, "cellid_b"));
    uint32_t sid = (uint32_t)vector_number("session_id");
    uint8_t e_secret_b[UTCP_KEY_LEN], e_b[UTCP_PUBLIC_KEY_LEN], e_a[UTCP_PUBLIC_KEY_LEN], th[UTCP_KEY_LEN];
    utcp_ephemeral_public(vector_bytes("ephemeral_secret_a", NULL), e_a);
    CHECK("ephemeral_a", same(e_a, sizeof e_a, "ephemeral_a"));
    utcp_responder_ephemeral(vector_bytes("cookie_secret_b", NULL), a.core.config.identity.cellid, sid, e_a,
                             e_secret_b);
    utcp_ephemeral_public(e_secret_b, e_b);
    CHECK("responder_ephemeral_from_cookie", same(e_secret_b, sizeof e_secret_b, "ephemeral_secret_b") &&
                                                 same(e_b, sizeof e_b, "ephemeral_b"));
    utcp_transcript(a.core.config.identity.cellid, b.core.config.identity.cellid, sid,
                    a.core.config.identity.public_key, b.core.config.identity.public_key, e_a, e_b, th);
    CHECK("transcript_hash", same(th, sizeof th, "transcript_hash"));
    uint8_t i2r[UTCP_KEY_LEN], r2i[UTCP_KEY_LEN], i2r_from_b[UTCP_KEY_LEN], r2i_from_b[UTCP_KEY_LEN];
    bool made = utcp_session_keys(vector_bytes("ephemeral_secret_a", NULL), e_b, th, i2r, r2i) &&
                utcp_session_keys(e_secret_b, e_a, th, i2r_from_b, r2i_from_b);
    CHECK("session_keys", made && same(i2r, sizeof i2r, "key_a_to_b") && same(r2i, sizeof r2i, "key_b_to_a") &&
                              memcmp(i2r, i2r_from_b, sizeof i2r) == 0 && memcmp(r2i, r2i_from_b, sizeof r2i) == 0);
    uint8_t next[UTCP_KEY_LEN];
    utcp_rekey(i2r, next);
    CHECK("rekey_epoch1", same(next, sizeof next, "key_a_to_b_epoch1"));
    uint8_t small_order[UTCP_PUBLIC_KEY_LEN] = {0}; /* the identity point: X25519 gives all zero */
    CHECK("session_keys_refuse_small_order_point",
          !utcp_session_keys(vector_bytes("ephemeral_secret_a", NULL), small_order, th, i2r, r2i));
}

/* The one frame in `n`'s outbox, which must be vector `name`; then it goes to `to`. */
static bool sent_is(struct test_node *n, const char *name, struct test_node *to, enum utcp_drop *drop) {
    bool ok = n->outbox_count == 1 && same(n->outbox[0].bytes, n->outbox[0].len, name);
    struct utcp_session *from;
    *drop = utcp_receive(&to->core, n->outbox[0].bytes, n->outbox[0].len, 0, &from);
    n->outbox_count = 0;
    return ok;
}

static void test_handshake_and_frames(void) {
    enum utcp_drop drop;
    struct utcp_session *s = utcp_connect(&a.core, b.core.config.identity.cellid, 0);
    CHECK("connect", s != NULL && s->id == (uint32_t)vector_number("session_id"));
    CHECK("hello_frame_bytes", sent_is(&a, "hello_frame", &b, &drop));
    CHECK("hello_answered_without_state", drop == UTCP_ACCEPTED && utcp_sessions_in_use(&b.core) == 0);
    CHECK("welcome_frame_bytes", sent_is(&b, "welcome_frame", &a, &drop));
    CHECK("welcome_accepted", drop == UTCP_ACCEPTED && s->state == UTCP_CONFIRM_SENT);
    CHECK("confirm_frame_bytes", sent_is(&a, "confirm_frame", &b, &drop));
    CHECK("confirm_makes_the_session", drop == UTCP_ACCEPTED && utcp_sessions_in_use(&b.core) == 1);
    CHECK("window_frame_bytes", sent_is(&b, "window_frame", &a, &drop));
    CHECK("window_establishes_initiator", drop == UTCP_ACCEPTED && s->state == UTCP_ESTABLISHED && a.established == 1);

    size_t len;
    const uint8_t *message = vector_bytes("data_message", &len);
    CHECK("send_taken", utcp_send(&a.core, s, 3, message, len, 0) == len);
    CHECK("data_frame_bytes", sent_is(&a, "data_frame", &b, &drop));
    CHECK("data_delivered", drop == UTCP_ACCEPTED && b.stream_len == len &&
                                memcmp(b.stream_bytes, message, len) == 0 && b.last_stream == 3);
    CHECK("open_taken", utcp_open_stream(&a.core, s, 5, 0));
    CHECK("empty_data_frame_bytes", sent_is(&a, "open_frame", &b, &drop));
    CHECK("empty_data_opens_the_stream", drop == UTCP_ACCEPTED && b.stream_len == len && b.last_stream == 5);

    /* the NACK and the rekeyed FIN, sealed by the sessions as the vectors' inputs say */
    struct utcp_session *at_b = session_with(&b, &a);
    uint8_t body[UTCP_NACK_FIXED_LEN + 2 * UTCP_NACK_RANGE_LEN], frame[UTCP_FRAME_MAX];
    const uint64_t ranges[] = {5, 6, 9, 9};
    utcp_put64(body, 4);
    body[8] = 0, body[9] = 2;
    for (int i = 0; i < 4; i++)
        utcp_put64(body + UTCP_NACK_FIXED_LEN + 8 * i, ranges[i]);
    size_t n = utcp_seal_frame(&b.core, at_b, UTCP_TYPE_NACK, 0, 0, 2, body, sizeof body, frame);
    CHECK("nack_frame_bytes", same(frame, n, "nack_frame"));
    struct utcp_frame_view view;
    uint8_t plain[UTCP_PLAINTEXT_MAX];
    struct utcp_nack nack;
    uint64_t first, last;
    const uint8_t *vec = vector_bytes("nack_frame", &len);
    bool opened = utcp_frame_parse(vec, len, a.core.config.identity.cellid, &view) == UTCP_ACCEPTED &&
                  utcp_open(vector_bytes("key_b_to_a", NULL), UTCP_SPACE_CONTROL, &view, plain) &&
                  utcp_nack_parse(plain, view.header.length - UTCP_TAG_LEN, &nack);
    if (opened)
        utcp_nack_range(&nack, 1, &first, &last);
    CHECK("nack_frame_opens", opened && nack.release == 4 && nack.count == 2 && first == 9 && last == 9);

    s->sealed_in_epoch = UTCP_REKEY_INTERVAL; /* as after 8192 frames: the next one is sealed in epoch 1 */
    n = utcp_seal_frame(&a.core, s, UTCP_TYPE_FIN, 0, 3, 8193, NULL, 0, frame);
    CHECK("fin_frame_bytes_in_epoch1", same(frame, n, "fin_frame") && s->send_epoch == 1 &&
                                           same(s->send_key, UTCP_KEY_LEN, "key_a_to_b_epoch1"));
}

/* The spec quotes the vectors file verbatim (docs/utcp.md, section 13): the two cannot drift. */
static void test_spec_quotes_vectors(const char *datadir) {
    char path[512];
    snprintf(path, sizeof path, "%s/utcp_vectors.txt", datadir);
    CHECK("spec_quotes_vectors_file", vector_file_quoted_in(path, "docs/utcp.md"));
}

int main(int argc, char **argv) {
    check_suite = "utcp_vectors";
    const char *datadir = argc > 1 ? argv[1] : "tests/host/data";
    char path[512];
    snprintf(path, sizeof path, "%s/utcp_vectors.txt", datadir);
    if (!vector_file_load(path)) {
        printf("FAIL utcp_vectors.load: cannot read %s\n", path);
        return 1;
    }
    /* a's random bytes: a cookie secret of its own, the session id (as the core stores it), the
     * ephemeral secret; b's: the vectors' cookie secret */
    static uint8_t script_a[32 + 4 + 32];
    uint32_t sid = (uint32_t)vector_number("session_id");
    memcpy(script_a + 32, &sid, 4);
    memcpy(script_a + 36, vector_bytes("ephemeral_secret_a", NULL), 32);
    uint8_t seed[32];
    fixture_seed(seed, 0x00);
    uint32_t window = (uint32_t)vector_number("window");
    test_node_init(&a, seed, script_a, sizeof script_a, window, 0);
    fixture_seed(seed, 0x20);
    test_node_init(&b, seed, vector_bytes("cookie_secret_b", NULL), 32, window, 0);
    test_derivations();
    test_handshake_and_frames();
    test_spec_quotes_vectors(datadir);
    return check_exit();
}
