/*
 * TCP sockets (sockets.h): lwIP's callbacks keep each socket's state and mark it for a status
 * update; the operations never block (EAGAIN, EINPROGRESS). A connection lwIP accepts is
 * "embryonic" until the app accepts it: it counts against the listen backlog and is queued on
 * its listener.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "milestones.h"
#include "send_area.h"
#include "sockets.h"
#include "tcp_initial_window.h"
#include "tcp_send.h"
#include "tcp_syn_guard.h"
#include "tcp_timewait.h"
#include "tx_buffers.h"

void tcp_sock_drop_rx(struct msock *s) {
    if (s->rx)
        pbuf_free(s->rx);
    s->rx = NULL;
}

/* The app took (or SHUT_RD discarded) n received bytes: lwIP may open the window by as much,
 * less what SO_RCVBUF still holds back. */
static void give_credit(struct msock *s, uint32_t n) {
    uint32_t owed = (uint32_t)s->rcv_cut - s->rcv_held, hold = owed < n ? owed : n;
    s->rcv_held = (uint16_t)(s->rcv_held + hold);
    if (s->pcb.tcp && n > hold)
        tcp_recved(s->pcb.tcp, (u16_t)(n - hold));
}

/* Bytes a send may add now: lwIP's free send buffer, within SO_SNDBUF's bound on the bytes
 * waiting to be acknowledged. */
uint32_t tcp_sock_send_room(const struct msock *s) {
    const struct tcp_pcb *pcb = s->pcb.tcp;
    uint32_t room = pcb->snd_buf, queued = tcp_send_queued(pcb);
    if (s->sndbuf && queued >= s->sndbuf)
        return 0;
    if (s->sndbuf && s->sndbuf - queued < room)
        room = s->sndbuf - queued;
    return room;
}

/* Memory as it stood at the last send that found none: any of it freed since (or a second
 * gone by, whatever lwIP freed that these do not show) lets the starved sockets try again. */
#define STARVED_RECHECK_MS 1000u
static struct {
    unsigned count; /* sockets starved since the last wake */
    uint32_t heap_used, lent, held, at_ms;
} starved;

static void starve(struct msock *s) {
    if (!s->send_starved) {
        s->send_starved = 1;
        starved.count++;
        sockets_counters.send_starved++;
    }
    starved.heap_used = lwip_stats.mem.used;
    starved.lent = tx_buffers_lent();
    starved.held = send_area_held();
    starved.at_ms = sys_now();
}

void tcp_sock_recheck_starved(void) {
    if (!starved.count)
        return;
    if (lwip_stats.mem.used >= starved.heap_used && tx_buffers_lent() >= starved.lent &&
        send_area_held() >= starved.held && sys_now() - starved.at_ms < STARVED_RECHECK_MS)
        return;
    starved.count = 0;
    sockets_wake_starved();
}

/* A send that took nothing although the buffer had room found no memory (tcp_send.h's bounds,
 * or lwIP's pools): -EAGAIN, and no POLLOUT until some is freed, so that its app waits instead
 * of asking again at once (a stalled wrk made 88,000 such sends in a few seconds). */
static long no_memory(struct msock *s, uint32_t room) {
    if (room)
        starve(s);
    return -EAGAIN;
}

static void detach(struct tcp_pcb *pcb) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    if (pcb->state != LISTEN)
        tcp_poll(pcb, NULL, 0);
}

