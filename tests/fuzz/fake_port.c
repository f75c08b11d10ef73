/* The kernel's end of one NetSwitch port in host memory (fake_port.h). */
#define _GNU_SOURCE
#include "fake_port.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_records.h"
#include "ion_ring.h"
#include "nexus.h"

#define RING_CAPACITY 64u
#define RX_BUFS NEXUS_ION_RX_BUFS
#define TX_BUFS NEXUS_ION_TX_BUFS_PER_PORT
#define POOL_BUFS (RX_BUFS + TX_BUFS)
#define POOL_BYTES ((size_t)POOL_BUFS * NEXUS_ION_BUF_SIZE)

static struct {
    uint8_t *kernel_view;  /* the whole pool, writable: how the device and kernel see it */
    uint8_t *service_view; /* RX buffers read-only, TX buffers writable: the service's mapping */
    uint8_t *ring_pages;
    struct ion_ring rx_active, rx_free, tx_active, tx_free;
    uint8_t rx_with_service[RX_BUFS];
    uint8_t tx_with_service[TX_BUFS];
    uint8_t tx_on_device[TX_BUFS]; /* sent while holding: the device has not given it back */
    int holding;
    uint32_t rx_outstanding;
    uint8_t mac[6];
    fake_port_tx_fn on_tx;
    uint32_t link_id; /* fake_port_link's: the one link whose pages a frame may end in */
    const uint8_t *link_base;
    uint32_t link_size;
    uint8_t frame[NEXUS_ETH_FRAME_MAX]; /* a frame in parts, put together for the observer */
} k;

void fake_port_link(uint32_t id, const uint8_t *base, uint32_t size) {
    k.link_id = id;
    k.link_base = base;
    k.link_size = size;
}

static void *map_or_die(void *at, size_t len, int prot, int flags, int fd) {
    void *p = mmap(at, len, prot, flags, fd, 0);
    REQUIRE(p != MAP_FAILED);
    return p;
}

