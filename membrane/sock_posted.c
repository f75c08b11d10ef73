/*
 * Posted TCP sends (docs/sockets.md, "Posted sends"): a send an app put in its link's post slot
 * does not wait for the reply, so the Membrane takes every byte of it. What lwIP takes now goes
 * to lwIP as any send from the send area; the rest stays in the app's chunks, which the
 * Membrane holds, and goes to lwIP in stream order as acknowledgements free room. While a
 * socket has such a rest it shows no POLLOUT and refuses other sends (EAGAIN), a shutdown or
 * MSG_EOF sends its FIN after the rest, and a close leaves the socket to finish the rest
 * unseen by the app (an orphan), then closes it. A dead connection drops its rest.
 *
 * Each chunk is in at most one rest (the Membrane holds it, so no app can name it again), so
 * the rests of a link are lists through one entry per chunk.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/tcp.h"
#include "nexus/syscall.h"
#include "send_area.h"
#include "sockets.h"
#include "tcp_send.h"

/* A rest's links name a chunk as its index + 1: 0 is none, what a new socket starts with. */
#define NO_REST 0u

struct rest_piece {
    uint16_t offset, len; /* what is left of the piece in its chunk */
    uint8_t next;         /* the rest's next piece: its chunk + 1, or NO_REST */
};

static struct rest_piece pieces[NEXUS_LINKS_MAX][NXS_SEND_CHUNKS];
static uint64_t resting[NEXUS_LINKS_MAX][NXS_SOCKETS / 64]; /* sockets with a rest, a bit each */
static unsigned rests;                                     /* how many bits are set above */

static void mark(struct msock *s, int on) {
    int k = sock_number(s);
    uint64_t bit = 1ull << (k % 64), *w = &resting[s->link][k / 64];
    if (on && !(*w & bit))
        rests++;
    else if (!on && (*w & bit))
        rests--;
    *w = on ? *w | bit : *w & ~bit;
}

static struct rest_piece *piece_at(const struct msock *s, uint8_t at) { return &pieces[s->link][at - 1]; }

int tcp_sock_has_rest(const struct msock *s) { return s->rest_head != NO_REST; }

void tcp_sock_drop_rest(struct msock *s) {
    while (s->rest_head != NO_REST) {
        uint8_t at = s->rest_head;
        s->rest_head = piece_at(s, at)->next;
        send_area_unhold(s->link, at - 1u);
    }
    s->rest_tail = NO_REST;
    mark(s, 0);
}

static void append(struct msock *s, uint8_t chunk, uint32_t offset, uint32_t len) {
    uint8_t at = (uint8_t)(chunk + 1u);
    *piece_at(s, at) = (struct rest_piece){(uint16_t)offset, (uint16_t)len, NO_REST};
    if (s->rest_head == NO_REST)
        s->rest_head = at;
    else
        piece_at(s, s->rest_tail)->next = at;
    s->rest_tail = at;
    send_area_hold(s->link, chunk);
    mark(s, 1);
}

/* Gives lwIP what it takes of the socket's rest now; the bytes it took. */
static uint32_t push(struct msock *s) {
    struct tcp_pcb *pcb = s->pcb.tcp;
    if (!pcb || s->err) {
        sockets_counters.posted_dropped_bytes += tcp_sock_rest_bytes(s);
        tcp_sock_drop_rest(s);
        if (s->orphan)
            sock_release(s);
        return 0;
    }
    uint32_t room = tcp_sock_send_room(s), took = 0;
    uint64_t copied = 0;
    while (s->rest_head != NO_REST && took < room) {
        uint8_t at = s->rest_head;
        struct rest_piece *p = piece_at(s, at);
        uint32_t got = send_area_write_piece(pcb, s->link, at - 1u, p->offset, p->len, room - took, &copied);
        took += got;
        if (got < p->len) {
            p->offset = (uint16_t)(p->offset + got);
            p->len = (uint16_t)(p->len - got);
            break;
        }
        s->rest_head = p->next;
        send_area_unhold(s->link, at - 1u); /* lwIP's own references keep it held while it needs it */
    }
    count_tcp_sent(took, copied);
    if (took)
        tcp_output(pcb);
    int all_gone = s->rest_head == NO_REST;
    if (took || all_gone)
        touch(s);
    if (all_gone) { /* the FIN it kept back leaves, an orphan closes */
        s->rest_tail = NO_REST;
        mark(s, 0);
        if (s->wr_shut)
            tcp_shutdown(pcb, 0, 1);
        if (s->orphan)
            sock_release(s);
    }
    return took;
}

uint32_t tcp_sock_rest_bytes(const struct msock *s) {
    uint32_t n = 0;
    for (uint8_t at = s->rest_head; at != NO_REST; at = piece_at(s, at)->next)
        n += piece_at(s, at)->len;
    return n;
}

long tcp_sock_post(struct msock *s, struct nxs_msg *m, uint8_t *data) {
    struct nxs_chunk list[NXS_SEND_CHUNKS];
    uint32_t n = m->arg[0], whole = 0; /* nxs_post_check: 1..NXS_SEND_CHUNKS pieces, data the list alone */
    memcpy(list, data, n * sizeof list[0]); /* the app can still write the slot */
    if (send_area_check(s->link, (unsigned)sock_number(s), list, n))
        return -EINVAL;
    long refused = tcp_sock_send_begin(s); /* a listener is not connected: ENOTCONN */
    if (refused)
        return refused;
    for (uint32_t i = 0; i < n; i++)
        whole += list[i].len;
    struct tcp_pcb *pcb = s->pcb.tcp;
    uint32_t i = 0, first_taken = 0;
    if (!tcp_sock_has_rest(s)) {
        uint32_t room = tcp_sock_send_room(s);
        uint64_t copied = 0;
        long r = room ? send_area_write(pcb, s->link, (unsigned)sock_number(s), list, n, room, &copied) : 0;
        uint32_t taken = r > 0 ? (uint32_t)r : 0;
        count_tcp_sent(taken, copied);
        for (; i < n && taken >= list[i].len; i++)
            taken -= list[i].len;
        first_taken = taken; /* of piece i, which lwIP took only the start of */
    }
    if (i < n)
        sockets_counters.posted_rests++;
    for (uint32_t k = i; k < n; k++) {
        uint32_t skip = k == i ? first_taken : 0;
        append(s, list[k].index, list[k].offset + skip, list[k].len - skip);
    }
    if (m->flags & MSG_EOF)
        tcp_sock_shut_wr(s);
    tcp_output(pcb);
    touch(s);
    m->arg[1] = tcp_send_segment_size(pcb);
    return whole;
}

int tcp_sock_orphan(struct msock *s) {
    if (!tcp_sock_has_rest(s) || s->rx || (s->linger_on && s->linger_s == 0) || !s->pcb.tcp)
        return 0; /* unread bytes, or SO_LINGER with no time: the close resets at once */
    s->orphan = 1;
    tcp_sock_shut_wr(s); /* the FIN after the rest */
    touch(s); /* its status word goes to 0: the app closed it */
    return 1;
}

unsigned tcp_sock_push_rests(void) {
    unsigned work = 0;
    for (unsigned l = 0; rests && l < NEXUS_LINKS_MAX; l++)
        for (unsigned w = 0; w < NXS_SOCKETS / 64; w++)
            for (uint64_t bits = resting[l][w]; bits; bits &= bits - 1)
                work += push(sock_at(l, (int)(w * 64) + __builtin_ctzll(bits))) != 0;
    return work;
}
