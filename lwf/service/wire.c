/*
 * Frames in and out on NetSwitch port 2 (lib/port/port.h), through the portable core (lwf/).
 * In: every frame goes through lwf_receive, the spec's checks in order (docs/lwf.md, section
 * 10); a drop is counted by cause and touches nothing else. An accepted ANNOUNCE adds or
 * refreshes a peer (and is answered when it solicits); DATA goes to reassembly when fragmented,
 * then to the socket bound to its service. Out: a message waits in the send queue and leaves as
 * one frame or as fragments, as fast as TX buffers come back from the device.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwfd.h"
#include "nexus.h"
#include "port/port.h"
#ifdef NEXUS_FAULT_INJECTION
#include "fault_inject.h"
#endif

#define RX_BATCH 32         /* frames per pass: a flood is handled in bounded batches */
#define TX_BATCH 8          /* fragments sealed and signed per pass (each costs a signature) */
#define SEND_QUEUE 2        /* messages waiting to leave (64 KiB each at most) */
#define REASSEMBLY_SLOTS 4  /* docs/lwf.md, section 7 */
#define REASSEMBLY_PER_PEER 2
#define SOLICIT_EVERY_MS 1000
#define ANSWER_EVERY_MS 1000

struct wire_counters wire_counters;

static struct port port;
static const struct lwf_node *me;
static uint64_t next_sequence;
static uint32_t next_message_id;
static uint64_t last_solicit_ms;
static int solicited_once;

static struct lwf_reassembly reassembly;
static struct lwf_reassembly_slot reassembly_slots[REASSEMBLY_SLOTS];
static uint8_t reassembly_buffers[REASSEMBLY_SLOTS][LWF_MESSAGE_MAX];

/* A message on its way out: the next fragment to send, and the bytes. */
struct outgoing {
    uint8_t dst[LWF_CELLID_LEN];
    uint16_t service, src_service;
    uint32_t len, message_id;
    uint16_t next, count;
    bool sign;
    uint8_t *data; /* LWF_MESSAGE_MAX bytes from the heap at the slot's first use, kept */
};
static struct outgoing queue[SEND_QUEUE];
static unsigned queue_head, queue_len;

bool wire_start(uint8_t mac[LWF_MAC_LEN]) {
    if (port_attach(&port) != 0)
        return false;
    memcpy(mac, port.info.mac, LWF_MAC_LEN);
    lwf_reassembly_init(&reassembly, reassembly_slots, REASSEMBLY_SLOTS, &reassembly_buffers[0][0],
                        REASSEMBLY_PER_PEER);
    randombytes_buf(&next_message_id, sizeof next_message_id);
    return true;
}

void wire_set_node(const struct lwf_node *node, uint64_t first_sequence) {
    me = node;
    next_sequence = first_sequence;
}

int wire_channel(void) { return port_channel(&port); }

bool wire_sleep_prepare(void) {
    /* Fragments waiting for TX buffers: the device giving one back wakes us. */
    return port_sleep_prepare(&port) && (queue_len == 0 || port_tx_sleep_prepare(&port));
}

void wire_kick(void) { port_flush(&port); }

bool wire_can_send(void) { return queue_len < SEND_QUEUE; }

/* One frame into a TX buffer: build(out, cap) returns its length (0: not built, and the buffer
 * is kept for the next frame). */
static bool transmit(size_t (*build)(void *arg, uint8_t *out, size_t cap), void *arg) {
    static uint32_t spare;
    static bool have_spare;
    uint32_t handle = spare;
    if (!have_spare && port_tx_take(&port, &handle) != 0) {
        wire_counters.tx_no_buffer++;
        return false;
    }
    have_spare = false;
    size_t len = build(arg, port_buffer(&port, handle), port.info.buf_size);
    if (len == 0) { /* cannot happen for a peer we hold: its key converted when it was added */
        spare = handle;
        have_spare = true;
        return true;
    }
    port_send(&port, handle, (uint16_t)len);
    wire_counters.tx_frames++;
    return true;
}

struct announce_args {
    const struct lwf_peer *to;
    bool solicit;
};

