/*
 * libFuzzer target for an AF_UNIX lane (ion/unix_lane.c) with the fuzzer as the hostile
 * peer. Both ends run here as the trusted side would, while the peer scribbles on the shared
 * header (rings, counters, flags) at any time. The input is records <op byte> <arguments>.
 * The lane is malloc'd at exactly UNIX_LANE_BYTES, so AddressSanitizer catches any access
 * outside it; after every record the ends must keep their promises: a piece lies inside the
 * buffer area, the reader's queue never holds more than UNIX_LANE_BUFS, a claimed buffer is one
 * of the lane's buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_records.h"
#include "unix_lane.h"

enum op {
    OP_SEND,    /* <len:2>: claim, fill, post (len & 0x1fff: sometimes too long) */
    OP_CONSUME, /* <n:2>: a stream read of n bytes */
    OP_DROP,    /* a datagram read */
    OP_PIECES,  /* walk every piece */
    OP_POKE,    /* <offset:2> <byte>: the peer writes the shared header */
    OP_POKE32,  /* <slot:1> <u32>: the peer writes a 32-bit word of the header */
    OP_SHUT,    /* <which:1>: writer or reader shuts */
    OP_QUERY,   /* at_end, writable, flags */
};
#define NUM_OPS (OP_QUERY + 1)

static void check_piece(const uint8_t *lane, const uint8_t *p, uint32_t len) {
    const uint8_t *bufs = lane + UNIX_LANE_OFF_BUFS;
    REQUIRE(p >= bufs && p + len <= lane + UNIX_LANE_BYTES);
    REQUIRE(len <= UNIX_LANE_BUF_BYTES);
    size_t within = (size_t)(p - bufs) % UNIX_LANE_BUF_BYTES;
    REQUIRE(within + len <= UNIX_LANE_BUF_BYTES); /* a piece never runs into the next buffer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size};
    uint8_t *lane = aligned_alloc(64, UNIX_LANE_BYTES);
    struct unix_lane_writer w;
    struct unix_lane_reader r;
    unix_lane_init(lane);
    unix_lane_writer_attach(&w, lane);
    unix_lane_reader_attach(&r, lane);
    uint8_t op;
    while (take(&in, &op, 1)) {
        uint16_t v16 = 0;
        uint8_t v8 = 0;
        uint32_t v32 = 0, len;
        switch (op % NUM_OPS) {
        case OP_SEND: {
            take(&in, &v16, 2);
            uint8_t *b = unix_lane_claim(&w);
            if (b) {
                check_piece(lane, b, UNIX_LANE_BUF_BYTES);
                uint32_t n = v16 & 0x1fff;
                memset(b, 0x5a, n > UNIX_LANE_BUF_BYTES ? UNIX_LANE_BUF_BYTES : n);
                int posted = unix_lane_post(&w, n) == 0;
                REQUIRE(!posted || n <= UNIX_LANE_BUF_BYTES);
            }
            break;
        }
        case OP_CONSUME:
            take(&in, &v16, 2);
            unix_lane_consume(&r, v16);
            break;
        case OP_DROP: unix_lane_drop_first(&r); break;
        case OP_PIECES: {
            size_t total = 0;
            const uint8_t *p;
            for (uint32_t i = 0; (p = unix_lane_piece(&r, i, &len)); i++) {
                check_piece(lane, p, len);
                REQUIRE(i < UNIX_LANE_BUFS);
                total += len;
            }
            REQUIRE(total == unix_lane_queued_bytes(&r));
            break;
        }
        case OP_POKE:
            take(&in, &v16, 2);
            take(&in, &v8, 1);
            lane[v16 % UNIX_LANE_OFF_BUFS] = v8;
            break;
        case OP_POKE32:
            take(&in, &v8, 1);
            take(&in, &v32, 4);
            memcpy(lane + (v8 % (UNIX_LANE_OFF_BUFS / 4)) * 4, &v32, 4);
            break;
        case OP_SHUT:
            take(&in, &v8, 1);
            if (v8 & 1)
                unix_lane_shut_writer(&w);
            else
                unix_lane_shut_reader(&r);
            break;
        case OP_QUERY:
            (void)unix_lane_at_end(&r);
            (void)unix_lane_writable(&w);
            (void)unix_lane_reader_shut(&w);
            break;
        }
        REQUIRE(r.count <= UNIX_LANE_BUFS && r.first < UNIX_LANE_BUFS);
        REQUIRE(w.claimed < (int32_t)UNIX_LANE_BUFS);
        if (r.count)
            REQUIRE(r.offset <= r.queue[r.first].length);
    }
    free(lane);
    return 0;
}
