/*
 * Host tests for hal/virtio/virtio_rng.c over the real virtqueue code, the test playing the
 * device (through the virtio-mmio calls it stubs) and the clock (tests/host/stub/riscv.h): a
 * device that fills the whole buffer, one that answers short or with nothing, one that never
 * answers (the read must end at its deadline and leave the buffer posted, so no second request
 * is made while the device still owns it), one that answers late, one that claims more bytes
 * than the buffer holds, and no device at all; and each answer asked for before it is needed.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "virtio_mmio.h"
#include "virtio_rng.h"
#include "virtq_device.h"

/* ---- the simulated clock: each look at it advances it by 1 ms (10 MHz ticks) ---- */

#define TICKS_PER_MS 10000u

static uint64_t now_ticks;
static unsigned clock_reads;

uint64_t rdtime(void) {
    clock_reads++;
    return now_ticks += TICKS_PER_MS;
}

uint64_t timer_ticks_from_ns(uint64_t ns) { return ns / 100; }

/* ---- the device ---- */

enum behaviour { FILL, SHORT, EMPTY, SILENT, OVERLONG };

static struct virtq *queue;
static enum behaviour device_does = FILL;
static unsigned notifications;
#define SHORT_BYTES 10
#define PATTERN     0xa5

/* Writes `n` pattern bytes into the chain the driver posted last and completes it with len. */
static void device_answer(uint32_t n, uint32_t len) {
    uint16_t head = device_last_posted(queue);
    memset((void *)(uintptr_t)queue->desc[head].addr, PATTERN, n);
    device_complete(queue, head, len);
}

int virtio_dev_init(struct virtio_dev *dev, uint64_t base, uint32_t irq, uint64_t wanted) {
    (void)dev, (void)base, (void)irq, (void)wanted;
    return 0;
}

int virtio_dev_setup_queue(struct virtio_dev *dev, uint32_t index, struct virtq *vq) {
    (void)dev, (void)index;
    queue = vq;
    return 0;
}

void virtio_dev_ready(struct virtio_dev *dev) { (void)dev; }

void virtio_dev_notify(struct virtio_dev *dev, uint32_t q) {
    (void)dev, (void)q;
    notifications++;
    uint32_t posted = queue->desc[device_last_posted(queue)].len;
    switch (device_does) {
    case FILL:
        device_answer(posted, posted);
        break;
    case SHORT:
        device_answer(SHORT_BYTES, SHORT_BYTES);
        break;
    case EMPTY:
        device_answer(0, 0);
        break;
    case SILENT:
        break;
    case OVERLONG:
        device_answer(0, posted + 1);
        break;
    }
}

/* ---- the tests ---- */

static void test_no_device(void) {
    uint8_t buf[16];
    CHECK("no_device_enodev", virtio_rng_read(buf, sizeof buf) == -ENODEV);
    CHECK("no_device_not_present", !virtio_rng_present());
}

/* A read takes the answer to the request posted before it (by init or by the read before),
 * then posts the next: what the device does to a request is set before the read that posts it. */
static void test_answers(void) {
    uint8_t buf[VIRTIO_RNG_READ_MAX + 8];
    memset(buf, 0, sizeof buf);
    unsigned before = notifications;
    CHECK("full_answer", virtio_rng_read(buf, 32) == 32 && buf[0] == PATTERN && buf[31] == PATTERN && buf[32] == 0);
    CHECK("next_request_posted_ahead", notifications == before + 1 && queue->desc[device_last_posted(queue)].len == VIRTIO_RNG_READ_MAX);
    memset(buf, 0, sizeof buf);
    device_does = SHORT;
    CHECK("long_request_capped", virtio_rng_read(buf, sizeof buf) == VIRTIO_RNG_READ_MAX &&
                                     buf[VIRTIO_RNG_READ_MAX - 1] == PATTERN && buf[VIRTIO_RNG_READ_MAX] == 0);
    device_does = EMPTY;
    memset(buf, 0, sizeof buf);
    CHECK("short_answer_counted", virtio_rng_read(buf, 32) == SHORT_BYTES && buf[SHORT_BYTES - 1] == PATTERN &&
                                      buf[SHORT_BYTES] == 0);
    device_does = OVERLONG;
    CHECK("empty_answer_is_zero", virtio_rng_read(buf, 32) == 0);
    device_does = FILL;
    CHECK("overlong_answer_eio", virtio_rng_read(buf, 32) == -EIO);
    CHECK("works_after_overlong", virtio_rng_read(buf, 32) == 32);
}

static void test_silent_device(void) {
    uint8_t buf[32];
    device_does = SILENT;
    CHECK("answer_posted_ahead_taken", virtio_rng_read(buf, sizeof buf) == sizeof buf); /* posts one never answered */
    unsigned before = notifications;
    clock_reads = 0;
    CHECK("silent_device_times_out", virtio_rng_read(buf, sizeof buf) == -EAGAIN);
    /* 100 ms at 1 ms a look: the deadline, not a spin count, ended it. */
    CHECK("silent_device_bounded", clock_reads > 90 && clock_reads < 110);
    uint16_t posted = queue->avail->idx;
    CHECK("still_silent_again_eagain", virtio_rng_read(buf, sizeof buf) == -EAGAIN);
    CHECK("no_second_request_while_posted", queue->avail->idx == posted && notifications == before);
    /* The device answers at last: the next read collects that answer and posts the next. */
    device_answer(sizeof buf, sizeof buf);
    memset(buf, 0, sizeof buf);
    device_does = FILL;
    CHECK("late_answer_collected", virtio_rng_read(buf, 8) == 8 && buf[7] == PATTERN);
    CHECK("new_request_after_late_answer", virtio_rng_read(buf, sizeof buf) == sizeof buf &&
                                               notifications == before + 2);
    CHECK("bad_used_counts_only_the_overlong_answer", queue->bad_used == 1);
}

int main(void) {
    check_suite = "virtio_rng";
    test_no_device();
    CHECK("init", virtio_rng_init(0x10008000, 8) == 0 && virtio_rng_present() && notifications == 1); /* posts ahead */
    test_answers();
    test_silent_device();
    return check_exit();
}