static void close_pcb(struct msock *s) {
    struct tcp_pcb *pcb = s->pcb.tcp;
    s->pcb.tcp = NULL;
    if (!pcb)
        return;
    if (s->listening)
        tcp_accept(pcb, NULL);
    else
        detach(pcb);
    if (s->embryonic)
        tcp_backlog_accepted(pcb);
    /* SO_LINGER with no time: the connection ends with a reset, unsent bytes dropped. */
    if ((s->linger_on && s->linger_s == 0 && !s->listening) || tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

static struct accept_queue accept_queues[MEMP_NUM_TCP_PCB_LISTEN];
static uint8_t accept_queue_used[MEMP_NUM_TCP_PCB_LISTEN];

static struct accept_queue *take_accept_queue(void) {
    int i = pool_take(accept_queue_used, MEMP_NUM_TCP_PCB_LISTEN);
    if (i < 0)
        return NULL;
    accept_queues[i].n = 0;
    return &accept_queues[i];
}

void tcp_sock_close(struct msock *s) {
    if (s->pending) {
        for (unsigned i = 0; i < s->pending->n; i++)
            sock_release(sock_at(s->link, s->pending->sock[i]));
        accept_queue_used[s->pending - accept_queues] = 0;
        s->pending = NULL;
    }
    tcp_sock_drop_rest(s);
    close_pcb(s);
    tcp_sock_drop_rx(s);
}

/* Nothing sent waits for the peer's acknowledgement: no bytes, no FIN (nor one lwIP could not
 * queue yet); a connection that is gone has nothing left either. */
static int all_acknowledged(const struct tcp_pcb *pcb) {
    return !pcb || (!pcb->unsent && !pcb->unacked && !(pcb->flags & TF_CLOSEPEND));
}

uint32_t tcp_sock_status(const struct msock *s) {
    if (s->listening)
        return s->pending->n ? NXS_EV_IN : 0;
    if (s->connecting)
        return s->err ? NXS_EV_OUT | NXS_EV_HUP : 0;
    if (!s->connected)
        return NXS_EV_OUT | NXS_EV_HUP;
    struct tcp_pcb *pcb = s->pcb.tcp;
    uint32_t ev = s->lingering && all_acknowledged(pcb) && !tcp_sock_has_rest(s) ? NXS_EV_DRAINED : 0;
    if (s->rx || s->eof || s->err || s->rd_shut)
        ev |= NXS_EV_IN;
    if (!pcb || s->wr_shut ||
        (tcp_sock_send_room(s) > 0 && tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN - 4 && !s->send_starved &&
         !tcp_sock_has_rest(s) && !send_area_waits(s->link, (unsigned)sock_number(s))))
        ev |= NXS_EV_OUT;
    if (!pcb || (s->eof && s->wr_shut))
        ev |= NXS_EV_HUP;
    return ev;
}

/* ---- lwIP's callbacks ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    struct msock *s = arg;
    (void)err;
    if (!s || s->orphan) { /* no app reads it any more */
        if (p) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        s->eof = 1;
    } else if (s->rd_shut) {
        give_credit(s, p->tot_len);
        pbuf_free(p);
    } else if (s->rx) {
        pbuf_cat(s->rx, p);
    } else {
        s->rx = p;
    }
    touch(s);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)pcb;
    (void)len;
    if (arg)
        touch(arg);
    return ERR_OK;
}

static void pending_remove(struct msock *l, unsigned k) {
    struct accept_queue *q = l->pending;
    memmove(&q->sock[k], &q->sock[k + 1], (q->n - k - 1) * sizeof q->sock[0]);
    q->n--;
    touch(l);
}

