/*
 * Host tests for hal/virtio/virtqueue.c over heap pages, the test playing the device: it reads
 * the heads the driver posted and writes used elements straight into the used ring, good ones
 * and the kinds a buggy or hostile device could write (an id never posted, one completed twice,
 * one out of range, one in the middle of a chain, a length beyond the chain's writable bytes,
 * rewritten descriptor links). The driver must give back exactly the good chains, count the
 * rest, and keep its free list whole: every descriptor once, none still in flight.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "virtq_device.h"
#include "virtqueue.h"

#define QUEUE   8
#define RX_SIZE 2048u

/* Posts a receive buffer: the head the device sees, or -1 if the queue refused it. */
static int post_rx(struct virtq *vq, uint32_t cookie) {
    struct virtq_buf b = {0x1000u * (cookie + 1), RX_SIZE, 1};
    return virtq_add(vq, &b, 1, cookie) == 0 ? device_last_posted(vq) : -1;
}

/* A transmit chain as virtio_net.c builds it: three buffers the device only reads. */
static int post_tx(struct virtq *vq, uint32_t cookie) {
    struct virtq_buf b[3] = {{0x100, 12, 0}, {0x200, 14, 0}, {0x300, 1000, 0}};
    return virtq_add(vq, b, 3, cookie) == 0 ? device_last_posted(vq) : -1;
}

struct taken {
    enum virtq_used_result result;
    uint32_t cookie, len;
};

static struct taken take(struct virtq *vq) {
    struct taken t = {VIRTQ_USED_NONE, 0xdead, 0xdead};
    t.result = virtq_take_used(vq, &t.cookie, &t.len);
    return t;
}

static int is(struct taken t, enum virtq_used_result result, uint32_t cookie, uint32_t len) {
    return t.result == result && t.cookie == cookie && t.len == len;
}

/* Fills the queue with one-descriptor chains: how many fit, and whether every head handed out
 * is distinct and differs from `busy` (a head still in flight). The chains stay posted. */
static int refill_distinct(struct virtq *vq, uint16_t busy, int *fitted) {
    uint8_t seen[VIRTQ_MAX] = {0};
    int ok = 1;
    *fitted = 0;
    struct virtq_buf b = {0x9000, RX_SIZE, 1};
    while (virtq_add(vq, &b, 1, 900u + (uint32_t)*fitted) == 0) {
        uint16_t head = device_last_posted(vq);
        ok &= head < vq->num && head != busy && !seen[head];
        if (head < vq->num)
            seen[head] = 1;
        if (++*fitted > VIRTQ_MAX)
            break; /* a free list with a cycle: stop, the count already tells */
    }
    return ok;
}

static void device_trust(void) {
    struct virtq vq;
    CHECK("create", virtq_create(&vq, QUEUE) == 0 && vq.num_free == QUEUE);
    int rx0 = post_rx(&vq, 100), rx1 = post_rx(&vq, 101), rx2 = post_rx(&vq, 102);
    int rx3 = post_rx(&vq, 103), tx = post_tx(&vq, 200);
    CHECK("posted_all", rx0 >= 0 && rx1 >= 0 && rx2 >= 0 && rx3 >= 0 && tx >= 0 && vq.num_free == 1);
    uint16_t never_posted = vq.free_head; /* the one free descriptor */

    /* Two rounds, as the used ring holds QUEUE elements the driver has not looked at. */
    device_complete(&vq, rx0, 60);                 /* good */
    device_complete(&vq, never_posted, 60);        /* an id never posted */
    device_complete(&vq, rx0, 60);                 /* the same chain twice */
    device_complete(&vq, QUEUE, 60);               /* out of range */
    device_complete(&vq, 0xffffffffu, 60);         /* far out of range */
    CHECK("good_completion", is(take(&vq), VIRTQ_USED_OK, 100, 60));
    CHECK("bad_ones_give_nothing", take(&vq).result == VIRTQ_USED_NONE && vq.bad_used == 4);

    device_complete(&vq, (uint32_t)tx + 1, 0);     /* inside the TX chain, not its head */
    device_complete(&vq, rx1, RX_SIZE + 1);        /* more than the buffer holds */
    device_complete(&vq, tx, 0);                   /* good: the device writes nothing on TX */
    device_complete(&vq, rx2, RX_SIZE);            /* good: exactly the buffer */
    CHECK("overlong_ends_chain_untrusted", is(take(&vq), VIRTQ_USED_OVERLONG, 101, 0));
    CHECK("good_tx_chain", is(take(&vq), VIRTQ_USED_OK, 200, 0));
    CHECK("good_full_buffer", is(take(&vq), VIRTQ_USED_OK, 102, RX_SIZE));
    CHECK("nothing_more", take(&vq).result == VIRTQ_USED_NONE && !virtq_has_used(&vq));
    CHECK("bad_elements_counted", vq.bad_used == 6);
    CHECK("only_good_chains_freed", vq.num_free == QUEUE - 1);

    /* The device completes the TX chain a second time, later, while the chain of 103 is still
     * in flight: the queue must still hand out each free descriptor exactly once, never
     * 103's. */
    device_complete(&vq, tx, 0);
    CHECK("late_duplicate_dropped", take(&vq).result == VIRTQ_USED_NONE && vq.bad_used == 7);
    int fitted;
    CHECK("free_list_distinct", refill_distinct(&vq, (uint16_t)rx3, &fitted));
    CHECK("free_list_whole", fitted == QUEUE - 1 && vq.num_free == 0);
    free(vq.mem);
}

