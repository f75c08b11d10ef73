/* lwIP netif over the NetSwitch's ION rings (netif_ion.h). */
#include "netif_ion.h"

#include <errno.h>
#include <string.h>

#include "chksum.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "netif/ethernet.h"
#include "port/port.h"
#include "rx_ack_coalesce.h"
#include "rx_frame_policy.h"
#include "send_area.h"
#include "tcp_syn_guard.h"
#include "tx_buffers.h"

#define RX_BATCH 32 /* frames per pass: the Membrane yields between passes (membrane.c) */
#define MAX_HANDLES NEXUS_ION_POOL_BUFS /* pool handles the kernel may hand out */

/* One custom pbuf per pool buffer: a buffer is in lwIP at most once at a time. */
struct rx_pbuf {
    struct pbuf_custom custom;
    uint32_t handle;
    uint8_t in_use;
};

static struct port port;
static struct rx_pbuf rx_pbufs[MAX_HANDLES];
static struct ion_netif_stats stats;

static void rx_pbuf_free(struct pbuf *p) {
    struct rx_pbuf *rp = (struct rx_pbuf *)p;
    rp->in_use = 0;
    port_return(&port, rp->handle);
}

/* A pbuf over the part of pool buffer `handle` from `skip` on; the buffer goes back when lwIP
 * frees it. */
static struct pbuf *pool_pbuf(const struct ion_desc *d, uint32_t skip) {
    struct rx_pbuf *rp = &rx_pbufs[d->handle];
    rp->handle = d->handle;
    rp->in_use = 1;
    rp->custom.custom_free_function = rx_pbuf_free;
    return pbuf_alloced_custom(PBUF_RAW, (u16_t)(d->length - skip), PBUF_REF, &rp->custom,
                               port_buffer(&port, d->handle) + d->offset + skip,
                               (u16_t)(port.info.buf_size - d->offset - skip));
}

/* A PBUF_RAM copy of the frame's first `len` bytes, counted in `bytes`; NULL if lwIP's heap is
 * full (the frame is dropped and counted). */
static struct pbuf *own_copy(const uint8_t *frame, uint32_t len, uint64_t *bytes) {
    /* The copy starts at the frame's own offset modulo 8 (lwIP's heap hands out word-aligned
     * payloads, and a frame lies behind the device's header, not on a word): picolibc's memcpy
     * moves whole words only between equally aligned addresses, else byte by byte. */
    uint16_t skew = (uint16_t)((uintptr_t)frame & (MEM_ALIGNMENT - 1));
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(len + skew), PBUF_RAM);
    if (!p) {
        stats.rx_no_memory++;
        return NULL;
    }
    pbuf_remove_header(p, skew);
    memcpy(p->payload, frame, len);
    *bytes += len;
    return p;
}

/* The frame as lwIP gets it: the pool is read-only here, so what lwIP would write into is
 * copied into the Membrane's own memory first (rx_frame_policy.h); the rest stays zero copy. */
static struct pbuf *frame_pbuf(const struct ion_desc *d) {
    const uint8_t *frame = port_buffer(&port, d->handle) + d->offset;
    struct rx_decision how = rx_frame_decide(frame, d->length);
    struct pbuf *p = NULL;
    switch (how.how) {
    case RX_ZERO_COPY:
        return pool_pbuf(d, 0);
    case RX_COPY_FRAME:
        p = own_copy(frame, d->length, &stats.rx_copied_bytes);
        stats.rx_copied_frames += p != NULL;
        break;
    case RX_COPY_HEADERS:
        p = own_copy(frame, how.header_len, &stats.rx_header_bytes);
        if (p && how.header_len < d->length) {
            pbuf_cat(p, pool_pbuf(d, how.header_len));
            return p;
        }
        break;
    }
    port_return(&port, d->handle); /* nothing of it is left in lwIP */
    return p;
}

static int usable_handle(const struct ion_desc *d) {
    return d->handle < MAX_HANDLES && !rx_pbufs[d->handle].in_use;
}

/* Whether the connection of this flow, seen from its peer, grows its congestion window by the
 * bytes acknowledged rather than by the ACKs: lwIP's congestion avoidance (RFC 3465, 2.1) does;
 * in slow start each ACK adds at most 2 MSS whatever it covers (2.2), so an ACK not seen is
 * growth lost (1 MiB GETs: 36.6 -> 29.6 MB/s when slow start was coalesced too). */
static int counts_bytes_acked(const struct pure_ack *a) {
    uint32_t src, dst;
    memcpy(&src, a->flow, 4);
    memcpy(&dst, a->flow + 4, 4);
    u16_t src_port = (u16_t)(a->flow[8] << 8 | a->flow[9]), dst_port = (u16_t)(a->flow[10] << 8 | a->flow[11]);
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
        if (pcb->remote_port == src_port && pcb->local_port == dst_port && IP_IS_V4_VAL(pcb->remote_ip) &&
            ip_2_ip4(&pcb->remote_ip)->addr == src && ip_2_ip4(&pcb->local_ip)->addr == dst)
            return pcb->state == ESTABLISHED && pcb->cwnd >= pcb->ssthresh;
    return 0;
}

