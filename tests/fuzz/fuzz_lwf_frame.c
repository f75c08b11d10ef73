/* libFuzzer target for the LWF receive path (lwf/: frame.c, receive.c, crypto.c, replay.c,
 * reassembly.c). The first input byte chooses how the rest is used: bit 0 set recomputes the
 * CRC first, so the fuzzer gets past step 2 into the header rules and what follows. The receiver
 * is node b of docs/lwf.md's vectors, knowing node a. For any input: a known cause; a drop leaves
 * the peer table byte for byte as it was; an accepted frame is a's, its plaintext fits, the same
 * frame again is a replay, and a fragment goes through reassembly within its slot. */
#include <stdlib.h>
#include <string.h>

#include "lwf.h"
#include "lwf_fixture.h"

static struct lwf_node receiver, sender;
static struct peer_table pristine;
static struct lwf_reassembly_slot slot;
static uint8_t slot_buffer[LWF_MESSAGE_MAX];
static struct lwf_reassembly reassembly;

/* The vectors' nodes a and b (docs/lwf.md, section 12), made from their seeds. */
static void node_from_seed(struct lwf_node *node, uint8_t first_seed_byte, uint8_t mac_last) {
    uint8_t seed[32];
    const uint8_t mac[LWF_MAC_LEN] = {0x52, 0x54, 0x00, 0x00, 0x00, mac_last};
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(first_seed_byte + i);
    fixture_node_from_seed(node, seed, mac);
}

static void setup(void) {
    node_from_seed(&sender, 0x00, 0x0a);
    node_from_seed(&receiver, 0x20, 0x0b);
    if (!table_add(&pristine, &receiver, &sender, 1))
        abort();
    lwf_reassembly_init(&reassembly, &slot, 1, slot_buffer, 1);
}

static void check_accepted(const uint8_t *frame, size_t size, struct peer_table *t,
                           const struct lwf_received *got, const uint8_t *plain) {
    const struct lwf_header *h = &got->view.header;
    if (h->type == LWF_TYPE_DATA &&
        (got->peer != &t->peers[0] || got->plain_len != h->payload_length - LWF_TAG_LEN))
        abort();
    if (h->flags & LWF_FLAG_FRAGMENTED) {
        struct lwf_message done;
        enum lwf_drop drop = lwf_reassembly_offer(&reassembly, h, plain, got->plain_len, 0, &done);
        if (drop != LWF_ACCEPTED && drop != LWF_DROP_FRAGMENT_OVERFLOW && drop != LWF_DROP_FRAGMENT_DUPLICATE)
            abort();
        if (done.data && done.len > LWF_MESSAGE_MAX)
            abort();
        lwf_reassembly_expire(&reassembly, LWF_REASSEMBLY_TIMEOUT_MS);
    }
    uint8_t again_plain[LWF_PLAINTEXT_MAX];
    struct lwf_received again;
    if (got->peer && lwf_receive(&receiver, frame, size, table_lookup, t, again_plain, &again) !=
                         LWF_DROP_REPLAY)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size == 0)
        return 0;
    bool fix_crc = data[0] & 1;
    size--;
    uint8_t *frame = malloc(size ? size : 1);
    if (!frame)
        abort();
    memcpy(frame, data + 1, size);
    if (fix_crc && size > LWF_ETH_HEADER_LEN + LWF_CRC_LEN)
        lwf_frame_seal_crc(frame + LWF_ETH_HEADER_LEN, size - LWF_ETH_HEADER_LEN);

    struct peer_table t;
    memcpy(&t, &pristine, sizeof t);
    uint8_t plain[LWF_PLAINTEXT_MAX];
    struct lwf_received got;
    enum lwf_drop drop = lwf_receive(&receiver, frame, size, table_lookup, &t, plain, &got);
    if ((unsigned)drop >= LWF_DROP_CAUSES)
        abort();
    if (drop != LWF_ACCEPTED && memcmp(&t, &pristine, sizeof t) != 0)
        abort();
    if (drop == LWF_ACCEPTED)
        check_accepted(frame, size, &t, &got, plain);
    free(frame);
    return 0;
}
