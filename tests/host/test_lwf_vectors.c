/*
 * Known-answer tests: the C core reproduces every vector of docs/lwf.md section 12 byte for byte
 * (tests/host/data/lwf_vectors.txt, written by tools/lwf_vectors.py with PyNaCl, not with lwf/),
 * and receives what the generator built.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lwf_fixture.h"
#include "vector_file.h"

static bool same(const uint8_t *got, size_t got_len, const char *name) {
    size_t len;
    const uint8_t *want = vector(name, &len);
    return got_len == len && memcmp(got, want, len) == 0;
}

/* The CRC of the spec, bit by bit, to hold the nibble table of crc32c.c against. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
    }
    return ~crc;
}

static void test_crc32c(void) {
    size_t len;
    const uint8_t *input = vector("crc32c_input", &len);
    CHECK("crc32c_check_value", lwf_crc32c(input, len) == 0xE3069283u &&
                                    (uint32_t)vector_u64("crc32c_value") == 0xE3069283u);
    uint8_t data[1350];
    bool all_equal = true;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof data; n += 37)
        all_equal &= lwf_crc32c(data, n) == crc32c_bitwise(data, n);
    CHECK("crc32c_table_matches_bitwise", all_equal);
}

static void test_identities(void) {
    CHECK("public_key_a", same(node_a.public_key, LWF_PUBLIC_KEY_LEN, "public_a"));
    CHECK("public_key_b", same(node_b.public_key, LWF_PUBLIC_KEY_LEN, "public_b"));
    CHECK("cellid_a", same(node_a.cellid, LWF_CELLID_LEN, "cellid_a"));
    CHECK("cellid_b", same(node_b.cellid, LWF_CELLID_LEN, "cellid_b"));
    uint8_t ab[LWF_KEY_LEN], ba[LWF_KEY_LEN];
    bool made = lwf_pairwise_key(&node_a, node_b.public_key, ab) &&
                lwf_pairwise_key(&node_b, node_a.public_key, ba);
    CHECK("pairwise_key_a_to_b", made && same(ab, sizeof ab, "pairwise_ab"));
    CHECK("pairwise_key_both_directions_equal", made && memcmp(ab, ba, sizeof ab) == 0);
    uint8_t zero_point[LWF_PUBLIC_KEY_LEN] = {0x01}; /* the identity point: X25519 gives all zero */
    CHECK("pairwise_key_refuses_small_order_key", !lwf_pairwise_key(&node_a, zero_point, ab));
}

static uint8_t frame[LWF_ETH_HEADER_LEN + LWF_FRAME_MAX];

static size_t build_data_vector(const struct lwf_node *from, const struct lwf_peer *to,
                                const char *prefix, uint8_t flags) {
    char name[64];
    struct lwf_data_frame spec = {.flags = flags, .fragment_count = 1};
    snprintf(name, sizeof name, "%s_seq", prefix);
    spec.sequence = vector_u64(name);
    snprintf(name, sizeof name, "%s_service", prefix);
    spec.service = (uint16_t)vector_u64(name);
    snprintf(name, sizeof name, "%s_src_service", prefix);
    spec.src_service = (uint16_t)vector_u64(name);
    snprintf(name, sizeof name, "%s_nonce", prefix);
    memcpy(spec.nonce, vector(name, NULL), LWF_NONCE_LEN);
    size_t len;
    snprintf(name, sizeof name, "%s_message", prefix);
    const uint8_t *message = vector(name, &len);
    return lwf_build_data(from, to, &spec, message, len, frame, sizeof frame);
}

/* Receives vector `name` at `me`; the plaintext goes to plain[]. The received copy lives until
 * the next call, since *got points into it. */
static enum lwf_drop receive_vector(const struct lwf_node *me, struct peer_table *t, const char *name,
                                    uint8_t *plain, struct lwf_received *got) {
    static uint8_t *copy;
    size_t len;
    const uint8_t *bytes = vector(name, &len);
    free(copy);
    copy = exact_copy(bytes, len);
    return lwf_receive(me, copy, len, table_lookup, t, plain, got);
}