/* The pcb is already gone when lwIP reports an error. */
static void on_err(void *arg, err_t err) {
    struct msock *s = arg;
    if (!s)
        return;
    s->pcb.tcp = NULL;
    s->err = s->connecting && err == ERR_RST ? ECONNREFUSED : errno_of(err);
    if (s->embryonic) {
        /* Reset before the app accepted it: it leaves the listener's queue and the table. */
        struct msock *l = sock_at(s->link, s->listener);
        for (unsigned k = 0; k < l->pending->n; k++)
            if (l->pending->sock[k] == sock_number(s))
                pending_remove(l, k);
        s->embryonic = 0;
        tcp_sock_drop_rx(s);
        s->used = 0;
    }
    touch(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    struct msock *s = arg;
    if (s) {
        s->connecting = 0;
        s->connected = err == ERR_OK;
        s->err = errno_of(err);
        s->initial_window = (uint8_t)tcp_initial_window_allowed(pcb);
        /* SO_RCVBUF set before connect: the window is cut now, in the handshake's last ACK,
         * before the peer may send (nothing was received, so the window is whole). */
        if (s->connected && s->rcv_cut > s->rcv_held) {
            pcb->rcv_wnd = pcb->rcv_ann_wnd = (tcpwnd_size_t)(pcb->rcv_wnd - (s->rcv_cut - s->rcv_held));
            s->rcv_held = s->rcv_cut;
        }
        touch(s);
    }
    return ERR_OK;
}

static void attach(struct msock *s, struct tcp_pcb *pcb) {
    s->pcb.tcp = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
    struct msock *l = arg;
    if (!l || err != ERR_OK || !newpcb)
        return ERR_VAL;
    /* Each new connection: the TIME_WAIT list it will lengthen at its close is walked for
     * every SYN, so it stays short (tcp_timewait.h). */
    tcp_timewait_trim();
    struct msock *s = l->pending->n < ACCEPT_QUEUE ? sock_alloc(l->link) : NULL;
    if (!s) {
        sockets_counters.accept_refused++;
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    s->type = SOCK_STREAM;
    s->family = l->family;
    s->connected = 1;
    s->embryonic = 1;
    s->listener = (int16_t)sock_number(l);
    s->sndbuf = l->sndbuf; /* as Linux, a connection takes its listener's settings */
    s->rcv_cut = l->rcv_cut;
    s->rcvbuf = l->rcvbuf;
    s->initial_window = (uint8_t)tcp_initial_window_allowed(newpcb);
    if (l->nodelay)
        tcp_nagle_disable(newpcb);
    attach(s, newpcb);
    tcp_backlog_delayed(newpcb); /* counts against the listen backlog until the app accepts */
    l->pending->sock[l->pending->n++] = (int16_t)sock_number(s);
    touch(l);
    return ERR_OK;
}

/* Half-open and queued connections of a listener together, as lwIP counts them: its largest
 * backlog (a u8), so that a client's last ACK that waits in the RX ring behind a burst of SYNs
 * still finds its connection (tcp_syn_guard.h). The app's backlog bounds the queue alone. */
#define LWIP_BACKLOG 255

static int accept_room(void *listener_arg) {
    const struct msock *l = listener_arg;
    return l && l->pending && l->pending->n < l->pending->limit;
}

/* A connection that reached TIME_WAIT while its socket is still open: both sides have closed, so
 * the socket needs the PCB no more (recv gives the end of the stream, send EPIPE, poll HUP),
 * and lwIP will free the PCB after 2 MSL without a callback (tcp_timewait.h). */
static void release_timewait(void *arg, struct tcp_pcb *pcb) {
    struct msock *s = arg;
    detach(pcb);
    if (s->pcb.tcp != pcb)
        return;
    s->pcb.tcp = NULL;
    s->eof = 1;
    s->wr_shut = 1;
    touch(s);
}

/* How often TIME_WAIT is looked through for sockets still holding a connection: far within
 * lwIP's 2 MSL (TCP_MSL, 60 s). */
#define TIMEWAIT_LOOK_MS 1000

static void timewait_look(void *unused) {
    (void)unused;
    sockets_counters.timewait_released += tcp_timewait_release(release_timewait);
    sys_timeout(TIMEWAIT_LOOK_MS, timewait_look, NULL);
}

void tcp_sock_start(void) {
    tcp_syn_guard_set_accept_room(accept_room);
    sys_timeout(TIMEWAIT_LOOK_MS, timewait_look, NULL);
}

/* ---- operations ---- */

int tcp_sock_open(struct msock *s, u8_t iptype) {
    struct tcp_pcb *pcb = tcp_new_ip_type(iptype);
    if (pcb)
        attach(s, pcb);
    return pcb != NULL;
}

long tcp_sock_listen(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)data;
    if (s->listening)
        return 0;
    if (!s->pcb.tcp || s->connected || s->connecting)
        return -EINVAL;
    if (s->pcb.tcp->local_port == 0) {
        err_t e = tcp_bind(s->pcb.tcp, IP_ANY_TYPE, 0);
        if (e != ERR_OK)
            return -errno_of(e);
    }
    unsigned backlog = m->arg[0] == 0 ? 1 : m->arg[0] > ACCEPT_QUEUE ? ACCEPT_QUEUE : m->arg[0];
    s->pending = take_accept_queue();
    if (!s->pending)
        return -ENOBUFS; /* as many listeners as lwIP has listening PCBs are open */
    s->pending->limit = backlog;
    err_t e;
    detach(s->pcb.tcp);
    struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(s->pcb.tcp, LWIP_BACKLOG, &e);
    if (!lpcb) {
        attach(s, s->pcb.tcp);
        accept_queue_used[s->pending - accept_queues] = 0;
        s->pending = NULL;
        return -errno_of(e);
    }
    s->pcb.tcp = lpcb;
    s->listening = 1;
    tcp_arg(lpcb, s);
    tcp_accept(lpcb, on_accept);
    touch(s);
    milestone_mark(MS_FIRST_LISTEN);
    return 0;
}

long tcp_sock_accept(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)data;
    if (!s->listening)
        return -EINVAL;
    if (!s->pending->n)
        return -EAGAIN;
    struct msock *c = sock_at(s->link, s->pending->sock[0]);
    pending_remove(s, 0);
    c->embryonic = 0;
    if (c->pcb.tcp) {
        tcp_backlog_accepted(c->pcb.tcp);
        reply_addr(m, &c->pcb.tcp->remote_ip, c->pcb.tcp->remote_port, c->family);
    }
    touch(s);
    touch(c);
    milestone_mark(MS_FIRST_ACCEPT);
    return sock_number(c);
}

