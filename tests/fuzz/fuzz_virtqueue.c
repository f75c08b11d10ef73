/*
 * libFuzzer target for hal/virtio/virtqueue.c with the fuzzer as the device. The input is
 *     <size byte> then records <op byte> <arguments...>
 * (stopping anywhere). The driver posts chains and takes used ones; the device writes whatever
 * the record says into the used ring, its index, the available index and the descriptor table,
 * as a buggy or hostile device could.
 *
 * Alongside runs a model of what the driver must do with each used element: give back the chain
 * if the id is the head of a chain in flight (as overlong, with no length, if the device claims
 * more than the chain let it write), otherwise drop and count it. After every record the queue
 * must agree with the model on results, cookies, lengths, bad_used and free descriptors, and its
 * own records must split the descriptors exactly into the free list and the chains in flight:
 * none lost, none in two places, none freed twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_records.h"
#include "virtq_device.h"
#include "virtqueue.h"

enum op {
    OP_POST,          /* <count:1> <writable mask:1> <len:2>: a chain of 1-3 buffers */
    OP_COMPLETE,      /* <id:4> <len:4>: any used element */
    OP_COMPLETE_LIVE, /* <pick:1> <len:4>: a chain in flight, len reduced to near its limit */
    OP_TAKE,          /* the driver takes one used chain */
    OP_TAKE_ALL,      /* ... and every one */
    OP_SET_USED_IDX,  /* <u16>: the device moves the used index anywhere */
    OP_SET_AVAIL_IDX, /* <u16>: the device scribbles on the driver's available index */
    OP_SCRIBBLE_DESC, /* <index:1> <next:2> <flags:2>: the device rewrites a descriptor */
};
#define NUM_OPS (OP_SCRIBBLE_DESC + 1)

/* What the driver must know, kept apart from the driver's own records. */
struct model {
    uint8_t in_flight[VIRTQ_MAX];
    uint16_t descriptors[VIRTQ_MAX];
    uint64_t writable[VIRTQ_MAX];
    uint32_t cookie[VIRTQ_MAX];
    uint16_t heads[VIRTQ_MAX]; /* the heads in flight, for OP_COMPLETE_LIVE */
    uint32_t live;
    uint32_t free;
    uint16_t last_used;
    uint64_t bad;
};

static void forget_head(struct model *m, uint16_t head) {
    for (uint32_t i = 0; i < m->live; i++)
        if (m->heads[i] == head) {
            m->heads[i] = m->heads[--m->live];
            return;
        }
    abort();
}

static void op_post(struct virtq *vq, struct model *m, uint8_t count, uint8_t mask, uint16_t len, uint32_t cookie) {
    int n = 1 + count % 3;
    struct virtq_buf b[3];
    uint64_t writable = 0;
    for (int i = 0; i < n; i++) {
        b[i] = (struct virtq_buf){0x1000u * (uint64_t)(i + 1), (uint32_t)len + (uint32_t)i, (mask >> i) & 1};
        writable += b[i].device_writes ? b[i].len : 0;
    }
    int rc = virtq_add(vq, b, n, cookie);
    if ((uint32_t)n > m->free) {
        REQUIRE(rc == -1);
        return;
    }
    REQUIRE(rc == 0);
    uint16_t head = device_last_posted(vq);
    REQUIRE(head < vq->num && !m->in_flight[head]);
    m->in_flight[head] = 1;
    m->descriptors[head] = (uint16_t)n;
    m->writable[head] = writable;
    m->cookie[head] = cookie;
    m->heads[m->live++] = head;
    m->free -= (uint32_t)n;
}