static size_t build_announce(void *arg, uint8_t *out, size_t cap) {
    const struct announce_args *a = arg;
    return lwf_build_announce(me, a->to, next_sequence++, a->solicit, out, cap);
}

static void announce(const struct lwf_peer *to, bool solicit) {
    struct announce_args a = {to, solicit};
    if (transmit(build_announce, &a))
        wire_counters.announces_sent++;
}

void wire_solicit(uint64_t now_ms) {
    if (solicited_once && now_ms - last_solicit_ms < SOLICIT_EVERY_MS)
        return;
    solicited_once = 1;
    last_solicit_ms = now_ms;
    announce(NULL, true);
}

static void deliver(const struct lwf_header *h, const uint8_t *msg, uint32_t len) {
#ifdef NEXUS_FAULT_INJECTION
    if (h->service == LWF_FAULT_SERVICE) {
        fault_inject_commit("lwf", msg, len);
        return;
    }
#endif
    int err = sockets_deliver(h->service, h->src, h->src_service, msg, len);
    if (err == -ENOENT)
        wire_counters.no_socket++;
    else if (err)
        wire_counters.queue_full++;
    else
        wire_counters.delivered++;
}

static void accepted_announce(const struct lwf_received *r, uint64_t now_ms) {
    struct peer *p = r->peer ? peer_of(r->peer) : NULL;
    if (!p) {
        p = peer_add(me, r->announce_public_key, r->announce_mac, r->view.header.sequence, now_ms);
        if (!p) {
            printf("lwf: peer table full (%u): a new node is not added\n", PEERS_MAX);
            return;
        }
        char id[2 * LWF_CELLID_LEN + 1];
        cellid_hex(p->core.cellid, id);
        printf("lwf: peer %s at %02x:%02x:%02x:%02x:%02x:%02x\n", id, p->core.mac[0], p->core.mac[1],
               p->core.mac[2], p->core.mac[3], p->core.mac[4], p->core.mac[5]);
    }
    wire_counters.announces_accepted++;
    p->last_seen_ms = now_ms;
    p->frames_in++;
    p->dirty = true;
    if (r->solicit && (p->solicit_answered_ms == 0 || now_ms - p->solicit_answered_ms >= ANSWER_EVERY_MS)) {
        p->solicit_answered_ms = now_ms ? now_ms : 1;
        announce(&p->core, false);
    }
}

static void accepted_data(const struct lwf_received *r, const uint8_t *plain, uint64_t now_ms) {
    struct peer *p = peer_of(r->peer);
    p->last_seen_ms = now_ms;
    p->frames_in++;
    p->dirty = true;
    const struct lwf_header *h = &r->view.header;
    if (!(h->flags & LWF_FLAG_FRAGMENTED)) {
        deliver(h, plain, (uint32_t)r->plain_len);
        return;
    }
    struct lwf_message done;
    enum lwf_drop drop = lwf_reassembly_offer(&reassembly, h, plain, r->plain_len, now_ms, &done);
    if (drop != LWF_ACCEPTED) {
        wire_counters.drops[drop]++;
        p->drops++;
    } else if (done.data) {
        deliver(h, done.data, (uint32_t)done.len);
    }
}

/* A dropped frame from a known sender counts against it too; DATA from a node we do not know
 * (ours restarted, or theirs) asks everyone to announce. */
static void dropped(enum lwf_drop cause, const struct lwf_received *r, uint64_t now_ms) {
    wire_counters.drops[cause]++;
    if (cause <= LWF_DROP_CRC)
        return; /* the header was not read */
    struct peer *p = peer_find(r->view.header.src);
    if (p) {
        p->drops++;
        p->dirty = true;
    } else if (cause == LWF_DROP_UNKNOWN_SENDER && r->view.header.type == LWF_TYPE_DATA) {
        wire_solicit(now_ms);
    }
}

unsigned wire_poll(uint64_t now_ms) {
    static uint8_t plain[LWF_PLAINTEXT_MAX];
    struct ion_desc d[RX_BATCH];
    uint32_t n = port_receive(&port, d, RX_BATCH);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *eth = port_buffer(&port, d[i].handle) + d[i].offset;
        struct lwf_received r;
        enum lwf_drop drop = lwf_receive(me, eth, d[i].length, peer_lookup, NULL, plain, &r);
        wire_counters.rx_frames++;
        if (drop != LWF_ACCEPTED)
            dropped(drop, &r, now_ms);
        else if (r.view.header.type == LWF_TYPE_ANNOUNCE)
            accepted_announce(&r, now_ms);
        else
            accepted_data(&r, plain, now_ms);
        port_return(&port, d[i].handle); /* everything needed was copied out: plain, reassembly */
    }
    return n;
}