long tcp_sock_connect(struct msock *s, const ip_addr_t *ip, u16_t port) {
    if (s->listening)
        return -EINVAL;
    if (s->connecting)
        return -EALREADY;
    if (s->connected)
        return -EISCONN;
    if (!s->pcb.tcp)
        return s->err ? -s->err : -EINVAL;
    err_t e = tcp_connect(s->pcb.tcp, ip, port, on_connected);
    if (e != ERR_OK)
        return -errno_of(e);
    s->connecting = 1;
    touch(s);
    return -EINPROGRESS;
}

/* The end of a send that lwIP took n of the request's `whole` bytes of. MSG_EOF with every
 * byte taken: the FIN joins the last queued segment before it leaves (a client that closes as
 * soon as it has the whole response otherwise beats our FIN, and QEMU's user network then keeps
 * the closed connection for 10 s). */
static long sent(struct msock *s, const struct nxs_msg *m, uint32_t n, uint32_t whole) {
    struct tcp_pcb *pcb = s->pcb.tcp;
    if ((m->flags & MSG_EOF) && n == whole)
        tcp_sock_shut_wr(s);
    tcp_output(pcb);
    return n;
}

void tcp_sock_shut_wr(struct msock *s) {
    s->wr_shut = 1;
    if (s->pcb.tcp && !tcp_sock_has_rest(s))
        tcp_shutdown(s->pcb.tcp, 0, 1); /* the FIN rides on the last queued segment if it can */
}

long tcp_sock_send_begin(struct msock *s) {
    if (s->err)
        return take_error(s);
    if (s->wr_shut || (!s->connected && s->eof))
        return -EPIPE;
    if (!s->connected || !s->pcb.tcp)
        return -ENOTCONN;
    if (s->initial_window) {
        s->initial_window = 0;
        tcp_initial_window_apply(s->pcb.tcp);
    }
    return 0;
}

long tcp_sock_send(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    uint32_t len = m->len;
    long refused = tcp_sock_send_begin(s);
    if (refused)
        return refused;
    if (tcp_sock_has_rest(s))
        return -EAGAIN; /* a posted send's rest goes first; no POLLOUT until it went */
    struct tcp_pcb *pcb = s->pcb.tcp;
    uint32_t room = tcp_sock_send_room(s), n = len < room ? len : room;
    if (m->arg[0]) {
        /* The bytes are in the link's send area, data lists the chunks, then holds what did not
         * fit them (nexus/sockproto.h). */
        uint32_t list = m->arg[0] * (uint32_t)sizeof(struct nxs_chunk), named = 0;
        if (m->arg[0] > NXS_SEND_CHUNKS || len < list)
            return -EINVAL;
        for (uint32_t i = 0; i < m->arg[0]; i++)
            named += ((const struct nxs_chunk *)data)[i].len;
        uint64_t copied = 0;
        long r = room ? send_area_write(pcb, s->link, (unsigned)sock_number(s), (const struct nxs_chunk *)data, m->arg[0], room,
                                         &copied) : 0;
        if (r >= 0 && (uint32_t)r == named && len > list && room > (uint32_t)r) {
            uint32_t rest = len - list < room - (uint32_t)r ? len - list : room - (uint32_t)r;
            uint32_t more = tcp_send_pooled(pcb, data + list, rest);
            copied += more;
            r += more;
        }
        touch(s);
        m->arg[1] = tcp_send_segment_size(pcb); /* what the app should put in a chunk */
        if (r <= 0)
            return r < 0 ? r : no_memory(s, room);
        count_tcp_sent((uint64_t)r, copied);
        return sent(s, m, (uint32_t)r, named + (len - list));
    }
    n = tcp_send_pooled(pcb, data, n);
    touch(s);
    if (n == 0 && len != 0)
        return no_memory(s, room);
    count_tcp_sent(n, n);
    return sent(s, m, n, len);
}

static long receive(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    if (s->rx) {
        uint32_t n = m->len < s->rx->tot_len ? m->len : s->rx->tot_len;
        pbuf_copy_partial(s->rx, data, (u16_t)n, 0);
        if (!(m->flags & MSG_PEEK)) {
            s->rx = pbuf_free_header(s->rx, (u16_t)n);
            give_credit(s, n);
        }
        touch(s);
        return n;
    }
    if (s->err)
        return take_error(s);
    if (s->eof || s->rd_shut)
        return 0;
    if (!s->connected)
        return -ENOTCONN;
    return -EAGAIN;
}

