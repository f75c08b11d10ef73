/* TCP writes with the payload in lent TX buffers (tcp_send.h). */
#include "tcp_send.h"

#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "tx_buffers.h"

/* The segment size tcp_write cuts at (its mss_local). */
static u16_t segment_size(const struct tcp_pcb *pcb) {
    u16_t m = LWIP_MIN(pcb->mss, TCPWND_MIN16(pcb->snd_wnd_max / 2));
    return m ? m : pcb->mss;
}

u16_t tcp_send_segment_size(const struct tcp_pcb *pcb) { return segment_size(pcb); }

uint32_t tcp_heap_copy_room(const struct tcp_pcb *pcb) {
    uint32_t used = lwip_stats.mem.used, limit = MEM_SIZE - TCP_HEAP_KEPT;
    uint32_t heap = used >= limit ? 0 : limit - used;
    /* Copying b bytes takes more than b: each segment's pbuf has room for the headers and
     * lwIP's own (about 100 bytes to 1,460), and the last may be given a whole MSS
     * (TCP_OVERSIZE). */
    uint32_t overhead = TCP_MSS + heap / 12;
    heap = heap > overhead ? heap - overhead : 0;
    if (heap >= TCP_HEAP_PRESSURE)
        return heap;
    uint32_t queued = tcp_send_queued(pcb);
    uint32_t own = queued >= TCP_COPY_QUEUE_MAX ? 0 : TCP_COPY_QUEUE_MAX - queued;
    return heap < own ? heap : own;
}

/* The segment tcp_write appends to (lwIP keeps no pointer to it), or NULL if none is unsent. */
static struct tcp_seg *last_unsent(const struct tcp_pcb *pcb) {
    struct tcp_seg *last = pcb->unsent;
    while (last && last->next)
        last = last->next;
    return last;
}

/* The bytes tcp_write would append to the last unsent segment before starting a new one. */
static u16_t unsent_room(const struct tcp_pcb *pcb, u16_t seg) {
    const struct tcp_seg *last = last_unsent(pcb);
    if (!last)
        return 0;
    if (last->len == 0)
        return 0; /* a SYN or FIN alone: lwIP appends nothing to it */
    u16_t used = (u16_t)(last->len + LWIP_TCP_OPT_LENGTH(last->flags));
    return seg > used ? (u16_t)(seg - used) : 0;
}

/* The pbuf before the lone ROM reference tcp_write just made to the `len` bytes at `data`, at the
 * end of the last unsent segment (a new segment's payload, or a piece chained to top one up);
 * NULL if it made another shape. */
static struct pbuf *before_written_ref(struct tcp_pcb *pcb, const void *data, u16_t len) {
    struct pbuf *prev = last_unsent(pcb)->p;
    while (prev->next && prev->next->next)
        prev = prev->next;
    const struct pbuf *ref = prev->next;
    return ref && ref->payload == data && ref->len == len ? prev : NULL;
}

/* lwIP's reference after `prev` swapped for `own`, over the same bytes. */
static void swap_reference(struct pbuf *prev, struct pbuf *own) {
    struct pbuf *ref = prev->next;
    prev->next = own;
    pbuf_free(ref);
}

/* One new segment's bytes, copied into a lent buffer; lwIP's reference to them (a ROM pbuf)
 * is swapped for the buffer's own pbuf, whose freeing ends the loan. 0 if queued. */
static int write_lent(struct tcp_pcb *pcb, const uint8_t *data, u16_t len, u8_t flags) {
    uint32_t h;
    uint8_t *mem = tx_buffer_lend(data, len, &h);
    if (!mem)
        return -1;
    memcpy(mem, data, len);
    if (tcp_write(pcb, mem, len, flags) != ERR_OK) {
        tx_buffer_unlend(h);
        return -1;
    }
    struct pbuf *prev = before_written_ref(pcb, mem, len);
    struct pbuf *own = prev ? tx_buffer_pbuf(h, len) : NULL;
    if (!own) {
        tx_buffer_lost(h); /* not the segment tcp_write makes for such a write */
        return 0;
    }
    swap_reference(prev, own);
    return 0;
}

