/*
 * SYN flood guard (tcp_syn_guard.h): evict the oldest half-open connection when a SYN finds its
 * listener's backlog full. lwIP's PCB list and tcp_abandon are declared in its private TCP
 * header; they are read and called here, never changed.
 */
#include "tcp_syn_guard.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

static uint64_t evicted, queue_full;
static int (*accept_room)(void *listener_arg);

void tcp_syn_guard_set_accept_room(int (*room)(void *listener_arg)) { accept_room = room; }

uint64_t tcp_syn_guard_evicted(void) { return evicted; }

uint64_t tcp_syn_guard_queue_full(void) { return queue_full; }

/* The half-open connection of `listener` that has waited longest, or NULL. */
static struct tcp_pcb *oldest_half_open(const struct tcp_pcb_listen *listener) {
    struct tcp_pcb *oldest = NULL;
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
        if (pcb->state != SYN_RCVD || pcb->listener != listener)
            continue;
        /* tmr is the tcp_ticks (500 ms) of the last activity, so many share an age; lwIP
         * puts new PCBs at the head of the list, so among equals the last one seen is the
         * oldest (>=). Evicting the first would drop the newest, a real client's included. */
        if (!oldest || (u32_t)(tcp_ticks - pcb->tmr) >= (u32_t)(tcp_ticks - oldest->tmr))
            oldest = pcb;
    }
    return oldest;
}

signed char tcp_syn_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, struct pbuf *p) {
    (void)p;
    if (pcb->state != LISTEN)
        return ERR_OK;
    /* tcp_listen_input's test: a SYN without ACK or RST opens a connection. */
    u16_t flags = TCPH_FLAGS(hdr);
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return ERR_OK;
    struct tcp_pcb_listen *listener = (struct tcp_pcb_listen *)pcb;
    if (accept_room && !accept_room(listener->callback_arg)) {
        queue_full++;
        return ERR_ABRT; /* lwIP frees the segment and does nothing else */
    }
    if (listener->accepts_pending < listener->backlog)
        return ERR_OK;
    struct tcp_pcb *victim = oldest_half_open(listener);
    if (victim) {
        tcp_abandon(victim, 0); /* unlinks it and gives its backlog slot back */
        evicted++;
    }
    return ERR_OK;
}
