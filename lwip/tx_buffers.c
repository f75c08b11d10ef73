/* The Membrane's TX buffers: free, on the device, lent to lwIP (tx_buffers.h). */
#include "tx_buffers.h"

#include <errno.h>
#include <string.h>

#define TX_MAX NEXUS_ION_TX_BUFS_PER_PORT

enum tx_state { TX_AWAY, TX_FREE, TX_DEVICE, TX_LENT, TX_LENT_DEVICE };

struct tx_loan {
    struct pbuf_custom custom; /* first: lwIP hands the free function this pbuf */
    uint16_t start;            /* where the payload begins in the buffer */
};

static struct {
    struct port *port;
    uint8_t state[TX_MAX];
    uint8_t free[TX_MAX];
    uint32_t nfree;
    struct tx_loan loan[TX_MAX];
    uint16_t tag[TX_MAX][NEXUS_ION_TX_LINK_PARTS]; /* tx_send_parts's, while the device holds the buffer */
    void (*on_return)(uint16_t tag);
    struct tx_buffer_stats stats;
} tb;

void tx_buffers_init(struct port *port) {
    memset(&tb, 0, sizeof tb);
    tb.port = port;
}

static uint32_t first(void) { return tb.port->info.tx_first; }
static uint8_t *memory(uint32_t i) { return port_buffer(tb.port, first() + i); }

static void make_free(uint32_t i) {
    tb.state[i] = TX_FREE;
    tb.free[tb.nfree++] = (uint8_t)i;
}

/* The device (or the kernel, at bind) gave buffer i back. A lent one stays lwIP's. */
static void came_back(uint32_t i) {
    switch (tb.state[i]) {
    case TX_AWAY:
    case TX_DEVICE:
        make_free(i);
        for (unsigned k = 0; k < NEXUS_ION_TX_LINK_PARTS; k++) {
            if (tb.tag[i][k] && tb.on_return)
                tb.on_return(tb.tag[i][k]);
            tb.tag[i][k] = 0;
        }
        break;
    case TX_LENT_DEVICE:
        tb.state[i] = TX_LENT;
        break;
    default:
        break; /* returned twice: the kernel's bug, never ours to free twice */
    }
}

/* Takes what came back on TX free without asking the kernel. */
void tx_buffers_reclaim(void) {
    uint32_t h;
    while (port_tx_poll(tb.port, &h) == 0)
        if (h - first() < TX_MAX)
            came_back(h - first());
}

int tx_buffer_take(uint32_t *handle) {
    if (tb.nfree == 0)
        tx_buffers_reclaim();
    uint32_t h;
    if (tb.nfree == 0 && port_tx_take(tb.port, &h) == 0 && h - first() < TX_MAX) {
        came_back(h - first()); /* port_tx_take asked the kernel for finished transmissions */
        tx_buffers_reclaim();
    }
    if (tb.nfree == 0)
        return -ENOBUFS;
    uint32_t i = tb.free[--tb.nfree];
    tb.state[i] = TX_DEVICE; /* the caller sends it */
    *handle = first() + i;
    return 0;
}

/* lwIP freed the pbuf over a lent buffer: the loan ends (the device may still hold it). */
static void loan_free(struct pbuf *p) {
    uint32_t i = (uint32_t)((struct tx_loan *)p - tb.loan);
    if (tb.state[i] == TX_LENT)
        make_free(i);
    else if (tb.state[i] == TX_LENT_DEVICE)
        tb.state[i] = TX_DEVICE;
}

/* The lent buffer whose payload pbuf q is, or TX_MAX. */
static uint32_t loan_of(const struct pbuf *q) {
    const struct tx_loan *l = (const struct tx_loan *)q;
    if (!(q->flags & PBUF_FLAG_IS_CUSTOM) || l < tb.loan || l >= tb.loan + TX_MAX)
        return TX_MAX;
    return (uint32_t)(l - tb.loan);
}

int tx_send_in_place(struct pbuf *p, uint64_t *copied) {
    struct pbuf *q = p->next;
    if (!q || q->next)
        return 0;
    uint32_t i = loan_of(q);
    if (i == TX_MAX)
        return 0;
    if (tb.state[i] == TX_LENT_DEVICE)
        tx_buffers_reclaim(); /* the device may be done with the last transmission of this segment */
    uint16_t start = tb.loan[i].start;
    if (tb.state[i] != TX_LENT || q->payload != memory(i) + start || p->len > start)
        return 0; /* on the device still, or lwIP split the segment: copy it whole */
    memcpy(memory(i) + start - p->len, p->payload, p->len);
    *copied += p->len;
    tb.state[i] = TX_LENT_DEVICE;
    port_send_at(tb.port, first() + i, (uint16_t)(start - p->len), p->tot_len);
    tb.stats.frames_in_place++;
    return 1;
}

uint8_t *tx_buffer_lend(const void *src, uint32_t len, uint32_t *handle) {
    uint16_t start = (uint16_t)(TX_HEADROOM + ((uintptr_t)src & 7));
    if (start + len > tb.port->info.buf_size)
        return NULL;
    if (tb.nfree <= TX_KEEP_FOR_FRAMES)
        tx_buffers_reclaim();
    if (tb.nfree <= TX_KEEP_FOR_FRAMES) {
        tb.stats.lend_refused++;
        return NULL;
    }
    uint32_t i = tb.free[--tb.nfree];
    tb.state[i] = TX_LENT;
    tb.loan[i].start = start;
    *handle = first() + i;
    return memory(i) + start;
}

struct pbuf *tx_buffer_pbuf(uint32_t handle, uint16_t len) {
    uint32_t i = handle - first();
    struct tx_loan *l = &tb.loan[i];
    l->custom.custom_free_function = loan_free;
    tb.stats.lent_bytes += len;
    return pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, &l->custom, memory(i) + l->start,
                               (u16_t)(tb.port->info.buf_size - l->start));
}

void tx_buffer_unlend(uint32_t handle) {
    uint32_t i = handle - first();
    if (tb.state[i] == TX_LENT)
        make_free(i);
}

void tx_buffer_lost(uint32_t handle) {
    (void)handle;
    tb.stats.lent_lost++;
}

int tx_send_parts(const struct pbuf *p, const struct ion_desc *parts, const uint16_t *tags, unsigned nparts,
                  uint64_t *copied) {
    uint32_t h;
    if (p->len > TX_HEADROOM || nparts == 0 || nparts > NEXUS_ION_TX_LINK_PARTS || tx_buffer_take(&h) != 0)
        return -ENOBUFS;
    /* The headers land at their own offset modulo 8, as in ion_linkoutput: lwIP builds them
     * in front of a word-aligned payload, so they rarely start on a word, and picolibc's memcpy
     * moves whole words only between equally aligned addresses, else byte by byte (make
     * bench's profile: much of the Membrane's memcpy per frame). */
    uint16_t offset = (uint16_t)((uintptr_t)p->payload & 7);
    memcpy(port_buffer(tb.port, h) + offset, p->payload, p->len);
    *copied += p->len;
    for (unsigned k = 0; k < nparts; k++)
        tb.tag[h - first()][k] = tags[k];
    port_send_parts(tb.port, h, offset, p->len, parts, nparts);
    return 0;
}

void tx_buffers_on_return(void (*hook)(uint16_t tag)) { tb.on_return = hook; }

const struct tx_buffer_stats *tx_buffer_stats(void) { return &tb.stats; }

uint32_t tx_buffers_lent(void) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < TX_MAX; i++)
        n += tb.state[i] == TX_LENT || tb.state[i] == TX_LENT_DEVICE;
    return n;
}
