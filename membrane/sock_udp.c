/*
 * UDP sockets (sockets.h): lwIP hands each datagram to on_recv, which queues it on its socket
 * (UDP_QUEUE deep; past that it is dropped and counted); receive takes the oldest. A socket
 * holds a queue from the pool while it is open; no more can be open than lwIP has UDP PCBs.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/udp.h"
#include "sockets.h"

#define UDP_PAYLOAD_MAX 65507 /* 65535 less the IPv4 and UDP headers */

static struct dgram_queue queues[MEMP_NUM_UDP_PCB];
static uint8_t queue_used[MEMP_NUM_UDP_PCB];

static struct dgram_queue *take_queue(void) {
    int i = pool_take(queue_used, MEMP_NUM_UDP_PCB);
    if (i < 0)
        return NULL;
    queues[i].head = queues[i].count = 0;
    queues[i].bytes = 0;
    return &queues[i];
}

static void pop(struct dgram_queue *q) {
    q->bytes -= q->d[q->head].p->tot_len;
    pbuf_free(q->d[q->head].p);
    q->head = (q->head + 1) % UDP_QUEUE;
    q->count--;
}

static void drop_queue(struct msock *s) {
    if (!s->dq)
        return;
    while (s->dq->count)
        pop(s->dq);
    queue_used[s->dq - queues] = 0;
    s->dq = NULL;
}

/* SO_RCVBUF: the most bytes the queue holds (unset: only its UDP_QUEUE datagrams bound it) */
static uint32_t rcvbuf(const struct msock *s) { return s->rcvbuf ? s->rcvbuf : UINT32_MAX; }

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
    struct msock *s = arg;
    (void)pcb;
    /* SO_RCVBUF bounds the queued bytes; one datagram always fits, as on Linux */
    if (!s || !s->dq || s->dq->count == UDP_QUEUE || (s->dq->count && s->dq->bytes + p->tot_len > rcvbuf(s))) {
        sockets_counters.udp_dropped++;
        pbuf_free(p);
        return;
    }
    struct dgram *d = &s->dq->d[(s->dq->head + s->dq->count++) % UDP_QUEUE];
    d->p = p;
    ip_addr_copy(d->from, *addr);
    d->port = port;
    s->dq->bytes += p->tot_len;
    touch(s);
}

int udp_sock_open(struct msock *s, u8_t iptype) {
    s->dq = take_queue();
    s->pcb.udp = s->dq ? udp_new_ip_type(iptype) : NULL;
    if (s->pcb.udp)
        udp_recv(s->pcb.udp, on_recv, s);
    else
        drop_queue(s);
    return s->pcb.udp != NULL;
}

void udp_sock_close(struct msock *s) {
    if (s->pcb.udp)
        udp_remove(s->pcb.udp);
    s->pcb.udp = NULL;
    drop_queue(s);
}

uint32_t udp_sock_status(const struct msock *s) { return NXS_EV_OUT | (s->dq && s->dq->count ? NXS_EV_IN : 0); }

long udp_sock_connect(struct msock *s, const ip_addr_t *ip, u16_t port) {
    touch(s);
    return -errno_of(udp_connect(s->pcb.udp, ip, port));
}

long udp_sock_send(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    if (m->arg[0])
        return -EINVAL; /* the send area is for streams */
    if (m->len > UDP_PAYLOAD_MAX)
        return -EMSGSIZE;
    if (s->err)
        return take_error(s);
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)m->len, PBUF_RAM);
    if (!p)
        return -ENOBUFS;
    memcpy(p->payload, data, m->len);
    sockets_counters.tx_stack_copied_bytes += m->len;
    err_t e;
    if (m->addr_len) {
        ip_addr_t ip;
        u16_t port;
        int err = decode_addr(s, m, &ip, &port);
        if (err) {
            pbuf_free(p);
            return err;
        }
        e = udp_sendto(s->pcb.udp, p, &ip, port);
    } else if (s->pcb.udp->flags & UDP_FLAGS_CONNECTED) {
        e = udp_send(s->pcb.udp, p);
    } else {
        pbuf_free(p);
        return -EDESTADDRREQ;
    }
    pbuf_free(p);
    if (e != ERR_OK)
        return -errno_of(e);
    sockets_counters.tx_payload_bytes += m->len;
    return (long)m->len;
}

static long receive(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    if (!s->dq || !s->dq->count)
        return s->err ? take_error(s) : -EAGAIN;
    struct dgram *d = &s->dq->d[s->dq->head];
    uint32_t n = m->len < d->p->tot_len ? m->len : d->p->tot_len;
    pbuf_copy_partial(d->p, data, (u16_t)n, 0);
    reply_addr(m, &d->from, d->port, s->family);
    m->arg[0] = d->p->tot_len; /* the datagram's real length (MSG_TRUNC) */
    if (!(m->flags & MSG_PEEK)) {
        pop(s->dq);
        touch(s);
    }
    return n;
}

long udp_sock_recv(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    long n = receive(s, m, data);
    m->len = n > 0 ? (uint32_t)n : 0;
    return n;
}

long udp_sock_readable(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)m;
    (void)data;
    return s->dq && s->dq->count ? (long)s->dq->d[s->dq->head].p->tot_len : 0;
}