/* The model's verdict on the used ring, element by element, then the driver's. */
static void op_take(struct virtq *vq, struct model *m) {
    enum virtq_used_result expect = VIRTQ_USED_NONE;
    uint32_t expect_cookie = 0, expect_len = 0;
    while (m->last_used != vq->used->idx) {
        struct virtq_used_elem e = vq->used->ring[m->last_used & (vq->num - 1)];
        m->last_used++;
        if (e.id >= vq->num || !m->in_flight[e.id]) {
            m->bad++;
            continue;
        }
        int overlong = e.len > m->writable[e.id];
        expect = overlong ? VIRTQ_USED_OVERLONG : VIRTQ_USED_OK;
        expect_cookie = m->cookie[e.id];
        expect_len = overlong ? 0 : e.len;
        m->bad += (uint64_t)overlong;
        m->in_flight[e.id] = 0;
        m->free += m->descriptors[e.id];
        forget_head(m, (uint16_t)e.id);
        break;
    }
    uint32_t cookie = 0, len = 0;
    enum virtq_used_result got = virtq_take_used(vq, &cookie, &len);
    REQUIRE(got == expect);
    if (got != VIRTQ_USED_NONE)
        REQUIRE(cookie == expect_cookie && len == expect_len);
    REQUIRE(vq->last_used == m->last_used);
}

/* The driver's records split the descriptors into the free list and the chains in flight. */
static void check_partition(const struct virtq *vq, const struct model *m) {
    uint8_t seen[VIRTQ_MAX] = {0};
    uint32_t total = 0;
    REQUIRE(vq->num_free == m->free && vq->bad_used == m->bad);
    for (uint16_t head = 0; head < vq->num; head++) {
        REQUIRE((vq->chain[head].descriptors != 0) == m->in_flight[head]);
        if (!m->in_flight[head])
            continue;
        REQUIRE(vq->chain[head].descriptors == m->descriptors[head] && vq->chain[head].cookie == m->cookie[head]);
        for (uint16_t d = head, i = 0; i < m->descriptors[head]; i++, d = vq->link[d]) {
            REQUIRE(d < vq->num && !seen[d]);
            seen[d] = 1;
            total++;
        }
    }
    for (uint16_t d = vq->free_head, i = 0; i < vq->num_free; i++, d = vq->link[d]) {
        REQUIRE(d < vq->num && !seen[d]);
        seen[d] = 1;
        total++;
    }
    REQUIRE(total == vq->num);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size};
    uint8_t b;
    if (!take(&in, &b, 1))
        return 0;
    static struct virtq vq;
    static struct model m;
    REQUIRE(virtq_create(&vq, (uint16_t)(1u << (b % 9))) == 0); /* 1 .. 256 */
    memset(&m, 0, sizeof m);
    m.free = vq.num;

    for (uint32_t rec = 0; take(&in, &b, 1); rec++) {
        uint8_t b1, b2;
        uint16_t u16, flags;
        uint32_t id, len;
        switch (b % NUM_OPS) {
        case OP_POST:
            if (take(&in, &b1, 1) && take(&in, &b2, 1) && take(&in, &u16, 2))
                op_post(&vq, &m, b1, b2, u16, rec);
            break;
        case OP_COMPLETE:
            if (take(&in, &id, 4) && take(&in, &len, 4))
                device_complete(&vq, id, len);
            break;
        case OP_COMPLETE_LIVE:
            if (take(&in, &b1, 1) && take(&in, &len, 4) && m.live > 0) {
                uint16_t head = m.heads[b1 % m.live];
                device_complete(&vq, head, (uint32_t)(len % (m.writable[head] + 2)));
            }
            break;
        case OP_TAKE:
            op_take(&vq, &m);
            break;
        case OP_TAKE_ALL:
            for (uint32_t i = 0; i < 0x10000u && virtq_has_used(&vq); i++)
                op_take(&vq, &m);
            break;
        case OP_SET_USED_IDX:
            if (take(&in, &u16, 2))
                vq.used->idx = u16;
            break;
        case OP_SET_AVAIL_IDX:
            if (take(&in, &u16, 2))
                vq.avail->idx = u16;
            break;
        case OP_SCRIBBLE_DESC:
            if (take(&in, &b1, 1) && take(&in, &u16, 2) && take(&in, &flags, 2)) {
                vq.desc[b1 % vq.num].next = u16;
                vq.desc[b1 % vq.num].flags = flags;
            }
            break;
        }
        check_partition(&vq, &m);
    }
    free(vq.mem);
    return 0;
}