static void test_frames(void) {
    struct peer_table of_a = {0}, of_b = {0};
    struct lwf_peer *b_at_a = table_add(&of_a, &node_a, &node_b, 1);
    struct lwf_peer *a_at_b = table_add(&of_b, &node_b, &node_a, 1);
    uint8_t plain[LWF_PLAINTEXT_MAX];
    struct lwf_received got;
    size_t len;

    size_t n = build_data_vector(&node_a, b_at_a, "unicast", LWF_FLAG_SIGNED);
    CHECK("unicast_frame_bytes", same(frame, n, "unicast_frame"));
    const uint8_t *message = vector("unicast_message", &len);
    CHECK("unicast_frame_received",
          receive_vector(&node_b, &of_b, "unicast_frame", plain, &got) == LWF_ACCEPTED &&
              got.peer == a_at_b && got.plain_len == len && memcmp(plain, message, len) == 0 &&
              got.view.header.service == 7 && got.view.header.src_service == 49152 &&
              got.view.size == LWF_CLASS_MEDIUM);

    n = build_data_vector(&node_b, a_at_b, "small", LWF_FLAG_PRIORITY);
    CHECK("small_frame_bytes", same(frame, n, "small_frame"));
    message = vector("small_message", &len);
    CHECK("small_frame_received",
          receive_vector(&node_a, &of_a, "small_frame", plain, &got) == LWF_ACCEPTED &&
              got.plain_len == len && memcmp(plain, message, len) == 0 &&
              got.view.size == LWF_CLASS_SMALL && (got.view.header.flags & LWF_FLAG_PRIORITY));

    n = lwf_build_announce(&node_a, NULL, vector_u64("announce_seq"), true, frame, sizeof frame);
    CHECK("announce_frame_bytes", same(frame, n, "announce_frame"));
    struct peer_table empty = {0};
    CHECK("announce_received_from_new_node",
          receive_vector(&node_b, &empty, "announce_frame", plain, &got) == LWF_ACCEPTED &&
              got.peer == NULL && got.solicit &&
              memcmp(got.announce_public_key, node_a.public_key, LWF_PUBLIC_KEY_LEN) == 0 &&
              memcmp(got.announce_mac, node_a.mac, LWF_MAC_LEN) == 0);
}

static void test_fragments(void) {
    struct peer_table of_a = {0}, of_b = {0};
    struct lwf_peer *b_at_a = table_add(&of_a, &node_a, &node_b, 1);
    table_add(&of_b, &node_b, &node_a, 1);
    size_t message_len;
    const uint8_t *message = vector("fragmented_message", &message_len);
    uint32_t id = (uint32_t)vector_u64("fragmented_id");
    static struct lwf_reassembly_slot slots[2];
    static uint8_t buffers[2 * LWF_MESSAGE_MAX];
    struct lwf_reassembly reassembly;
    lwf_reassembly_init(&reassembly, slots, 2, buffers, 1);
    struct lwf_message done = {0};
    bool bytes_ok = true, received_ok = true;
    for (uint16_t i = 0; i < 3; i++) {
        char name[32];
        struct lwf_data_frame spec = {.service = 7, .src_service = 49153, .message_id = id, .fragment_index = i,
                                      .fragment_count = 3};
        snprintf(name, sizeof name, "fragment%u_seq", i);
        spec.sequence = vector_u64(name);
        snprintf(name, sizeof name, "fragment%u_nonce", i);
        memcpy(spec.nonce, vector(name, NULL), LWF_NONCE_LEN);
        size_t chunk = i < 2 ? LWF_CHUNK_LEN : message_len - 2 * LWF_CHUNK_LEN;
        size_t n = lwf_build_data(&node_a, b_at_a, &spec, message + i * LWF_CHUNK_LEN, chunk, frame,
                                  sizeof frame);
        snprintf(name, sizeof name, "fragment%u_frame", i);
        bytes_ok &= same(frame, n, name);
        uint8_t plain[LWF_PLAINTEXT_MAX];
        struct lwf_received got;
        received_ok &= receive_vector(&node_b, &of_b, name, plain, &got) == LWF_ACCEPTED &&
                       lwf_reassembly_offer(&reassembly, &got.view.header, plain, got.plain_len, 0,
                                            &done) == LWF_ACCEPTED &&
                       (done.data != NULL) == (i == 2);
    }
    CHECK("fragment_frames_bytes", bytes_ok);
    CHECK("fragments_received_and_reassembled",
          received_ok && done.len == message_len && memcmp(done.data, message, message_len) == 0 &&
              lwf_reassembly_busy(&reassembly) == 0);
}

/* The spec quotes the vectors file verbatim (docs/lwf.md, section 12): the two cannot drift. */
static void test_spec_quotes_vectors(const char *datadir) {
    char path[512];
    snprintf(path, sizeof path, "%s/lwf_vectors.txt", datadir);
    CHECK("spec_quotes_vectors_file", vector_file_quoted_in(path, "docs/lwf.md"));
}

int main(int argc, char **argv) {
    check_suite = "lwf_vectors";
    const char *datadir = argc > 1 ? argv[1] : "tests/host/data";
    if (!fixture_load(datadir)) {
        printf("FAIL lwf_vectors.load: cannot read lwf_vectors.txt\n");
        return 1;
    }
    test_crc32c();
    test_identities();
    test_frames();
    test_fragments();
    test_spec_quotes_vectors(datadir);
    return check_exit();
}
