#include "virtio_mmio.h"

#include "virtqueue.h"

enum {
    REG_MAGIC = 0x000,
    REG_VERSION = 0x004,
    REG_DEVICE_ID = 0x008,
    REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010,
    REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020,
    REG_DRIVER_FEATURES_SEL = 0x024,
    REG_GUEST_PAGE_SIZE = 0x028, /* legacy */
    REG_QUEUE_SEL = 0x030,
    REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038,
    REG_QUEUE_ALIGN = 0x03c,     /* legacy */
    REG_QUEUE_PFN = 0x040,       /* legacy */
    REG_QUEUE_READY = 0x044,     /* modern */
    REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060,
    REG_INTERRUPT_ACK = 0x064,
    REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080,  /* modern: the three ring addresses */
    REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_AVAIL_LOW = 0x090,
    REG_QUEUE_AVAIL_HIGH = 0x094,
    REG_QUEUE_USED_LOW = 0x0a0,
    REG_QUEUE_USED_HIGH = 0x0a4,
    REG_CONFIG = 0x100,
};

enum {
    STATUS_ACKNOWLEDGE = 1,
    STATUS_DRIVER = 2,
    STATUS_DRIVER_OK = 4,
    STATUS_FEATURES_OK = 8,
    STATUS_FAILED = 128,
};

static uint32_t rd(uint64_t base, uint32_t off) { return *(volatile uint32_t *)(base + off); }
static void wr(uint64_t base, uint32_t off, uint32_t v) { *(volatile uint32_t *)(base + off) = v; }

void virtio_mmio_identify(uint64_t base, struct virtio_mmio_id *out) {
    out->magic = rd(base, REG_MAGIC);
    out->version = rd(base, REG_VERSION);
    out->device_id = out->magic == VIRTIO_MMIO_MAGIC ? rd(base, REG_DEVICE_ID) : 0;
    out->vendor_id = rd(base, REG_VENDOR_ID);
}

/* Device ids from Virtio 1.2, section 5. */
static const char *const device_names[] = {
    [0] = "none", [1] = "net", [2] = "block", [3] = "console", [4] = "entropy",
    [5] = "balloon", [8] = "scsi", [9] = "9p", [16] = "gpu", [18] = "input",
    [19] = "vsock", [20] = "crypto",
};

const char *virtio_device_name(uint32_t id) {
    if (id < sizeof device_names / sizeof device_names[0] && device_names[id])
        return device_names[id];
    return "unknown";
}

static uint64_t device_features(uint64_t base) {
    wr(base, REG_DEVICE_FEATURES_SEL, 0);
    uint64_t lo = rd(base, REG_DEVICE_FEATURES);
    wr(base, REG_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = rd(base, REG_DEVICE_FEATURES);
    return lo | hi << 32;
}

int virtio_dev_init(struct virtio_dev *dev, uint64_t base, uint32_t irq, uint64_t wanted) {
    dev->base = base;
    dev->irq = irq;
    dev->version = rd(base, REG_VERSION);
    wr(base, REG_STATUS, 0); /* reset */
    wr(base, REG_STATUS, STATUS_ACKNOWLEDGE);
    wr(base, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    if (dev->version >= 2)
        wanted |= 1ull << VIRTIO_F_VERSION_1;
    dev->features = device_features(base) & wanted;
    wr(base, REG_DRIVER_FEATURES_SEL, 0);
    wr(base, REG_DRIVER_FEATURES, (uint32_t)dev->features);
    wr(base, REG_DRIVER_FEATURES_SEL, 1);
    wr(base, REG_DRIVER_FEATURES, (uint32_t)(dev->features >> 32));
    if (dev->version >= 2) {
        /* A modern device must accept VERSION_1 and confirm FEATURES_OK. */
        if (!virtio_dev_has(dev, VIRTIO_F_VERSION_1))
            goto failed;
        wr(base, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        if (!(rd(base, REG_STATUS) & STATUS_FEATURES_OK))
            goto failed;
    } else {
        wr(base, REG_GUEST_PAGE_SIZE, 4096);
    }
    return 0;
failed:
    wr(base, REG_STATUS, rd(base, REG_STATUS) | STATUS_FAILED);
    return -1;
}

uint32_t virtio_dev_queue_max(struct virtio_dev *dev, uint32_t index) {
    wr(dev->base, REG_QUEUE_SEL, index);
    return rd(dev->base, REG_QUEUE_NUM_MAX);
}

int virtio_dev_setup_queue(struct virtio_dev *dev, uint32_t index, struct virtq *vq) {
    uint64_t b = dev->base;
    wr(b, REG_QUEUE_SEL, index);
    uint32_t max = rd(b, REG_QUEUE_NUM_MAX);
    if (max == 0 || vq->num > max)
        return -1;
    wr(b, REG_QUEUE_NUM, vq->num);
    if (dev->version >= 2) {
        uint64_t d = (uint64_t)vq->desc, a = (uint64_t)vq->avail, u = (uint64_t)vq->used;
        wr(b, REG_QUEUE_DESC_LOW, (uint32_t)d);
        wr(b, REG_QUEUE_DESC_HIGH, (uint32_t)(d >> 32));
        wr(b, REG_QUEUE_AVAIL_LOW, (uint32_t)a);
        wr(b, REG_QUEUE_AVAIL_HIGH, (uint32_t)(a >> 32));
        wr(b, REG_QUEUE_USED_LOW, (uint32_t)u);
        wr(b, REG_QUEUE_USED_HIGH, (uint32_t)(u >> 32));
        wr(b, REG_QUEUE_READY, 1);
    } else {
        wr(b, REG_QUEUE_ALIGN, 4096);
        wr(b, REG_QUEUE_PFN, (uint32_t)((uint64_t)vq->mem >> 12));
    }
    return 0;
}

void virtio_dev_ready(struct virtio_dev *dev) {
    uint32_t s = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK;
    if (dev->version >= 2)
        s |= STATUS_FEATURES_OK;
    wr(dev->base, REG_STATUS, s);
}

void virtio_dev_notify(struct virtio_dev *dev, uint32_t queue) { wr(dev->base, REG_QUEUE_NOTIFY, queue); }

uint32_t virtio_dev_ack_interrupt(struct virtio_dev *dev) {
    uint32_t st = rd(dev->base, REG_INTERRUPT_STATUS);
    wr(dev->base, REG_INTERRUPT_ACK, st);
    return st;
}

uint8_t virtio_dev_config8(struct virtio_dev *dev, uint32_t offset) {
    return *(volatile uint8_t *)(dev->base + REG_CONFIG + offset);
}

uint16_t virtio_dev_config16(struct virtio_dev *dev, uint32_t offset) {
    return *(volatile uint16_t *)(dev->base + REG_CONFIG + offset);
}

int virtio_dev_has(const struct virtio_dev *dev, unsigned bit) { return (dev->features >> bit) & 1; }
