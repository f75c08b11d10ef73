/* Links' send areas lent to lwIP in place (send_area.h). */
#include "send_area.h"

#include <errno.h>
#include <string.h>

#include "nexus/syscall.h"
#include "tcp_send.h"
#include "tx_buffers.h"

#define LINKS NEXUS_LINKS_MAX
#define PIECES 256 /* pbufs over chunks at once: more than the links' chunks in lwIP in practice */

struct area {
    uint8_t *base; /* NULL: not a link of ours */
    uint32_t id;
    uint64_t held; /* our own record; the link's send_held is a copy for the app */
    uint16_t refs[NXS_SEND_CHUNKS];
    uint8_t owner[NXS_SEND_CHUNKS]; /* the socket whose send named the chunk last, or NO_OWNER */
    uint8_t held_by[NXS_SOCKETS];   /* chunks held, per owner */
    uint64_t large[NXS_SOCKETS / 64]; /* owners holding SEND_AREA_LOW_WATER or more, a bit each */
    uint8_t nfree;                  /* chunks not held: NXS_SEND_CHUNKS less the bits of held */
};

#define NO_OWNER 0xFFu

static uint8_t owner_of(unsigned sock) { return sock < NXS_SOCKETS ? (uint8_t)sock : NO_OWNER; }

struct piece {
    struct pbuf_custom custom; /* first: lwIP hands the free function this pbuf */
    uint8_t link, chunk;
};

static struct area areas[LINKS];
static struct piece pieces[PIECES];
static uint16_t free_pieces[PIECES];
static uint32_t nfree_pieces;
static int pieces_ready;
static struct send_area_stats stats;
static void (*wait_changed)(unsigned link, unsigned sock);

static void publish(struct area *a) {
    struct nxs_header *hdr = (struct nxs_header *)(a->base + NXS_OFF_HEADER);
    __atomic_store_n(&hdr->send_held, a->held, __ATOMIC_RELEASE);
}

static void tell(unsigned link, unsigned sock) {
    if (wait_changed)
        wait_changed(link, sock);
}

/* The free chunks crossed the low-water mark: every socket that holds enough to wait may now
 * wait, or may now stop. */
static void tell_large_holders(unsigned link) {
    const struct area *a = &areas[link];
    for (unsigned w = 0; w < NXS_SOCKETS / 64; w++)
        for (uint64_t bits = a->large[w]; bits; bits &= bits - 1)
            tell(link, w * 64 + (unsigned)__builtin_ctzll(bits));
}

/* Owner o's count moved across the low-water mark. */
static void large_changed(unsigned link, unsigned o) {
    struct area *a = &areas[link];
    a->large[o / 64] ^= 1ull << (o % 64);
    tell(link, o);
}

/* Chunk `chunk` became held (on) or free: the owner's count and who is told. */
static void held_changed(unsigned link, unsigned chunk, int on) {
    struct area *a = &areas[link];
    int was_short = a->nfree < SEND_AREA_LOW_WATER;
    a->held = on ? a->held | 1ull << chunk : a->held & ~(1ull << chunk);
    a->nfree = (uint8_t)(on ? a->nfree - 1u : a->nfree + 1u);
    publish(a);
    unsigned o = a->owner[chunk];
    if (o != NO_OWNER) {
        a->held_by[o] = (uint8_t)(on ? a->held_by[o] + 1u : a->held_by[o] - 1u);
        if (a->held_by[o] == SEND_AREA_LOW_WATER - (on ? 0u : 1u))
            large_changed(link, o);
    }
    if (was_short != (a->nfree < SEND_AREA_LOW_WATER))
        tell_large_holders(link);
}

static void hold(unsigned link, unsigned chunk) {
    if (areas[link].refs[chunk]++ == 0)
        held_changed(link, chunk, 1);
}

static void release(unsigned link, unsigned chunk) {
    struct area *a = &areas[link];
    if (a->refs[chunk] == 0)
        return; /* not ours to release twice */
    if (--a->refs[chunk] == 0)
        held_changed(link, chunk, 0);
}

