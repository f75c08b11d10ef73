/* libFuzzer target for the UTCP receive path (utcp/: codec.c, handshake.c, session.c, receiver.c,
 * sender.c, crypto.c). The receiver is node b of docs/utcp.md's vectors with a session from node
 * a, restored before every input. The first input byte chooses how the rest is used:
 *   bit 0  the rest is a header and a plaintext: the target fixes the length and seals it with a's
 *          key for its type's sequence space, so the fuzzer gets past the AEAD into what acts;
 *   bit 1  the header's dst, src and session id are set to b, a and their session.
 * For any input: a known cause; a drop leaves b's sessions byte for byte as they were (a replayed
 * CONFIRM, answered by design, aside); a sealed frame accepted once is not accepted again. */
#include <stdlib.h>
#include <string.h>

#include "utcp.h"
#include "utcp_fixture.h"

#define FUZZ_WINDOW 8
#define USED_SLOTS  (2 * FIXTURE_SESSIONS * FUZZ_WINDOW)

static struct test_node a, b;
static struct utcp_core core_a, core_b;
static struct utcp_session sessions_a[FIXTURE_SESSIONS], sessions_b[FIXTURE_SESSIONS];
static struct utcp_slot slots_a[USED_SLOTS], slots_b[USED_SLOTS];
static struct utcp_session *ab;

static void save(struct test_node *n, struct utcp_core *core, struct utcp_session *sessions, struct utcp_slot *slots) {
    memcpy(core, &n->core, sizeof *core);
    memcpy(sessions, n->sessions, sizeof n->sessions);
    memcpy(slots, n->slots, sizeof(struct utcp_slot) * USED_SLOTS);
}

static void restore(struct test_node *n, const struct utcp_core *core, const struct utcp_session *sessions,
                    const struct utcp_slot *slots) {
    memcpy(&n->core, core, sizeof *core);
    memcpy(n->sessions, sessions, sizeof n->sessions);
    memcpy(n->slots, slots, sizeof(struct utcp_slot) * USED_SLOTS);
    n->outbox_count = n->stream_len = 0;
}

static void setup(void) {
    uint8_t seed[32];
    fixture_seed(seed, 0x00);
    test_node_init(&a, seed, NULL, 0, FUZZ_WINDOW, 0);
    fixture_seed(seed, 0x20);
    test_node_init(&b, seed, NULL, 0, FUZZ_WINDOW, 0);
    ab = fixture_connect(&a, &b, 0);
    if (!ab)
        abort();
    save(&a, &core_a, sessions_a, slots_a);
    save(&b, &core_b, sessions_b, slots_b);
}

/* Builds the frame of a bit-0 input into out[]; returns its length. */
static size_t sealed_input(const uint8_t *data, size_t size, bool addressed, uint8_t *out) {
    uint8_t header[UTCP_HEADER_LEN] = {0};
    memcpy(header, data, size < UTCP_HEADER_LEN ? size : UTCP_HEADER_LEN);
    const uint8_t *plain = data + (size < UTCP_HEADER_LEN ? size : UTCP_HEADER_LEN);
    size_t len = size > UTCP_HEADER_LEN ? size - UTCP_HEADER_LEN : 0;
    if (len > UTCP_PLAINTEXT_MAX)
        len = UTCP_PLAINTEXT_MAX;
    if (addressed) {
        memcpy(header + UTCP_OFF_DST, b.core.config.identity.cellid, UTCP_CELLID_LEN);
        memcpy(header + UTCP_OFF_SRC, a.core.config.identity.cellid, UTCP_CELLID_LEN);
        for (int i = 0; i < 4; i++)
            header[UTCP_OFF_SESSION + i] = (uint8_t)(ab->id >> (24 - 8 * i));
    }
    size_t body = header[UTCP_OFF_TYPE] > UTCP_TYPE_CONFIRM ? len + UTCP_TAG_LEN : len;
    header[UTCP_OFF_LENGTH] = (uint8_t)(body >> 8);
    header[UTCP_OFF_LENGTH + 1] = (uint8_t)body;
    memcpy(out, header, UTCP_HEADER_LEN);
    if (header[UTCP_OFF_TYPE] > UTCP_TYPE_CONFIRM)
        utcp_seal(ab->send_key, utcp_space_of(header[UTCP_OFF_TYPE]), out, plain, len);
    else
        memcpy(out + UTCP_HEADER_LEN, plain, len);
    return UTCP_HEADER_LEN + body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size == 0)
        return 0;
    restore(&a, &core_a, sessions_a, slots_a);
    restore(&b, &core_b, sessions_b, slots_b);
    uint8_t mode = data[0];
    data++, size--;
    static uint8_t built[UTCP_FRAME_MAX + 64];
    size_t len = size;
    const uint8_t *input = data;
    if (mode & 1) {
        len = sealed_input(data, size, mode & 2, built);
        input = built;
    }
    uint8_t *frame = malloc(len ? len : 1);
    if (!frame)
        abort();
    memcpy(frame, input, len);

    struct utcp_session *from;
    enum utcp_drop drop = utcp_receive(&b.core, frame, len, 1000, &from);
    if ((unsigned)drop >= UTCP_DROP_CAUSES)
        abort();
    bool answered = drop == UTCP_DROP_REPLAY && len > UTCP_OFF_TYPE && frame[UTCP_OFF_TYPE] == UTCP_TYPE_CONFIRM;
    if (drop != UTCP_ACCEPTED && !answered && memcmp(b.sessions, sessions_b, sizeof sessions_b) != 0)
        abort();
    if (drop == UTCP_ACCEPTED && from && frame[UTCP_OFF_TYPE] > UTCP_TYPE_CONFIRM &&
        utcp_receive(&b.core, frame, len, 1000, &from) == UTCP_ACCEPTED)
        abort();
    if (b.stream_len > UTCP_PLAINTEXT_MAX * FUZZ_WINDOW)
        abort();
    utcp_poll(&b.core, 2000000);
    free(frame);
    return 0;
}
