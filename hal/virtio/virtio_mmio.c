#include "virtio_mmio.h"

enum { REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c };

static uint32_t rd(uint64_t base, uint32_t off) { return *(volatile uint32_t *)(base + off); }

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
