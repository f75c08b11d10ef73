/*
 * LWF fragmentation (docs/lwf.md, section 7): 64 KiB messages through real frames, both ways, in
 * order, reversed and shuffled; fragments lost (timed out, slot returned), duplicated (dropped,
 * delivered once), inconsistent; slots full and one peer's share, without evicting anyone.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lwf_fixture.h"

#define SLOTS 2

static struct lwf_reassembly_slot slots[SLOTS];
static uint8_t buffers[SLOTS * LWF_MESSAGE_MAX];
static struct lwf_reassembly reassembly;
static uint8_t message[LWF_MESSAGE_MAX];

static void fresh_reassembly(size_t per_peer_max) {
    lwf_reassembly_init(&reassembly, slots, SLOTS, buffers, per_peer_max);
}

static size_t chunk_len(size_t message_len, uint16_t index) {
    size_t rest = message_len - (size_t)index * LWF_CHUNK_LEN;
    return rest < LWF_CHUNK_LEN ? rest : LWF_CHUNK_LEN;
}

static uint16_t fragment_count(size_t message_len) {
    return (uint16_t)((message_len + LWF_CHUNK_LEN - 1) / LWF_CHUNK_LEN);
}

/* Sends `message_len` bytes from `from` to `to` as frames in the order `order[]`, receives each
 * at `to`, offers it; true when the message came out once, whole, after the last one. */
static bool send_message(const struct lwf_node *from, const struct lwf_node *to, size_t message_len,
                         const uint16_t *order, uint32_t id, uint64_t first_sequence) {
    struct peer_table of_from = {0}, of_to = {0};
    struct lwf_peer *to_at_from = table_add(&of_from, from, to, 1);
    table_add(&of_to, to, from, 1);
    uint16_t count = fragment_count(message_len);
    static uint8_t frame[LWF_ETH_HEADER_LEN + LWF_FRAME_MAX];
    uint8_t plain[LWF_PLAINTEXT_MAX];
    size_t delivered = 0;
    bool whole = false;
    for (uint16_t k = 0; k < count; k++) {
        uint16_t i = order[k];
        struct lwf_data_frame spec = {.service = 3, .sequence = first_sequence + k, .message_id = id,
                                      .fragment_index = i, .fragment_count = count};
        memset(spec.nonce, k, sizeof spec.nonce);
        size_t n = lwf_build_data(from, to_at_from, &spec, message + (size_t)i * LWF_CHUNK_LEN,
                                  chunk_len(message_len, i), frame, sizeof frame);
        struct lwf_received got;
        struct lwf_message done;
        if (n == 0 || lwf_receive(to, frame, n, table_lookup, &of_to, plain, &got) != LWF_ACCEPTED ||
            lwf_reassembly_offer(&reassembly, &got.view.header, plain, got.plain_len, k, &done) !=
                LWF_ACCEPTED)
            return false;
        if (done.data) {
            delivered++;
            whole = k == count - 1 && done.len == message_len &&
                    memcmp(done.data, message, message_len) == 0;
        }
    }
    return delivered == 1 && whole && lwf_reassembly_busy(&reassembly) == 0;
}

static void test_full_messages(void) {
    for (size_t i = 0; i < sizeof message; i++)
        message[i] = (uint8_t)(i * 2654435761u >> 13);
    uint16_t in_order[LWF_FRAGMENTS_MAX], reversed[LWF_FRAGMENTS_MAX], shuffled[LWF_FRAGMENTS_MAX];
    for (uint16_t i = 0; i < LWF_FRAGMENTS_MAX; i++)
        in_order[i] = i;
    uint32_t x = 7;
    for (uint16_t count = LWF_FRAGMENTS_MAX, i = 0; i < count; i++)
        reversed[i] = (uint16_t)(count - 1 - i), shuffled[i] = i;
    for (uint16_t i = LWF_FRAGMENTS_MAX - 1; i > 0; i--) {
        x = x * 1103515245u + 12345u;
        uint16_t j = (uint16_t)((x >> 8) % (i + 1u)), t = shuffled[i];
        shuffled[i] = shuffled[j], shuffled[j] = t;
    }
    fresh_reassembly(1);
    CHECK("64KiB_a_to_b_in_order", send_message(&node_a, &node_b, LWF_MESSAGE_MAX, in_order, 1, 10));
    CHECK("64KiB_b_to_a_reversed", send_message(&node_b, &node_a, LWF_MESSAGE_MAX, reversed, 2, 10));
    CHECK("64KiB_a_to_b_shuffled", send_message(&node_a, &node_b, LWF_MESSAGE_MAX, shuffled, 3, 10));
    CHECK("two_fragments_short_last", send_message(&node_a, &node_b, LWF_CHUNK_LEN + 1, in_order, 4, 10));
    uint16_t two_reversed[] = {1, 0};
    CHECK("two_fragments_last_first", send_message(&node_b, &node_a, 2 * LWF_CHUNK_LEN - 5, two_reversed, 5, 10));
}

/* A fragment header as lwf_receive hands it over. */
static struct lwf_header fragment(const struct lwf_node *from, uint32_t id, uint16_t index, uint16_t count) {
    struct lwf_header h = {.flags = LWF_FLAG_ENCRYPTED | LWF_FLAG_SIGNED | LWF_FLAG_FRAGMENTED,
                           .type = LWF_TYPE_DATA, .message_id = id, .fragment_index = index,
                           .fragment_count = count};
    memcpy(h.src, from->cellid, LWF_CELLID_LEN);
    return h;
}