unsigned wire_reassembly_busy(void) { return (unsigned)lwf_reassembly_busy(&reassembly); }

void wire_tick(uint64_t now_ms) {
    wire_counters.drops[LWF_DROP_FRAGMENT_TIMEOUT] += lwf_reassembly_expire(&reassembly, now_ms);
}

int wire_send(const uint8_t dst[LWF_CELLID_LEN], uint16_t service, uint16_t src_service, bool sign, const uint8_t *msg,
              uint32_t len, uint64_t now_ms) {
    if (len > LWF_MESSAGE_MAX)
        return -EMSGSIZE;
    if (!memcmp(dst, me->cellid, LWF_CELLID_LEN)) { /* to ourselves: no wire, no crypto */
        int err = sockets_deliver(service, me->cellid, src_service, msg, len);
        return err == -ENOENT ? -ECONNREFUSED : err == -ENOBUFS ? -EAGAIN : err;
    }
    if (!peer_find(dst)) {
        wire_solicit(now_ms);
        return -EHOSTUNREACH;
    }
    if (queue_len == SEND_QUEUE)
        return -EAGAIN;
    struct outgoing *o = &queue[(queue_head + queue_len) % SEND_QUEUE];
    if (!o->data && !(o->data = malloc(LWF_MESSAGE_MAX)))
        return -ENOBUFS;
    memcpy(o->dst, dst, LWF_CELLID_LEN);
    o->service = service;
    o->src_service = src_service;
    o->len = len;
    o->sign = sign;
    o->next = 0;
    size_t one_frame = LWF_PLAINTEXT_MAX - (sign ? LWF_SIGNATURE_LEN : 0);
    o->count = len <= one_frame ? 1 : (uint16_t)((len + LWF_CHUNK_LEN - 1) / LWF_CHUNK_LEN);
    o->message_id = o->count > 1 ? (++next_message_id ? next_message_id : ++next_message_id) : 0;
    memcpy(o->data, msg, len);
    queue_len++;
    wire_counters.tx_messages++;
    wire_flush_queue();
    return 0;
}

struct data_args {
    struct peer *to;
    const struct outgoing *o;
};

static size_t build_fragment(void *arg, uint8_t *out, size_t cap) {
    const struct data_args *a = arg;
    const struct outgoing *o = a->o;
    struct lwf_data_frame spec = {
        .flags = o->sign ? LWF_FLAG_SIGNED : 0,
        .service = o->service,
        .src_service = o->src_service,
        .sequence = next_sequence++,
        .message_id = o->message_id,
        .fragment_index = o->next,
        .fragment_count = o->count,
    };
    randombytes_buf(spec.nonce, sizeof spec.nonce);
    uint32_t at = o->count > 1 ? (uint32_t)o->next * LWF_CHUNK_LEN : 0;
    uint32_t len = o->count > 1 && o->len - at > LWF_CHUNK_LEN ? LWF_CHUNK_LEN : o->len - at;
    return lwf_build_data(me, &a->to->core, &spec, o->data + at, len, out, cap);
}

unsigned wire_flush_queue(void) {
    unsigned sent = 0;
    while (queue_len && sent < TX_BATCH) {
        struct outgoing *o = &queue[queue_head];
        struct peer *to = peer_find(o->dst);
        while (to && o->next < o->count) {
            if (sent == TX_BATCH)
                return sent; /* the rest on the next pass, after the loop yields */
            struct data_args a = {to, o};
            if (!transmit(build_fragment, &a))
                return sent; /* no TX buffer: more when the device gives them back */
            o->next++;
            to->frames_out++;
            to->dirty = true;
            sent++;
        }
        queue_head = (queue_head + 1) % SEND_QUEUE;
        queue_len--;
        sockets_writable();
    }
    return sent;
}
