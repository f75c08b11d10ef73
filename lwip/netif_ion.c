/* lwIP netif over the NetSwitch's ION rings (netif_ion.h). */
#include "netif_ion.h"

#include <errno.h>
#include <string.h>

#include "ion_ring.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"
#include "nexus.h"

#define RX_BATCH 32
#define MAX_HANDLES 512 /* pool handles the kernel may hand out (448 today) */
#define ETH_MIN 14
#define ETH_MAX 1514

/* One custom pbuf per pool buffer: a buffer is in lwIP at most once at a time. */
struct rx_pbuf {
    struct pbuf_custom custom;
    uint32_t handle;
    uint8_t in_use;
};

static struct nexus_ion_info port;
static struct ion_ring rx_active, rx_free, tx_active, tx_free;
static struct rx_pbuf rx_pbufs[MAX_HANDLES];
static int kick_pending;
static struct ion_netif_stats stats;

static uint8_t *buffer_at(uint32_t handle) { return (uint8_t *)(port.pool_va + (uint64_t)handle * port.buf_size); }

static void attach_ring(struct ion_ring *r, int index) {
    ion_ring_attach(r, (void *)(port.rings_va + (uint64_t)index * 4096), port.ring_capacity);
}

/* Enqueues on a ring the kernel drains, kicking it when full. */
static void enqueue_for_kernel(struct ion_ring *r, const struct ion_desc *d) {
    while (ion_ring_enqueue(r, d) == ION_RING_FULL)
        nx_ion_kick();
    kick_pending = 1;
}

static void rx_pbuf_free(struct pbuf *p) {
    struct rx_pbuf *rp = (struct rx_pbuf *)p;
    struct ion_desc back = {rp->handle, 0, 0};
    rp->in_use = 0;
    enqueue_for_kernel(&rx_free, &back);
}

/* An RX handle the kernel may give us and that we do not already hold. */
static int rx_handle_free(uint32_t h) { return h < port.tx_first && h < MAX_HANDLES && !rx_pbufs[h].in_use; }

static int rx_frame_fits(const struct ion_desc *d) {
    return d->length >= ETH_MIN && (uint32_t)d->offset + d->length <= port.buf_size;
}

unsigned ion_netif_poll(struct netif *netif) {
    struct ion_desc d[RX_BATCH];
    uint32_t n = ion_ring_dequeue_batch(&rx_active, d, RX_BATCH);
    for (uint32_t i = 0; i < n; i++) {
        if (!rx_handle_free(d[i].handle) || !rx_frame_fits(&d[i])) {
            /* Not usable; give it back only if it is a real RX handle we do not hold. */
            stats.rx_bad_handle++;
            if (rx_handle_free(d[i].handle)) {
                struct ion_desc back = {d[i].handle, 0, 0};
                enqueue_for_kernel(&rx_free, &back);
            }
            continue;
        }
        struct rx_pbuf *rp = &rx_pbufs[d[i].handle];
        rp->handle = d[i].handle;
        rp->in_use = 1;
        rp->custom.custom_free_function = rx_pbuf_free;
        struct pbuf *p = pbuf_alloced_custom(PBUF_RAW, d[i].length, PBUF_REF, &rp->custom,
                                             buffer_at(d[i].handle) + d[i].offset,
                                             (u16_t)(port.buf_size - d[i].offset));
        stats.rx_frames++;
        if (netif->input(p, netif) != ERR_OK)
            pbuf_free(p);
    }
    return n;
}

static err_t ion_linkoutput(struct netif *netif, struct pbuf *p) {
    (void)netif;
    if (p->tot_len < ETH_MIN || p->tot_len > ETH_MAX) {
        stats.tx_oversize++;
        return ERR_IF;
    }
    struct ion_desc d;
    if (ion_ring_dequeue(&tx_free, &d) != ION_RING_OK) {
        nx_ion_kick(); /* reclaims completed transmissions onto TX-free */
        kick_pending = 0;
        if (ion_ring_dequeue(&tx_free, &d) != ION_RING_OK) {
            stats.tx_no_buffer++;
            return ERR_MEM; /* TCP retransmits; UDP reports it */
        }
    }
    if (d.handle < port.tx_first || d.handle >= port.tx_first + port.tx_count) {
        stats.tx_no_buffer++;
        return ERR_MEM;
    }
    pbuf_copy_partial(p, buffer_at(d.handle), p->tot_len, 0);
    struct ion_desc out = {d.handle, 0, p->tot_len};
    enqueue_for_kernel(&tx_active, &out);
    stats.tx_frames++;
    return ERR_OK;
}

static err_t ion_netif_init(struct netif *netif) {
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, port.mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = ion_linkoutput;
    return ERR_OK;
}

int ion_netif_add(struct netif *netif) {
    if (nx_ion_info(&port) != 0)
        return -ENODEV;
    attach_ring(&rx_active, NEXUS_ION_RING_RX_ACTIVE);
    attach_ring(&rx_free, NEXUS_ION_RING_RX_FREE);
    attach_ring(&tx_active, NEXUS_ION_RING_TX_ACTIVE);
    attach_ring(&tx_free, NEXUS_ION_RING_TX_FREE);
    if (!netif_add(netif, NULL, NULL, NULL, NULL, ion_netif_init, ethernet_input))
        return -EINVAL;
    return 0;
}

void ion_netif_flush(void) {
    if (kick_pending) {
        kick_pending = 0;
        nx_ion_kick();
    }
}

int ion_netif_sleep_prepare(void) { return ion_ring_consumer_sleep_prepare(&rx_active); }
uint32_t ion_netif_channel(void) { return port.channel; }
const struct ion_netif_stats *ion_netif_stats(void) { return &stats; }
