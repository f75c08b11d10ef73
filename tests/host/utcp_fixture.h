/*
 * What the UTCP host tests and the fuzz target share: nodes made from Ed25519 seeds (a and b are
 * the nodes of docs/utcp.md's vectors), each a utcp_core over its own sessions and slots, whose
 * random bytes come from a script (so handshakes reproduce the vectors) or a seeded generator,
 * and whose frames land in an outbox the test delivers by hand.
 */
#ifndef UTCP_FIXTURE_H
#define UTCP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utcp.h"

#define FIXTURE_SESSIONS 4
#define FIXTURE_WINDOW   256
#define FIXTURE_OUTBOX   128

struct sent_frame {
    uint8_t peer[UTCP_CELLID_LEN];
    uint8_t bytes[UTCP_FRAME_MAX];
    size_t len;
};

struct test_node {
    struct utcp_core core;
    struct utcp_session sessions[FIXTURE_SESSIONS];
    struct utcp_slot slots[2 * FIXTURE_SESSIONS * FIXTURE_WINDOW];
    struct sent_frame outbox[FIXTURE_OUTBOX];
    size_t outbox_count;
    const uint8_t *script; /* random bytes to hand out first */
    size_t script_len;
    uint64_t prng;
    uint8_t stream_bytes[64 * 1024]; /* what on_data delivered, in order */
    size_t stream_len;
    uint16_t last_stream;
    unsigned fins, established, closed;
    int last_close_reason;
};

/* The seed 0x00..0x1f (a), 0x20..0x3f (b), 0x40..0x5f (c) as in the vectors. */
void fixture_seed(uint8_t seed[32], uint8_t first);
/* A node with the identity of `seed`; `script` (may be NULL) is handed out as its first random
 * bytes, then a generator seeded with the seed's first byte. `window` <= FIXTURE_WINDOW. */
void test_node_init(struct test_node *n, const uint8_t seed[32], const uint8_t *script, size_t script_len,
                    uint32_t window, uint64_t now);
/* Delivers every frame in `from`'s outbox to whichever of `nodes` it names (the outbox empties). */
void deliver_outbox(struct test_node *from, struct test_node *const *nodes, size_t count, uint64_t now);
/* A handshake from `initiator` to `responder` through their outboxes; the initiator's session. */
struct utcp_session *fixture_connect(struct test_node *initiator, struct test_node *responder, uint64_t now);
/* The responder's session with `peer`, or NULL. */
struct utcp_session *session_with(struct test_node *n, const struct test_node *peer);
/* A heap copy of exactly `len` bytes, so ASan sees any read past a frame. */
uint8_t *exact_copy(const uint8_t *data, size_t len);

#endif
