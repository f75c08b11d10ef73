#include "virtio_net.h"

#include "kernel.h"
#include "plic.h"
#include "virtio_mmio.h"
#include "virtqueue.h"

#define NET_F_MAC    5
#define NET_F_STATUS 16
#define NET_S_LINK_UP 1
#define QUEUE_RX 0
#define QUEUE_TX 1
#define RX_QUEUE_SIZE 128
/* Up to five descriptors a frame (TX_DESCS_PER_FRAME): 256 keep 51 frames in flight, and QEMU's
 * user network sends each frame as it is notified, so the queue rarely holds many. */
#define TX_QUEUE_SIZE 256

static struct virtio_dev dev;
static struct virtq rxq, txq;
static struct virtio_net_info info;
static const struct virtio_net_client *client;
static int rx_pending_notify, tx_pending_notify;
static struct virtio_net_notifies notifies;
/* The header every transmitted frame carries: all zero (no offloads). Never written. */
static const uint8_t tx_header[12] __attribute__((aligned(16)));

static void net_interrupt(void) {
    if (virtio_dev_ack_interrupt(&dev) & 2)
        info.link_up = virtio_dev_has(&dev, NET_F_STATUS) ? virtio_dev_config16(&dev, 6) & NET_S_LINK_UP : 1;
    virtio_net_poll();
}

static int setup_queue(struct virtq *vq, uint32_t index, uint16_t n) {
    uint32_t max = virtio_dev_queue_max(&dev, index);
    while (n > max && n > 1)
        n /= 2;
    return virtq_create(vq, n) == 0 && virtio_dev_setup_queue(&dev, index, vq) == 0 ? 0 : -1;
}

int virtio_net_init(uint64_t base, uint32_t irq, const struct virtio_net_client *c) {
    client = c;
    if (virtio_dev_init(&dev, base, irq, (1ull << NET_F_MAC) | (1ull << NET_F_STATUS)) != 0)
        return -1;
    info.version = dev.version;
    /* The header has num_buffers only with VERSION_1 (or MRG_RXBUF, not negotiated). */
    info.hdr_len = virtio_dev_has(&dev, VIRTIO_F_VERSION_1) ? 12 : 10;
    if (setup_queue(&rxq, QUEUE_RX, RX_QUEUE_SIZE) || setup_queue(&txq, QUEUE_TX, TX_QUEUE_SIZE))
        return -1;
    info.rx_slots = rxq.num;
    info.tx_slots = txq.num;
    for (int i = 0; i < 6; i++)
        info.mac[i] = virtio_dev_has(&dev, NET_F_MAC) ? virtio_dev_config8(&dev, (uint32_t)i) : 0;
    info.link_up = virtio_dev_has(&dev, NET_F_STATUS) ? virtio_dev_config16(&dev, 6) & NET_S_LINK_UP : 1;
    if (plic_enable(irq, "net", net_interrupt) != 0)
        return -1;
    virtio_dev_ready(&dev);
    return 0;
}

const struct virtio_net_info *virtio_net_info(void) { return &info; }

uint64_t virtio_net_bad_used(void) { return rxq.bad_used + txq.bad_used; }

int virtio_net_post_rx(uint32_t handle) {
    struct virtq_buf b = {client->buffer_addr(handle), client->buf_size, 1};
    if (virtq_add(&rxq, &b, 1, handle) != 0)
        return -1;
    rx_pending_notify = 1;
    return 0;
}

/* A receive buffer takes one descriptor. */
uint32_t virtio_net_rx_room(void) { return rxq.num_free; }

/* Descriptors a frame takes at most: the virtio header alone (legacy devices without ANY_LAYOUT
 * require that), the Ethernet header, the rest of the buffer in place, the parts in place. */
#define TX_DESCS_PER_FRAME (3u + VIRTIO_NET_TX_PARTS)

int virtio_net_tx_split(uint32_t handle, const uint8_t *eth, uint32_t offset, uint32_t len,
                        const struct virtio_net_part *parts, unsigned nparts) {
    if (nparts > VIRTIO_NET_TX_PARTS)
        return -1;
    struct virtq_buf b[TX_DESCS_PER_FRAME] = {
        {(uint64_t)tx_header, info.hdr_len, 0},
        {(uint64_t)eth, 14, 0},
    };
    unsigned n = 2;
    if (len)
        b[n++] = (struct virtq_buf){client->buffer_addr(handle) + offset, len, 0};
    for (unsigned i = 0; i < nparts; i++)
        if (parts[i].len)
            b[n++] = (struct virtq_buf){parts[i].addr, parts[i].len, 0};
    if (virtq_add(&txq, b, n, handle) != 0)
        return -1;
    tx_pending_notify = 1;
    return 0;
}

uint32_t virtio_net_tx_room(void) { return txq.num_free / TX_DESCS_PER_FRAME; }

int virtio_net_reap_tx(void) {
    uint32_t handle, len;
    int n = 0;
    /* An overlong TX completion is counted by the queue; the buffer is done all the same. */
    for (; virtq_take_used(&txq, &handle, &len) != VIRTQ_USED_NONE; n++)
        client->tx_done(handle);
    return n;
}

/* A notify is a write to the device's register: under QEMU an exit from the guest. A device
 * that is already working through the queue says so in used->flags and looks again before it
 * stops, so the notify is skipped then. */
static void notify_if_wanted(struct virtq *vq, uint32_t queue) {
    if (virtq_device_wants_notify(vq)) {
        virtio_dev_notify(&dev, queue);
        notifies.sent++;
    } else {
        notifies.skipped++;
    }
}

void virtio_net_flush(void) {
    if (rx_pending_notify)
        notify_if_wanted(&rxq, QUEUE_RX);
    if (tx_pending_notify)
        notify_if_wanted(&txq, QUEUE_TX);
    rx_pending_notify = tx_pending_notify = 0;
}

struct virtio_net_notifies virtio_net_notifies(void) { return notifies; }

int virtio_net_pending(void) { return virtq_has_used(&rxq) || virtq_has_used(&txq); }

void virtio_net_interrupts(int on) {
    static int interrupts_on = 1; /* the device's default */
    if (on == interrupts_on)
        return;
    interrupts_on = on;
    virtq_set_interrupts(&rxq, on);
    virtq_set_interrupts(&txq, on);
}

void virtio_net_poll(void) {
    uint32_t handle, len;
    if (virtio_net_reap_tx() && client->tx_space)
        client->tx_space();
    for (enum virtq_used_result r; (r = virtq_take_used(&rxq, &handle, &len)) != VIRTQ_USED_NONE;) {
        /* A device bug (shorter than the header, or longer than the buffer): hand up an empty
         * frame, so the switch drops it and the buffer goes home. */
        if (r == VIRTQ_USED_OVERLONG || len < info.hdr_len)
            len = info.hdr_len;
        client->rx(handle, info.hdr_len, len - info.hdr_len);
    }
    virtio_net_flush();
}