/* The descriptor table is the device's to read and (buggy or not) to write: the driver must
 * find a chain's descriptors from its own records, not from desc[].next. */
static void device_rewrites_links(void) {
    struct virtq vq;
    CHECK("create_links", virtq_create(&vq, QUEUE) == 0);
    int tx = post_tx(&vq, 7), rx = post_rx(&vq, 8);
    CHECK("posted_links", tx >= 0 && rx >= 0);
    vq.desc[tx].next = (uint16_t)rx; /* the TX chain now "continues" into the posted RX buffer */
    device_complete(&vq, tx, 0);
    CHECK("rewritten_chain_taken", is(take(&vq), VIRTQ_USED_OK, 7, 0));
    CHECK("rewritten_chain_frees_its_own", vq.num_free == QUEUE - 1);
    int fitted;
    CHECK("rx_still_in_flight", refill_distinct(&vq, (uint16_t)rx, &fitted) && fitted == QUEUE - 1);
    free(vq.mem);
}

/* The used index running far ahead of what was posted: every stale slot is looked at once and
 * dropped, and the call still ends. */
static void device_runs_index_ahead(void) {
    struct virtq vq;
    CHECK("create_ahead", virtq_create(&vq, QUEUE) == 0);
    CHECK("posted_ahead", post_rx(&vq, 1) == 0);
    vq.used->idx = (uint16_t)(vq.used->idx + 3 * QUEUE); /* slots all say id 0, len 0 */
    int taken = 0;
    for (struct taken t; (t = take(&vq)).result != VIRTQ_USED_NONE;)
        taken += t.result == VIRTQ_USED_OK && t.cookie == 1;
    CHECK("ahead_gives_posted_chain_once", taken == 1);
    CHECK("ahead_rest_counted", vq.bad_used == 3 * QUEUE - 1 && vq.num_free == QUEUE);
    free(vq.mem);
}

/* The device's "do not notify me" flag is read from the used ring, the rest of it ignored. */
static void device_declines_notifications(void) {
    struct virtq vq;
    CHECK("create_notify", virtq_create(&vq, QUEUE) == 0);
    CHECK("notify_by_default", virtq_device_wants_notify(&vq));
    vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
    CHECK("no_notify_when_declined", !virtq_device_wants_notify(&vq));
    vq.used->flags = (uint16_t)~VIRTQ_USED_F_NO_NOTIFY;
    CHECK("other_flag_bits_ignored", virtq_device_wants_notify(&vq));
    free(vq.mem);
}

/* The driver's "no interrupt" flag, in the available ring the device reads: off while fibers
 * run (netswitch.h), on again before the hart sleeps; chains added meanwhile keep it. */
static void driver_declines_interrupts(void) {
    struct virtq vq;
    CHECK("create_interrupts", virtq_create(&vq, QUEUE) == 0);
    CHECK("interrupts_by_default", vq.avail->flags == 0);
    virtq_set_interrupts(&vq, 0);
    int posted = post_rx(&vq, 1) >= 0 && post_rx(&vq, 2) >= 0;
    CHECK("no_interrupt_asked", posted && vq.avail->flags == VIRTQ_AVAIL_F_NO_INTERRUPT && vq.avail->idx == 2);
    virtq_set_interrupts(&vq, 1);
    CHECK("interrupts_asked_again", vq.avail->flags == 0 && vq.avail->idx == 2);
    free(vq.mem);
}

int main(void) {
    check_suite = "virtqueue";
    device_trust();
    device_declines_notifications();
    driver_declines_interrupts();
    device_rewrites_links();
    device_runs_index_ahead();
    struct virtq vq;
    CHECK("create_refuses_bad_sizes", virtq_create(&vq, 0) == -1 && virtq_create(&vq, 3) == -1 &&
                                          virtq_create(&vq, VIRTQ_MAX * 2) == -1);
    return check_exit();
}