long tcp_sock_recv(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    long n = receive(s, m, data);
    m->len = n > 0 ? (uint32_t)n : 0;
    return n;
}

long tcp_sock_shutdown(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)data;
    unsigned how = m->arg[0];
    if (how > SHUT_RDWR)
        return -EINVAL;
    if (!s->connected)
        return -ENOTCONN;
    int rd = how != SHUT_WR, wr = how != SHUT_RD;
    if (rd) {
        s->rd_shut = 1;
        if (s->rx)
            give_credit(s, s->rx->tot_len);
        tcp_sock_drop_rx(s);
    }
    if (wr && !s->wr_shut && s->pcb.tcp)
        tcp_sock_shut_wr(s);
    touch(s);
    return 0;
}

/* lwIP calls no callback when the peer acknowledges a FIN that went alone (its sent callback
 * counts bytes only), so a lingering socket looks at itself on lwIP's slow timer too. */
static err_t on_linger_poll(void *arg, struct tcp_pcb *pcb) {
    (void)pcb;
    if (arg)
        touch(arg);
    return ERR_OK;
}

#define LINGER_POLL_TICKS 1 /* lwIP's slow timer: 500 ms */

long tcp_sock_linger(struct msock *s) {
    struct tcp_pcb *pcb = s->pcb.tcp;
    /* unread bytes: the close resets at once (lwIP, as Linux, does not linger then) */
    if (!s->linger_on || !s->linger_s || !s->connected || s->listening || !pcb || s->rx)
        return 0;
    if (!s->wr_shut)
        tcp_sock_shut_wr(s);
    s->lingering = 1;
    tcp_poll(pcb, on_linger_poll, LINGER_POLL_TICKS);
    touch(s);
    return s->linger_s;
}

long tcp_sock_readable(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    (void)m;
    (void)data;
    return s->listening ? -EINVAL : s->rx ? (long)s->rx->tot_len : 0;
}

void tcp_sock_set_sndbuf(struct msock *s, uint32_t bytes) {
    s->sndbuf = bytes;
    touch(s);
}

void tcp_sock_set_rcvbuf(struct msock *s, uint32_t bytes) {
    uint16_t cut = (uint16_t)(TCP_WND - bytes);
    if (cut < s->rcv_held) { /* a larger buffer: the held-back credit goes to the peer now */
        uint32_t release = s->rcv_held - cut;
        s->rcv_held = cut;
        if (s->pcb.tcp && !s->listening)
            tcp_recved(s->pcb.tcp, (u16_t)release);
    }
    s->rcv_cut = cut;
    s->rcvbuf = bytes;
}

/* TCP_KEEPIDLE, TCP_KEEPINTVL (seconds, lwIP keeps ms) and TCP_KEEPCNT: Linux's bounds. */
static const struct {
    uint32_t name;
    int max;
    size_t offset;
    u32_t scale;
} keepalive_params[] = {
    {TCP_KEEPIDLE, 32767, offsetof(struct tcp_pcb, keep_idle), 1000},
    {TCP_KEEPINTVL, 32767, offsetof(struct tcp_pcb, keep_intvl), 1000},
    {TCP_KEEPCNT, 127, offsetof(struct tcp_pcb, keep_cnt), 1},
};

static int keepalive_param(uint32_t name) {
    for (unsigned i = 0; i < sizeof keepalive_params / sizeof keepalive_params[0]; i++)
        if (keepalive_params[i].name == name)
            return (int)i;
    return -1;
}

/* A listener's pcb is lwIP's smaller tcp_pcb_listen, without these fields. */
long tcp_sock_set_keepalive(struct msock *s, uint32_t name, int value) {
    int i = keepalive_param(name);
    if (i < 0)
        return -ENOPROTOOPT;
    if (value < 1 || value > keepalive_params[i].max)
        return -EINVAL;
    if (!s->pcb.tcp || s->listening)
        return -EINVAL;
    *(u32_t *)(void *)((uint8_t *)s->pcb.tcp + keepalive_params[i].offset) = (u32_t)value * keepalive_params[i].scale;
    return 0;
}

long tcp_sock_get_keepalive(const struct msock *s, uint32_t name, int *value) {
    int i = keepalive_param(name);
    if (i < 0)
        return -ENOPROTOOPT;
    if (!s->pcb.tcp || s->listening)
        return -EINVAL;
    *value = (int)(*(const u32_t *)(const void *)((const uint8_t *)s->pcb.tcp + keepalive_params[i].offset) /
                   keepalive_params[i].scale);
    return 0;
}