void fake_port_init(const uint8_t mac[6], fake_port_tx_fn on_tx) {
    int fd = memfd_create("nexus-pool", 0);
    REQUIRE(fd >= 0 && ftruncate(fd, (off_t)POOL_BYTES) == 0);
    k.kernel_view = map_or_die(NULL, POOL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    k.service_view = map_or_die(NULL, POOL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    REQUIRE(mprotect(k.service_view, (size_t)RX_BUFS * NEXUS_ION_BUF_SIZE, PROT_READ) == 0);
    close(fd);
    k.ring_pages = map_or_die(NULL, 4 * NEXUS_ION_RING_STRIDE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1);
    struct ion_ring *rings[4] = {&k.rx_active, &k.rx_free, &k.tx_active, &k.tx_free};
    for (int i = 0; i < 4; i++)
        REQUIRE(ion_ring_init(rings[i], k.ring_pages + (size_t)i * NEXUS_ION_RING_STRIDE, RING_CAPACITY) == 0);
    for (uint32_t i = 0; i < TX_BUFS; i++) {
        struct ion_desc d = {RX_BUFS + i, 0, 0};
        REQUIRE(ion_ring_enqueue(&k.tx_free, &d) == ION_RING_OK);
    }
    memcpy(k.mac, mac, sizeof k.mac);
    k.on_tx = on_tx;
}

uint32_t fake_port_frame_max(void) { return NEXUS_ION_BUF_SIZE - FAKE_PORT_RX_OFFSET; }
uint32_t fake_port_rx_outstanding(void) { return k.rx_outstanding; }

int fake_port_deliver(const uint8_t *frame, uint32_t len) {
    REQUIRE(len <= fake_port_frame_max());
    if (ion_ring_free_space(&k.rx_active) == 0)
        return -1;
    for (uint32_t h = 0; h < RX_BUFS; h++) {
        if (k.rx_with_service[h])
            continue;
        memcpy(k.kernel_view + (size_t)h * NEXUS_ION_BUF_SIZE + FAKE_PORT_RX_OFFSET, frame, len);
        struct ion_desc d = {h, FAKE_PORT_RX_OFFSET, (uint16_t)len};
        REQUIRE(ion_ring_enqueue(&k.rx_active, &d) == ION_RING_OK);
        k.rx_with_service[h] = 1;
        k.rx_outstanding++;
        return 0;
    }
    return -1;
}

long nx_ion_info(struct nexus_ion_info *out) {
    memset(out, 0, sizeof *out);
    out->rings_va = (uint64_t)(uintptr_t)k.ring_pages;
    out->pool_va = (uint64_t)(uintptr_t)k.service_view;
    out->ring_capacity = RING_CAPACITY;
    out->buf_size = NEXUS_ION_BUF_SIZE;
    out->tx_first = RX_BUFS;
    out->tx_count = TX_BUFS;
    memcpy(out->mac, k.mac, sizeof out->mac);
    return 0;
}

/* What the NetSwitch does on a kick: takes back returned RX buffers, sends queued TX frames
 * (here: hands them to the observer) and returns their buffers on TX free. */
long nx_ion_kick(void) {
    long taken = 0;
    struct ion_desc d;
    while (ion_ring_dequeue(&k.rx_free, &d) == ION_RING_OK) {
        REQUIRE(d.handle < RX_BUFS && k.rx_with_service[d.handle]); /* returned twice, or never ours */
        k.rx_with_service[d.handle] = 0;
        k.rx_outstanding--;
        taken++;
    }
    /* A TX buffer is the service's to send unless it still waits on the TX-free ring: the kernel
     * cannot see the service take one, only which are left there. */
    for (uint32_t i = 0; i < TX_BUFS; i++)
        k.tx_with_service[i] = !k.tx_on_device[i];
    uint32_t queued = ion_ring_capacity(&k.tx_free) - ion_ring_free_space(&k.tx_free);
    uint32_t first = k.tx_free.shared->tail;
    for (uint32_t i = 0; i < queued; i++)
        k.tx_with_service[k.tx_free.shared->slots[(first + i) & k.tx_free.mask].handle - RX_BUFS] = 0;
    while (ion_ring_dequeue(&k.tx_active, &d) == ION_RING_OK) {
        /* A frame in parts (NEXUS_ION_TX_MORE): its link parts were enqueued with it. */
        struct ion_desc parts[NEXUS_ION_TX_LINK_PARTS];
        uint32_t nparts = 0, len = d.length & ~NEXUS_ION_TX_MORE, total = len;
        for (uint32_t more = d.length & NEXUS_ION_TX_MORE; more; more = parts[nparts - 1].length & NEXUS_ION_TX_MORE) {
            REQUIRE(nparts < NEXUS_ION_TX_LINK_PARTS && ion_ring_dequeue(&k.tx_active, &parts[nparts]) == ION_RING_OK);
            const struct ion_desc *m = &parts[nparts++];
            uint32_t mlen = m->length & ~NEXUS_ION_TX_MORE;
            uint64_t off = (uint64_t)(m->handle & 15) << 16 | m->offset;
            REQUIRE(k.link_base && m->handle >> 4 == (NEXUS_ION_TX_LINK_FLAG >> 4 | k.link_id) && mlen &&
                    off + mlen <= k.link_size);
            total += mlen;
        }
        REQUIRE(d.handle >= RX_BUFS && d.handle < POOL_BUFS && k.tx_with_service[d.handle - RX_BUFS]);
        REQUIRE(len >= NEXUS_ETH_HDR_LEN && total <= NEXUS_ETH_FRAME_MAX &&
                (uint32_t)d.offset + len <= NEXUS_ION_BUF_SIZE);
        k.tx_with_service[d.handle - RX_BUFS] = 0;
        const uint8_t *frame = k.kernel_view + (size_t)d.handle * NEXUS_ION_BUF_SIZE + d.offset;
        if (nparts) {
            memcpy(k.frame, frame, len);
            for (uint32_t i = 0; i < nparts; i++) {
                uint32_t mlen = parts[i].length & ~NEXUS_ION_TX_MORE;
                memcpy(k.frame + len, k.link_base + ((size_t)(parts[i].handle & 15) << 16 | parts[i].offset), mlen);
                len += mlen;
            }
            frame = k.frame;
        }
        if (k.on_tx)
            k.on_tx(frame, len);
        taken++;
        if (k.holding) {
            k.tx_on_device[d.handle - RX_BUFS] = 1;
            continue;
        }
        struct ion_desc back = {d.handle, 0, 0};
        REQUIRE(ion_ring_enqueue(&k.tx_free, &back) == ION_RING_OK);
    }
    return taken;
}

void fake_port_hold_tx(int hold) {
    k.holding = hold;
    if (hold)
        return;
    for (uint32_t i = 0; i < TX_BUFS; i++) {
        if (!k.tx_on_device[i])
            continue;
        k.tx_on_device[i] = 0;
        struct ion_desc back = {RX_BUFS + i, 0, 0};
        REQUIRE(ion_ring_enqueue(&k.tx_free, &back) == ION_RING_OK);
    }
}