static enum lwf_drop offer(const struct lwf_node *from, uint32_t id, uint16_t index, uint16_t count,
                           size_t len, uint64_t now, struct lwf_message *done) {
    struct lwf_header h = fragment(from, id, index, count);
    return lwf_reassembly_offer(&reassembly, &h, message, len, now, done);
}

static void test_loss_and_duplicates(void) {
    struct lwf_message done;
    fresh_reassembly(SLOTS);
    bool ok = offer(&node_a, 9, 0, 3, LWF_CHUNK_LEN, 1000, &done) == LWF_ACCEPTED && !done.data &&
              offer(&node_a, 9, 2, 3, 10, 1100, &done) == LWF_ACCEPTED && !done.data;
    CHECK("lost_fragment.waits", ok && lwf_reassembly_busy(&reassembly) == 1);
    CHECK("lost_fragment.not_expired_before_timeout", lwf_reassembly_expire(&reassembly, 2999) == 0 &&
                                                          lwf_reassembly_busy(&reassembly) == 1);
    CHECK("lost_fragment.expired_at_timeout", lwf_reassembly_expire(&reassembly, 3000) == 1 &&
                                                  lwf_reassembly_busy(&reassembly) == 0);
    CHECK("lost_fragment.late_one_starts_over", offer(&node_a, 9, 1, 3, LWF_CHUNK_LEN, 3001, &done) ==
                                                    LWF_ACCEPTED && !done.data &&
                                                    lwf_reassembly_expire(&reassembly, 5001) == 1);

    fresh_reassembly(SLOTS);
    ok = offer(&node_a, 10, 0, 2, LWF_CHUNK_LEN, 0, &done) == LWF_ACCEPTED &&
         offer(&node_a, 10, 0, 2, LWF_CHUNK_LEN, 1, &done) == LWF_DROP_FRAGMENT_DUPLICATE &&
         offer(&node_a, 10, 1, 2, 3, 2, &done) == LWF_ACCEPTED && done.data &&
         done.len == LWF_CHUNK_LEN + 3;
    CHECK("duplicate_fragment.dropped_and_delivered_once", ok && lwf_reassembly_busy(&reassembly) == 0);

    fresh_reassembly(SLOTS);
    ok = offer(&node_a, 11, 0, 3, LWF_CHUNK_LEN, 0, &done) == LWF_ACCEPTED &&
         offer(&node_a, 11, 1, 4, LWF_CHUNK_LEN, 0, &done) == LWF_DROP_FRAGMENT_OVERFLOW &&
         offer(&node_a, 11, 1, 3, 100, 0, &done) == LWF_DROP_FRAGMENT_OVERFLOW &&
         offer(&node_a, 11, 3, 3, 100, 0, &done) == LWF_DROP_FRAGMENT_OVERFLOW &&
         offer(&node_a, 12, 0, LWF_FRAGMENTS_MAX + 1, LWF_CHUNK_LEN, 0, &done) == LWF_DROP_FRAGMENT_OVERFLOW;
    CHECK("inconsistent_fragments.dropped", ok && lwf_reassembly_busy(&reassembly) == 1);
}

static void test_slots_bounded(void) {
    struct lwf_message done;
    fresh_reassembly(1);
    bool ok = offer(&node_a, 1, 0, 2, LWF_CHUNK_LEN, 0, &done) == LWF_ACCEPTED &&
              offer(&node_a, 2, 0, 2, LWF_CHUNK_LEN, 0, &done) == LWF_DROP_FRAGMENT_OVERFLOW;
    CHECK("per_peer_share.enforced", ok && lwf_reassembly_busy(&reassembly) == 1);
    ok = offer(&node_c, 1, 0, 2, LWF_CHUNK_LEN, 0, &done) == LWF_ACCEPTED &&
         offer(&node_b, 1, 0, 2, LWF_CHUNK_LEN, 0, &done) == LWF_DROP_FRAGMENT_OVERFLOW;
    CHECK("all_slots_busy.newcomer_dropped", ok && lwf_reassembly_busy(&reassembly) == SLOTS);
    ok = offer(&node_a, 1, 1, 2, 1, 10, &done) == LWF_ACCEPTED && done.data && done.len == LWF_CHUNK_LEN + 1;
    CHECK("busy_slots.not_evicted_and_complete", ok && lwf_reassembly_busy(&reassembly) == 1);
    CHECK("timeout.returns_every_slot", lwf_reassembly_expire(&reassembly, LWF_REASSEMBLY_TIMEOUT_MS) == 1 &&
                                           lwf_reassembly_busy(&reassembly) == 0);
    ok = offer(&node_b, 1, 0, 2, LWF_CHUNK_LEN, 5000, &done) == LWF_ACCEPTED;
    CHECK("returned_slot.usable_again", ok && lwf_reassembly_busy(&reassembly) == 1);
}

int main(int argc, char **argv) {
    check_suite = "lwf_reassembly";
    if (!fixture_load(argc > 1 ? argv[1] : "tests/host/data")) {
        printf("FAIL lwf_reassembly.load: cannot read lwf_vectors.txt\n");
        return 1;
    }
    test_full_messages();
    test_loss_and_duplicates();
    test_slots_bounded();
    return check_exit();
}
