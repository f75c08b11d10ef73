/* Host tests for an AF_UNIX lane's two ends (ion/unix_lane.c, nexus/unixlane.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "unix_lane.h"

static uint8_t *lane;
static struct unix_lane_writer w;
static struct unix_lane_reader r;

static void fresh(void) {
    memset(lane, 0xa5, UNIX_LANE_BYTES); /* init must not rely on zeroed memory */
    unix_lane_init(lane);
    unix_lane_writer_attach(&w, lane);
    unix_lane_reader_attach(&r, lane);
}

/* Claims a buffer, fills it with len bytes of `fill` and posts it: 1 on success. */
static int send_bytes(uint8_t fill, uint32_t len) {
    uint8_t *b = unix_lane_claim(&w);
    if (!b)
        return 0;
    memset(b, fill, len);
    return unix_lane_post(&w, len) == 0;
}

/* The peer posts a descriptor of its own making on the active ring. */
static void post_raw(uint32_t handle, uint16_t offset, uint16_t length) {
    struct ion_desc d = {handle, offset, length};
    ion_ring_enqueue(&w.active, &d);
}

int main(void) {
    check_suite = "unix_lane";
    lane = aligned_alloc(64, UNIX_LANE_BYTES);

    fresh();
    int claimed = 0;
    while (send_bytes((uint8_t)claimed, 1) && claimed < 100)
        claimed++;
    CHECK("every_buffer_free_at_start", claimed == (int)UNIX_LANE_BUFS);
    CHECK("full_lane_not_writable", !unix_lane_writable(&w) && !w.broken);
    CHECK("reader_sees_all", unix_lane_queued(&r) == UNIX_LANE_BUFS && unix_lane_queued_bytes(&r) == UNIX_LANE_BUFS);
    uint32_t len;
    const uint8_t *p = unix_lane_piece(&r, 3, &len);
    CHECK("piece_in_order", p && len == 1 && p[0] == 3);
    unix_lane_drop_first(&r);
    CHECK("returned_buffer_writable_again", unix_lane_writable(&w) && unix_lane_queued(&r) == UNIX_LANE_BUFS - 1);

    fresh();
    send_bytes('a', 100);
    send_bytes('b', 50);
    unix_lane_consume(&r, 30);
    p = unix_lane_piece(&r, 0, &len);
    CHECK("partial_read_keeps_offset", p && len == 70 && p[0] == 'a' && unix_lane_queued_bytes(&r) == 120);
    unix_lane_consume(&r, 80);
    p = unix_lane_piece(&r, 0, &len);
    CHECK("read_across_buffers", p && len == 40 && p[0] == 'b' && unix_lane_queued(&r) == 1);
    unix_lane_consume(&r, 40);
    CHECK("stream_drained", unix_lane_queued(&r) == 0 && unix_lane_queued_bytes(&r) == 0);
    CHECK("post_without_claim_refused", unix_lane_post(&w, 1) == -1);
    CHECK("post_too_long_refused", unix_lane_claim(&w) && unix_lane_post(&w, UNIX_LANE_BUF_BYTES + 1) == -1);

    fresh();
    send_bytes('x', 5);
    unix_lane_shut_writer(&w);
    CHECK("end_only_after_queued_bytes", !unix_lane_at_end(&r) && unix_lane_writer_shut(&r));
    unix_lane_consume(&r, 5);
    CHECK("end_after_drain", unix_lane_at_end(&r));
    CHECK("reader_shut_seen", !unix_lane_reader_shut(&w));
    unix_lane_shut_reader(&r);
    CHECK("reader_shut_seen_by_writer", unix_lane_reader_shut(&w));

    unsigned rounds = 0;
    fresh();
    for (unsigned i = 0; i < 3000; i++) { /* the counters wrap the slot index many times */
        if (!send_bytes((uint8_t)i, 1 + i % 7))
            break;
        p = unix_lane_piece(&r, 0, &len);
        if (!p || len != 1 + i % 7 || p[0] != (uint8_t)i)
            break;
        unix_lane_drop_first(&r);
        rounds++;
    }
    CHECK("many_rounds", rounds == 3000);

    /* A hostile writer: the reader takes nothing of a bad descriptor and reads no more. */
    static const struct ion_desc bad[] = {
        {UNIX_LANE_BUFS, 0, 1}, {0, 1, 1}, {0, 0, UNIX_LANE_BUF_BYTES + 1}, {0xffffffffu, 0, 0},
    };
    int all_refused = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fresh();
        post_raw(bad[i].handle, bad[i].offset, bad[i].length);
        all_refused &= unix_lane_queued(&r) == 0 && r.broken && !unix_lane_piece(&r, 0, &len);
    }
    CHECK("bad_descriptor_breaks_reader", all_refused);
    fresh();
    send_bytes('g', 3);
    post_raw(0, 0, 5000);
    CHECK("good_before_bad_still_read", unix_lane_queued(&r) == 1 && r.broken);

    fresh();
    struct ion_ring_shared *active = (struct ion_ring_shared *)(void *)(lane + UNIX_LANE_OFF_ACTIVE);
    active->head = 1000; /* more than the capacity ahead of the tail */
    CHECK("corrupt_ring_breaks_reader", unix_lane_queued(&r) == 0 && r.broken);

    /* A hostile reader hands back a handle that is not a buffer. */
    fresh();
    for (unsigned i = 0; i < UNIX_LANE_BUFS; i++)
        send_bytes(0, 1);
    struct ion_desc back = {UNIX_LANE_BUFS + 3, 0, 0};
    ion_ring_enqueue(&r.free, &back);
    CHECK("bad_free_handle_breaks_writer", unix_lane_claim(&w) == NULL && w.broken && !unix_lane_writable(&w));

    free(lane);
    return check_exit();
}