/* Marks the batch's pure ACKs that a later one of the same connection makes redundant, where
 * lwIP's congestion control would not miss them (rx_ack_coalesce.h). */
static void find_coalesced(const struct ion_desc *d, uint32_t n, uint8_t *coalesced) {
    struct pure_ack acks[RX_BATCH];
    uint8_t is_ack[RX_BATCH];
    memset(coalesced, 0, n);
    if (n < 2)
        return;
    for (uint32_t i = 0; i < n; i++)
        is_ack[i] = usable_handle(&d[i]) &&
                    pure_ack_parse(port_buffer(&port, d[i].handle) + d[i].offset, d[i].length, &acks[i]);
    if (!pure_ack_superseded(acks, is_ack, n, coalesced))
        return;
    const struct pure_ack *last_flow = NULL;
    int counts = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!coalesced[i])
            continue;
        if (!last_flow || memcmp(last_flow->flow, acks[i].flow, sizeof acks[i].flow) != 0)
            counts = counts_bytes_acked(&acks[i]);
        last_flow = &acks[i];
        coalesced[i] = (uint8_t)counts;
    }
}

unsigned ion_netif_poll(struct netif *netif) {
    struct ion_desc d[RX_BATCH];
    uint8_t coalesced[RX_BATCH];
    tx_buffers_reclaim(); /* each pass: a chunk of a send area is the app's again once its frames are sent */
    uint32_t n = port_receive(&port, d, RX_BATCH);
    find_coalesced(d, n, coalesced);
    for (uint32_t i = 0; i < n; i++) {
        if (!usable_handle(&d[i])) {
            stats.rx_bad_handle++; /* handed to us twice: lwIP still holds it, keep it there */
            continue;
        }
        stats.rx_frames++;
        if (coalesced[i]) {
            stats.rx_acks_coalesced++;
            port_return(&port, d[i].handle);
            continue;
        }
        struct pbuf *p = frame_pbuf(&d[i]);
        if (p && netif->input(p, netif) != ERR_OK)
            pbuf_free(p);
        tcp_syn_guard_replay(netif);
    }
    return n;
}

static err_t ion_linkoutput(struct netif *netif, struct pbuf *p) {
    (void)netif;
    if (p->tot_len < NEXUS_ETH_HDR_LEN || p->tot_len > NEXUS_ETH_FRAME_MAX) {
        stats.tx_oversize++;
        return ERR_IF;
    }
    if (send_area_output(p, &stats.tx_header_bytes) || tx_send_in_place(p, &stats.tx_header_bytes)) {
        stats.tx_frames++;
        return ERR_OK;
    }
    uint32_t handle;
    if (tx_buffer_take(&handle) != 0) {
        stats.tx_no_buffer++;
        return ERR_MEM; /* TCP retransmits; UDP reports it */
    }
    /* The frame lands at the same offset modulo 8 as it starts in lwIP's first pbuf: picolibc's
     * memcpy moves whole words only between equally aligned addresses, else byte by byte. */
    uint16_t offset = (uint16_t)((uintptr_t)p->payload & 7);
    pbuf_copy_partial(p, port_buffer(&port, handle) + offset, p->tot_len, 0);
    stats.tx_frame_copied_bytes += p->tot_len;
    port_send_at(&port, handle, offset, p->tot_len);
    stats.tx_frames++;
    return ERR_OK;
}

/* lwIP's checksum routine (lwipopts.h's LWIP_CHKSUM), counted: every byte summed in software
 * is a byte a checksum-offloading device would have spared. */
u16_t membrane_counted_chksum(const void *data, int len) {
    stats.checksummed_bytes += (uint64_t)len;
    return membrane_chksum(data, len);
}

static err_t ion_netif_init(struct netif *netif) {
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, port.info.mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = ion_linkoutput;
    return ERR_OK;
}

int ion_netif_add(struct netif *netif) {
    if (port_attach(&port) != 0)
        return -ENODEV;
    tx_buffers_init(&port);
    if (!netif_add(netif, NULL, NULL, NULL, NULL, ion_netif_init, ethernet_input))
        return -EINVAL;
    return 0;
}

static uint64_t tx_frames_flushed; /* stats.tx_frames at the last flush */

void ion_netif_flush(void) {
    port_flush(&port);
    tx_frames_flushed = stats.tx_frames;
}

void ion_netif_hand_over(void) {
    port_hand_over(&port);
    tx_frames_flushed = stats.tx_frames;
}

unsigned ion_netif_unflushed(void) { return (unsigned)(stats.tx_frames - tx_frames_flushed); }
int ion_netif_sleep_prepare(void) { return port_sleep_prepare(&port); }
uint32_t ion_netif_channel(void) { return (uint32_t)port_channel(&port); }

const struct ion_netif_stats *ion_netif_stats(void) {
    stats.rx_refused = port.rx_refused;
    return &stats;
}