/* The device gave back the header buffer of a frame from chunk (tag - 1). */
static void frame_done(uint16_t tag) {
    unsigned t = tag - 1u;
    if (t / 64 < LINKS && t % 64 < NXS_SEND_CHUNKS)
        release(t / 64, t % 64);
}

static void piece_free(struct pbuf *p) {
    struct piece *pc = (struct piece *)p;
    release(pc->link, pc->chunk);
    free_pieces[nfree_pieces++] = (uint16_t)(pc - pieces);
}

void send_area_attach(unsigned link, uint8_t *base, uint32_t id, uint32_t size) {
    if (!pieces_ready) {
        for (uint32_t i = 0; i < PIECES; i++)
            free_pieces[i] = (uint16_t)i;
        nfree_pieces = PIECES;
        pieces_ready = 1;
    }
    if (link >= LINKS)
        return;
    tx_buffers_on_return(frame_done);
    struct area *a = &areas[link];
    memset(a, 0, sizeof *a);
    memset(a->owner, NO_OWNER, sizeof a->owner);
    a->nfree = NXS_SEND_CHUNKS;
    struct nxs_header *hdr = (struct nxs_header *)(base + NXS_OFF_HEADER);
    if (size < NXS_LINK_SEND_BYTES) {
        __atomic_store_n(&hdr->send_area, 0, __ATOMIC_RELEASE);
        return;
    }
    a->base = base;
    a->id = id;
    publish(a);
    __atomic_store_n(&hdr->send_area, 1, __ATOMIC_RELEASE);
}

struct target {
    unsigned link, chunk;
};

/* tcp_send_referenced's ref: a piece pbuf over bytes of the chunk, which it holds. */
static struct pbuf *make_piece(const uint8_t *at, u16_t len, void *ctx) {
    const struct target *t = ctx;
    if (nfree_pieces == 0) {
        stats.no_piece++;
        return NULL;
    }
    struct piece *pc = &pieces[free_pieces[--nfree_pieces]];
    pc->link = (uint8_t)t->link;
    pc->chunk = (uint8_t)t->chunk;
    pc->custom.custom_free_function = piece_free;
    hold(t->link, t->chunk);
    stats.referenced_bytes += len;
    return pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, &pc->custom, (void *)at, len);
}

static struct area *area_of(unsigned link) { return link < LINKS && areas[link].base ? &areas[link] : NULL; }

/* A piece within the area's chunks. */
static int piece_ok(unsigned chunk, uint32_t offset, uint32_t len) {
    return chunk < NXS_SEND_CHUNKS && len != 0 && offset + len <= NXS_SEND_CHUNK;
}

uint32_t send_area_write_piece(struct tcp_pcb *pcb, unsigned link, unsigned chunk, uint32_t offset, uint32_t len,
                               uint32_t most, uint64_t *copied) {
    struct area *a = area_of(link);
    if (!a || !piece_ok(chunk, offset, len))
        return 0;
    uint32_t want = len < most ? len : most;
    struct target t = {link, chunk};
    return tcp_send_referenced(pcb, a->base + NXS_OFF_SEND + chunk * NXS_SEND_CHUNK + offset, want, make_piece, &t,
                               copied);
}

long send_area_write(struct tcp_pcb *pcb, unsigned link, unsigned sock, const struct nxs_chunk *list, uint32_t n,
                     uint32_t most, uint64_t *copied) {
    struct area *a = area_of(link);
    uint32_t taken = 0;
    for (uint32_t i = 0; i < n && taken < most; i++) {
        struct nxs_chunk c;
        memcpy(&c, &list[i], sizeof c); /* the app can still write the list */
        if (!a || !piece_ok(c.index, c.offset, c.len) || a->refs[c.index]) {
            stats.refused++;
            return taken ? (long)taken : -EINVAL;
        }
        a->owner[c.index] = owner_of(sock);
        uint32_t got = send_area_write_piece(pcb, link, c.index, c.offset, c.len, most - taken, copied);
        taken += got;
        if (got < c.len)
            break;
    }
    return (long)taken;
}