static uint64_t refs_lost;

uint64_t tcp_send_refs_lost(void) { return refs_lost; }

/* Queues bytes referenced by `own`, as a new segment or the top-up of the last unsent one
 * (lwIP's ROM reference to them is swapped for it, as in write_lent). 0 if queued; on failure
 * `own` is freed. */
static int write_referenced(struct tcp_pcb *pcb, const uint8_t *data, u16_t len, u8_t flags, struct pbuf *own) {
    if (tcp_write(pcb, data, len, flags) != ERR_OK) {
        pbuf_free(own);
        return -1;
    }
    struct pbuf *prev = before_written_ref(pcb, data, len);
    if (!prev) {
        refs_lost++;
        return 0; /* not the shape tcp_write makes for such a write: `own` is kept forever, so
                     the bytes lwIP refers to stay the Membrane's */
    }
    swap_reference(prev, own);
    return 0;
}

/* How many of the `rest` bytes go next: what tops lwIP's last unsent segment up (*top_up set:
 * chained to it by reference where top_up_by_reference allows, else copied into it), else one
 * new segment's worth; *more when bytes remain after. */
static u16_t next_piece(struct tcp_pcb *pcb, uint32_t rest, int *top_up, u8_t *more) {
    u16_t seg = segment_size(pcb), room = unsent_room(pcb, seg);
    uint32_t piece = room ? room : seg;
    u16_t k = (u16_t)(rest < piece ? rest : piece);
    *top_up = room != 0;
    *more = rest > k ? TCP_WRITE_FLAG_MORE : 0;
    return k;
}

/* Whether bytes topping up the last unsent segment can be referenced where they lie: lwIP chains
 * them after the segment's payload without copying unless it has room left over in a copied
 * pbuf (TCP_OVERSIZE), and the frame may carry at most NEXUS_ION_TX_LINK_PARTS pieces. */
static int top_up_by_reference(const struct tcp_pcb *pcb) {
    const struct tcp_seg *last = last_unsent(pcb);
    return pcb->unsent_oversize == 0 && last->p->next && pbuf_clen(last->p->next) < NEXUS_ION_TX_LINK_PARTS;
}

uint32_t tcp_send_referenced(struct tcp_pcb *pcb, const uint8_t *data, uint32_t n, tcp_send_ref_fn ref, void *ctx,
                             uint64_t *copied) {
    uint32_t pos = 0;
    while (pos < n) {
        int top_up;
        u8_t more;
        u16_t k = next_piece(pcb, n - pos, &top_up, &more);
        struct pbuf *own = !top_up || top_up_by_reference(pcb) ? ref(data + pos, k, ctx) : NULL;
        if (own) {
            if (write_referenced(pcb, data + pos, k, more, own) != 0)
                break;
        } else {
            if (tcp_write(pcb, data + pos, k, TCP_WRITE_FLAG_COPY | more) != ERR_OK)
                break;
            *copied += k;
        }
        pos += k;
    }
    return pos;
}

uint32_t tcp_send_pooled(struct tcp_pcb *pcb, const uint8_t *data, uint32_t n) {
    uint32_t pos = 0;
    while (pos < n) {
        int top_up;
        u8_t more;
        u16_t k = next_piece(pcb, n - pos, &top_up, &more);
        if (top_up ? tcp_write(pcb, data + pos, k, TCP_WRITE_FLAG_COPY | more) != ERR_OK
                 : write_lent(pcb, data + pos, k, more) != 0)
            break;
        pos += k;
    }
    /* No buffer to lend (or lwIP's queue is full): lwIP copies what fits, as tcp_write does. */
    uint32_t rest = n - pos > 0xffff ? 0xffff : n - pos, room = tcp_heap_copy_room(pcb);
    if (rest > room)
        rest = room;
    while (rest > 0 && tcp_write(pcb, data + pos, (u16_t)rest, TCP_WRITE_FLAG_COPY) != ERR_OK)
        rest /= 2;
    return pos + rest;
}