int send_area_check(unsigned link, unsigned sock, const struct nxs_chunk *list, uint32_t n) {
    struct area *a = area_of(link);
    uint64_t named = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct nxs_chunk *c = &list[i];
        if (!a || !piece_ok(c->index, c->offset, c->len) || a->refs[c->index] || (named >> c->index & 1)) {
            stats.refused++;
            return -EINVAL;
        }
        named |= 1ull << c->index;
    }
    for (uint32_t i = 0; i < n; i++)
        a->owner[list[i].index] = owner_of(sock);
    return 0;
}

void send_area_disown(unsigned link, unsigned sock) {
    struct area *a = area_of(link);
    if (!a || sock >= NXS_SOCKETS)
        return;
    for (unsigned c = 0; c < NXS_SEND_CHUNKS; c++)
        if (a->owner[c] == sock)
            a->owner[c] = NO_OWNER;
    a->held_by[sock] = 0;
    a->large[sock / 64] &= ~(1ull << (sock % 64));
}

int send_area_waits(unsigned link, unsigned sock) {
    const struct area *a = area_of(link);
    return a && sock < NXS_SOCKETS && a->held_by[sock] >= SEND_AREA_LOW_WATER && a->nfree < SEND_AREA_LOW_WATER;
}

void send_area_on_wait_change(void (*fn)(unsigned link, unsigned sock)) { wait_changed = fn; }

void send_area_hold(unsigned link, unsigned chunk) {
    if (area_of(link) && chunk < NXS_SEND_CHUNKS)
        hold(link, chunk);
}

void send_area_unhold(unsigned link, unsigned chunk) {
    if (area_of(link) && chunk < NXS_SEND_CHUNKS)
        release(link, chunk);
}

/* The piece q is, or NULL. */
static struct piece *piece_of(const struct pbuf *q) {
    const struct piece *pc = (const struct piece *)q;
    if (!(q->flags & PBUF_FLAG_IS_CUSTOM) || pc < pieces || pc >= pieces + PIECES)
        return NULL;
    return (struct piece *)pc;
}

int send_area_output(struct pbuf *p, uint64_t *copied) {
    struct piece *pc[NEXUS_ION_TX_LINK_PARTS];
    struct ion_desc parts[NEXUS_ION_TX_LINK_PARTS];
    uint16_t tags[NEXUS_ION_TX_LINK_PARTS];
    unsigned n = 0;
    if (p->len < NEXUS_ETH_HDR_LEN)
        return 0;
    /* Every payload piece must lie in a send area, and there may be at most as many as a frame
     * takes link parts (a segment topped up from the next chunk has two). */
    for (const struct pbuf *q = p->next; q; q = q->next) {
        if (n == NEXUS_ION_TX_LINK_PARTS || !(pc[n] = piece_of(q)))
            return 0;
        const struct area *a = &areas[pc[n]->link];
        uint32_t off = (uint32_t)((const uint8_t *)q->payload - a->base);
        parts[n] = (struct ion_desc){NEXUS_ION_TX_LINK(a->id, off >> 16), (uint16_t)off, q->len};
        tags[n] = (uint16_t)(pc[n]->link * 64u + pc[n]->chunk + 1u);
        n++;
    }
    if (n == 0 || tx_send_parts(p, parts, tags, n, copied) != 0)
        return 0;
    for (unsigned k = 0; k < n; k++)
        hold(pc[k]->link, pc[k]->chunk); /* until the device gives the header buffer back */
    stats.frames++;
    return 1;
}

uint32_t send_area_held(void) {
    uint32_t n = 0;
    for (unsigned l = 0; l < LINKS; l++)
        n += (uint32_t)__builtin_popcountll(areas[l].held);
    return n;
}

const struct send_area_stats *send_area_stats(void) { return &stats; }
