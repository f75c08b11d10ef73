/*
 * A deterministic simulation of UTCP (docs/utcp.md sections 8-11): cores joined by an in-memory
 * Ethernet switch that loses (0 %, 1 %, 5 %), duplicates and reorders frames with a seeded
 * generator and delivers by destination MAC. Three shapes, one switch:
 *
 *   trio   three nodes, a session between every pair with several streams each way (16 MiB each
 *          way between a and b); halfway, b's MAC changes (its sessions must go on) and the a-b
 *          session rekeys on its own (16 MiB is more than 8192 frames); run at 0, 1 and 5 % loss,
 *          and the 1 % run again to show the counts depend on the seeds only;
 *   mesh   64 nodes that all start at once: every one of the 2016 pairs holds a session (each
 *          node 63, all it has), and each direction of each session carries one stream of
 *          8-56 KiB (4032 streams), at 5 % loss. Windows of 16 frames keep the slots at ~190 MiB;
 *   pair   two nodes, one session with the UTCP service's 128-frame windows, 16 MiB each way at
 *          once, as qemu_utcp's bench between two QEMU nodes: here each node takes frames in at
 *          a set rate through a 64-frame ring that drops when full (a guest's CPU and its
 *          NetSwitch ring), so simulated time gives a goodput, at 0, 1 and 5 % loss. Its trace
 *          says where the sender's time went (held by the peer's window, by its congestion
 *          window, by pacing) and how long a lost frame waited for its retransmission; the
 *          goodput at 5 % loss must stay at 70 % of the lossless one (issue 15's aim).
 *
 * Every byte is checked against the generator that wrote it. Counts are printed as INFO lines;
 * they depend on the seeds only, never on the machine. The mesh run also prints a BENCH line
 * (wire frames per wall-clock second) that `make bench` shows; nothing judges it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "check.h"
#include "utcp.h"
#include "utcp_fixture.h"

#define NODES_MAX     64
#define PLANS_MAX     (NODES_MAX * (NODES_MAX - 1))
#define QUEUE_MAX     (1u << 18)
#define ETH_MAX       (UTCP_ETH_HEADER_LEN + UTCP_FRAME_MAX)
#define BASE_DELAY_US 500u
#define JITTER_US     300u
#define SIM_LIMIT_US  (600ull * 1000000)
#define NODE_TABLE    128 /* CellID -> node, open addressing: a power of two above NODES_MAX */

struct stream_plan {
    int from, to;
    uint16_t stream;
    uint64_t bytes;
};

struct scenario {
    const char *name;          /* prefixes the check names ("" for the trio, as it always was) */
    int nodes, sessions;       /* sessions per node */
    uint32_t window;           /* frames each way per session */
    const struct stream_plan *plans;
    size_t plan_count;         /* the plans of one (from, to) pair lie next to each other */
    const int (*connects)[2];  /* initiator, responder */
    size_t connect_count;
    bool moves_mac;            /* b's MAC changes halfway through plan 0; a-b rekeys */
    uint32_t rx_bytes_per_ms;  /* how fast each node takes frames in, through a ring of RX_RING
                                * frames that drops when full; 0: at once, no ring */
    uint32_t reorder_per_mille; /* frames held back by up to JITTER_US, the others in order, as
                                 * the wire peer's relay does; 0: every frame jitters */
};

/* Trio: a-b 2 x 8 MiB each way; c-a 2 MiB each way; b-c 3 x 512 KiB each way. Initiators (a to b,
 * c to a, b to c) use odd stream ids, responders even ones. */
static const struct stream_plan trio_plans[] = {
    {0, 1, 1, 8u << 20}, {0, 1, 3, 8u << 20}, {1, 0, 2, 8u << 20}, {1, 0, 4, 8u << 20},
    {2, 0, 1, 2u << 20}, {0, 2, 2, 2u << 20},
    {1, 2, 1, 512u << 10}, {1, 2, 3, 512u << 10}, {1, 2, 5, 512u << 10},
    {2, 1, 2, 512u << 10}, {2, 1, 4, 512u << 10}, {2, 1, 6, 512u << 10},
};
static const int trio_connects[][2] = {{0, 1}, {2, 0}, {1, 2}};

static struct stream_plan mesh_plans[PLANS_MAX];
static int mesh_connects[PLANS_MAX / 2][2];

struct plan_state {
    uint64_t sent, received;
    bool fin_sent, fin_received, intact;
    uint64_t checksum; /* FNV-1a of what arrived */
};

struct sim_node {
    struct utcp_core core;
    struct utcp_session *sessions;
    struct utcp_slot *slots;
    uint8_t mac[6];
    uint8_t neighbour_mac[NODES_MAX][6];          /* learned from authenticated frames */
    struct utcp_session *session_with[NODES_MAX]; /* established, from the core's events */
    uint64_t prng, poll_at;
    bool touched; /* a frame arrived or the MAC moved: poll now, whatever poll_at says */
    int index;
};

struct in_flight {
    uint64_t at, order;
    int ringed; /* 0: on the wire; else the index + 1 of the node whose ring holds it */
    size_t len;
    uint8_t bytes[]; /* len */
};

static const struct scenario *sc;
static struct sim_node nodes[NODES_MAX];
static int node_table[NODE_TABLE]; /* index + 1; 0: empty */
static int plan_first[NODES_MAX][NODES_MAX]; /* the first plan of (from, to), or -1 */
static struct plan_state progress[PLANS_MAX];
static size_t fins_received;
static uint64_t established_events, closed_events;
static struct in_flight **queue;
static size_t queued;
static uint64_t order_counter, now_us, wire_prng;
static unsigned loss_per_mille;
static struct wire_counts {
    uint64_t frames, lost, duplicated, unroutable, overflow, ring_full;
} wire;
/* A node's receive ring, as the NetSwitch's per-port ring in front of a guest's UTCP service: a
 * frame waits there until the node has taken the frames before it, at the scenario's rate. */
#define RX_RING 64u
static uint64_t rx_free_at[NODES_MAX];
static unsigned rx_ringed[NODES_MAX];
static uint64_t first_established_us;

/* What node 0's sender to node 1 did, in scenarios with a link rate: where its time went and how
 * long a lost frame waited for its first retransmission (the diagnosis of goodput under loss). */
#define TRACE_FRAMES (1u << 16)
static struct sender_trace {
    uint64_t window_us, cwnd_us, pacing_us, free_us;
    uint64_t first_sent_at[TRACE_FRAMES];
    uint8_t transmissions[TRACE_FRAMES];
    uint64_t resends, resent_held, resent_again, repair_wait_us, repair_wait_max_us;
} trace;

static void trace_emit(const struct sim_node *n, const uint8_t *frame) {
    if (!sc->rx_bytes_per_ms || n->index != 0 || frame[UTCP_OFF_TYPE] != UTCP_TYPE_DATA)
        return;
    uint64_t seq = utcp_get64(frame + UTCP_OFF_SEQUENCE) % TRACE_FRAMES;
    if (trace.transmissions[seq]++ == 0) {
        trace.first_sent_at[seq] = now_us;
        return;
    }
    trace.resends++;
    const struct utcp_session *peer = nodes[1].session_with[0];
    uint64_t full = utcp_get64(frame + UTCP_OFF_SEQUENCE);
    if (peer && (full <= peer->release || utcp_receiver_holds(peer, full)))
        trace.resent_held++;
    if (trace.transmissions[seq] > 2) {
        trace.resent_again++;
        return;
    }
    uint64_t wait = now_us - trace.first_sent_at[seq];
    trace.repair_wait_us += wait;
    trace.repair_wait_max_us = wait > trace.repair_wait_max_us ? wait : trace.repair_wait_max_us;
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Bytes [offset, offset + len) of plan p's stream: what the sender writes and the receiver
 * expects. Byte k is byte k % 8 of the generator's word k / 8. */
static void stream_bytes(size_t p, uint64_t offset, uint8_t *out, size_t len) {
    for (size_t i = 0; i < len;) {
        uint64_t at = offset + i, x = (uint64_t)p << 48 ^ (at >> 3);
        uint64_t word = splitmix(&x);
        for (unsigned b = at & 7; b < 8 && i < len; b++, i++)
            out[i] = (uint8_t)(word >> (8 * b));
    }
}

static const uint8_t *cellid_of(int node) { return nodes[node].core.config.identity.cellid; }

/* CellIDs are hashes: their first two bytes spread them over the table well enough. */
static unsigned node_slot(const uint8_t cellid[UTCP_CELLID_LEN]) {
    return ((unsigned)cellid[0] << 8 | cellid[1]) % NODE_TABLE;
}

static void node_table_add(int node) {
    unsigned i = node_slot(cellid_of(node));
    while (node_table[i])
        i = (i + 1) % NODE_TABLE;
    node_table[i] = node + 1;
}

static int node_of(const uint8_t cellid[UTCP_CELLID_LEN]) {
    for (unsigned i = node_slot(cellid); node_table[i]; i = (i + 1) % NODE_TABLE)
        if (memcmp(cellid_of(node_table[i] - 1), cellid, UTCP_CELLID_LEN) == 0)
            return node_table[i] - 1;
    return -1;
}

static int plan_of(int from, int to, uint16_t stream) {
    if (from < 0 || to < 0)
        return -1;
    for (int p = plan_first[from][to]; p >= 0 && (size_t)p < sc->plan_count; p++) {
        if (sc->plans[p].from != from || sc->plans[p].to != to)
            break;
        if (sc->plans[p].stream == stream)
            return p;
    }
    return -1;
}

/* ---- the switch: a heap of frames ordered by arrival time ---- */

static bool before(const struct in_flight *x, const struct in_flight *y) {
    return x->at != y->at ? x->at < y->at : x->order < y->order;
}

static void heap_push(struct in_flight *f) {
    size_t i = queued++;
    queue[i] = f;
    while (i > 0 && before(queue[i], queue[(i - 1) / 2])) {
        struct in_flight *t = queue[i];
        queue[i] = queue[(i - 1) / 2];
        queue[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct in_flight *heap_pop(void) {
    struct in_flight *top = queue[0];
    queue[0] = queue[--queued];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < queued && before(queue[l], queue[m]))
            m = l;
        if (r < queued && before(queue[r], queue[m]))
            m = r;
        if (m == i)
            break;
        struct in_flight *t = queue[i];
        queue[i] = queue[m];
        queue[m] = t;
        i = m;
    }
    return top;
}

static void wire_push(struct in_flight *f, uint64_t at) {
    f->at = at;
    f->order = order_counter++;
    heap_push(f);
}

static void wire_put(const uint8_t *eth, size_t len) {
    if (queued == QUEUE_MAX) {
        wire.overflow++;
        return;
    }
    struct in_flight *f = malloc(sizeof *f + len);
    if (!f)
        abort();
    memcpy(f->bytes, eth, len);
    f->len = len;
    f->ringed = 0;
    uint64_t jitter = splitmix(&wire_prng) % JITTER_US;
    if (sc->reorder_per_mille && splitmix(&wire_prng) % 1000 >= sc->reorder_per_mille)
        jitter = 0;
    wire_push(f, now_us + BASE_DELAY_US + jitter);
}

static void node_emit(void *ctx, const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *frame, size_t len) {
    struct sim_node *n = ctx;
    int to = node_of(peer);
    uint8_t eth[ETH_MAX];
    memcpy(eth, n->neighbour_mac[to < 0 ? 0 : to], 6);
    memcpy(eth + 6, n->mac, 6);
    eth[12] = UTCP_ETHERTYPE >> 8, eth[13] = UTCP_ETHERTYPE & 0xFF;
    memcpy(eth + UTCP_ETH_HEADER_LEN, frame, len);
    wire.frames++;
    trace_emit(n, frame);
    if (splitmix(&wire_prng) % 1000 < loss_per_mille) {
        wire.lost++;
        return;
    }
    wire_put(eth, UTCP_ETH_HEADER_LEN + len);
    if (splitmix(&wire_prng) % 100 == 0) {
        wire.duplicated++;
        wire_put(eth, UTCP_ETH_HEADER_LEN + len);
    }
}

static void node_take(struct sim_node *n, struct in_flight *f);

/* The switch hands a frame to the NIC that has its destination MAC now, or to nobody; with a
 * receive rate, the frame first waits in that node's ring (dropped when the ring is full). Returns
 * false when the frame is held for later. */
static bool wire_deliver(struct in_flight *f) {
    if (f->ringed) {
        rx_ringed[f->ringed - 1]--;
        node_take(&nodes[f->ringed - 1], f);
        return true;
    }
    for (int i = 0; i < sc->nodes; i++) {
        struct sim_node *n = &nodes[i];
        if (memcmp(f->bytes, n->mac, 6) != 0)
            continue;
        if (!sc->rx_bytes_per_ms) {
            node_take(n, f);
            return true;
        }
        if (rx_ringed[i] == RX_RING) {
            wire.ring_full++;
            return true;
        }
        rx_ringed[i]++;
        rx_free_at[i] = (rx_free_at[i] > now_us ? rx_free_at[i] : now_us) +
                        (f->len * 1000 + sc->rx_bytes_per_ms - 1) / sc->rx_bytes_per_ms;
        f->ringed = i + 1;
        wire_push(f, rx_free_at[i]);
        return false;
    }
    wire.unroutable++;
    return true;
}

static void node_take(struct sim_node *n, struct in_flight *f) {
    {
        n->touched = true;
        struct utcp_session *from;
        if (utcp_receive(&n->core, f->bytes + UTCP_ETH_HEADER_LEN, f->len - UTCP_ETH_HEADER_LEN, now_us, &from) ==
                UTCP_ACCEPTED &&
            from) {
            int peer = node_of(from->peer);
            if (peer >= 0)
                memcpy(n->neighbour_mac[peer], f->bytes + 6, 6); /* section 11: learn the MAC */
        }
    }
}

/* ---- the applications ---- */

static void node_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len) {
    struct sim_node *n = ctx;
    int p = plan_of(node_of(s->peer), n->index, stream);
    if (p < 0)
        return;
    struct plan_state *st = &progress[p];
    uint8_t want[UTCP_PLAINTEXT_MAX];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof want ? len - done : sizeof want;
        stream_bytes((size_t)p, st->received, want, n);
        st->intact &= memcmp(data + done, want, n) == 0;
        for (size_t i = 0; i < n; i++)
            st->checksum = (st->checksum ^ data[done + i]) * 0x100000001B3ull;
        st->received += n, done += n;
    }
}

static void node_fin(void *ctx, struct utcp_session *s, uint16_t stream) {
    struct sim_node *n = ctx;
    int p = plan_of(node_of(s->peer), n->index, stream);
    if (p >= 0 && !progress[p].fin_received) {
        progress[p].fin_received = true;
        fins_received++;
    }
}

static void node_event(void *ctx, struct utcp_session *s, enum utcp_event event, int reason) {
    struct sim_node *n = ctx;
    (void)reason;
    int peer = node_of(s->peer);
    if (peer < 0)
        return;
    if (event == UTCP_EVENT_ESTABLISHED) {
        if (!established_events)
            first_established_us = now_us;
        n->session_with[peer] = s;
        established_events++;
    } else {
        if (n->session_with[peer] == s)
            n->session_with[peer] = NULL;
        closed_events++;
    }
}

static void node_random(void *ctx, uint8_t *out, size_t len) {
    struct sim_node *n = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)splitmix(&n->prng);
}

static void plan_push(int node, size_t p) {
    static uint8_t chunk[64 * 1024];
    struct plan_state *st = &progress[p];
    const struct stream_plan *plan = &sc->plans[p];
    struct utcp_session *s = nodes[node].session_with[plan->to];
    if (st->fin_sent || !s)
        return;
    while (st->sent < plan->bytes) {
        size_t n = plan->bytes - st->sent < sizeof chunk ? plan->bytes - st->sent : sizeof chunk;
        size_t room = (size_t)utcp_send_room(s) * UTCP_PLAINTEXT_MAX;
        if (room == 0)
            break;
        n = n < room ? n : room;
        stream_bytes(p, st->sent, chunk, n);
        size_t taken = utcp_send(&nodes[node].core, s, plan->stream, chunk, n, now_us);
        st->sent += taken;
        if (taken < n)
            break;
    }
    if (st->sent == plan->bytes)
        st->fin_sent = utcp_finish(&nodes[node].core, s, plan->stream, now_us);
}

static void app_push(int node) {
    for (int to = 0; to < sc->nodes; to++)
        for (int p = plan_first[node][to]; p >= 0 && (size_t)p < sc->plan_count; p++) {
            if (sc->plans[p].from != node || sc->plans[p].to != to)
                break;
            plan_push(node, (size_t)p);
        }
}

/* A, b, c have the seeds of docs/utcp.md's vectors (0x00.., 0x20.., 0x40..); from the ninth
 * node on, the seed's first byte also counts eights, so no two nodes share an identity. */
static void node_seed(uint8_t seed[32], int i) {
    fixture_seed(seed, (uint8_t)(0x20 * i));
    seed[0] ^= (uint8_t)(i >> 3);
}

static void sim_setup(unsigned loss, uint64_t seed) {
    static struct utcp_slot *slots[NODES_MAX];
    static struct utcp_session *sessions[NODES_MAX];
    static size_t slots_held[NODES_MAX], sessions_held[NODES_MAX];
    loss_per_mille = loss;
    wire_prng = seed;
    now_us = order_counter = 0;
    fins_received = 0;
    established_events = closed_events = 0;
    memset(&wire, 0, sizeof wire);
    memset(rx_free_at, 0, sizeof rx_free_at);
    memset(rx_ringed, 0, sizeof rx_ringed);
    first_established_us = 0;
    memset(&trace, 0, sizeof trace);
    if (!queue && !(queue = malloc(QUEUE_MAX * sizeof *queue)))
        abort();
    for (size_t p = 0; p < sc->plan_count; p++)
        progress[p] = (struct plan_state){.intact = true, .checksum = 0xCBF29CE484222325ull};
    memset(plan_first, 0xFF, sizeof plan_first);
    for (size_t p = sc->plan_count; p-- > 0;)
        plan_first[sc->plans[p].from][sc->plans[p].to] = (int)p;
    memset(node_table, 0, sizeof node_table);
    for (int i = 0; i < sc->nodes; i++) {
        struct sim_node *n = &nodes[i];
        size_t slot_count = 2 * (size_t)sc->sessions * sc->window;
        if (slots_held[i] < slot_count) {
            free(slots[i]);
            if (!(slots[i] = calloc(slot_count, sizeof(struct utcp_slot))))
                abort();
            slots_held[i] = slot_count;
        }
        if (sessions_held[i] < (size_t)sc->sessions) {
            free(sessions[i]);
            if (!(sessions[i] = calloc((size_t)sc->sessions, sizeof(struct utcp_session))))
                abort();
            sessions_held[i] = (size_t)sc->sessions;
        }
        memset(n, 0, sizeof *n);
        n->slots = slots[i];
        n->sessions = sessions[i];
        n->index = i;
        n->prng = seed * 31 + (uint64_t)i;
        const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, (uint8_t)(i >> 8), (uint8_t)(0x0a + i)};
        memcpy(n->mac, mac, 6);
        uint8_t seed_bytes[32], public_key[32], secret_key[64];
        node_seed(seed_bytes, i);
        crypto_sign_seed_keypair(public_key, secret_key, seed_bytes);
        struct utcp_config config = {.ctx = n, .emit = node_emit, .random = node_random, .on_data = node_data,
                                     .on_fin = node_fin, .on_event = node_event};
        utcp_identity_init(&config.identity, secret_key);
        utcp_init(&n->core, &config, n->sessions, (size_t)sc->sessions, n->slots, sc->window, 0);
        node_table_add(i);
    }
    /* what a neighbour table starts with (LWF ANNOUNCEs, in Nexus) */
    for (int i = 0; i < sc->nodes; i++)
        for (int j = 0; j < sc->nodes; j++)
            memcpy(nodes[i].neighbour_mac[j], nodes[j].mac, 6);
}

/* The counts a scenario ends with: the same seeds must give the same counts. */
struct scenario_counts {
    struct wire_counts wire;
    struct utcp_session_stats sessions;
    uint64_t end_us;
    uint64_t goodput; /* bytes per simulated millisecond, from the first session up to the end */
};

/* Where node 0's sender to node 1 stands during [now_us, until): its link busy, held by the
 * peer's window (or its own send buffer, all sent), by its congestion window, or by pacing. */
static void trace_interval(uint64_t until) {
    const struct utcp_session *s = nodes[0].session_with[1];
    if (!sc->rx_bytes_per_ms || !s || until <= now_us || progress[0].fin_received)
        return;
    uint64_t span = until - now_us;
    if (s->transmit_next == s->send_next || s->transmit_next > s->peer_release + s->peer_window)
        trace.window_us += span;
    else if (s->transmit_next > s->peer_release + s->cwnd)
        trace.cwnd_us += span;
    else if (s->next_send_at > now_us)
        trace.pacing_us += span;
    else
        trace.free_us += span;
}

/* Advances simulated time to the next event: polls every node that is due or got a frame (the
 * core says when it wants polling again), then delivers what arrives by then. */
static void sim_step(void) {
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < sc->nodes; i++) {
        struct sim_node *n = &nodes[i];
        if (n->touched || n->poll_at <= now_us) {
            app_push(i);
            n->poll_at = utcp_poll(&n->core, now_us);
            n->touched = false;
        }
        next = n->poll_at < next ? n->poll_at : next;
    }
    if (queued && queue[0]->at < next)
        next = queue[0]->at;
    next = next > now_us ? next : now_us + 1;
    trace_interval(next);
    now_us = next;
    while (queued && queue[0]->at <= now_us) {
        struct in_flight *f = heap_pop();
        if (wire_deliver(f))
            free(f);
    }
}

static double wall_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check_named(const char *what, unsigned loss, bool ok) {
    char name[96];
    snprintf(name, sizeof name, "%sloss_%u_permille_%s", sc->name, loss, what);
    CHECK(name, ok);
}

/* `report`: print the counts and judge them (not when only repeating a run). */
static struct scenario_counts run_scenario(const struct scenario *which, unsigned loss, uint64_t seed, bool report) {
    sc = which;
    sim_setup(loss, seed);
    double started = wall_seconds();
    for (size_t c = 0; c < sc->connect_count; c++)
        utcp_connect(&nodes[sc->connects[c][0]].core, cellid_of(sc->connects[c][1]), 0);
    bool mac_moved = false;
    const size_t watched = 0; /* trio: a -> b, stream 1: b moves when it is half through */
    while (fins_received < sc->plan_count && now_us < SIM_LIMIT_US) {
        sim_step();
        if (sc->moves_mac && !mac_moved && progress[watched].received >= sc->plans[watched].bytes / 2) {
            nodes[1].mac[5] ^= 0x80;
            utcp_address_changed(&nodes[1].core, now_us);
            nodes[1].touched = mac_moved = true;
        }
    }
    double wall = wall_seconds() - started;
    while (queued)
        free(heap_pop());

    bool complete = fins_received == sc->plan_count, intact = true;
    uint64_t bytes = 0, checksum = 0;
    for (size_t p = 0; p < sc->plan_count; p++) {
        intact &= progress[p].intact && progress[p].received == sc->plans[p].bytes;
        bytes += progress[p].received;
        checksum ^= progress[p].checksum;
    }
    struct utcp_session_stats sum = {0};
    uint64_t drops[UTCP_DROP_CAUSES] = {0};
    size_t in_use = 0;
    for (int i = 0; i < sc->nodes; i++) {
        for (int k = 0; k < UTCP_DROP_CAUSES; k++)
            drops[k] += nodes[i].core.drops[k];
        in_use += utcp_sessions_in_use(&nodes[i].core);
        for (int s = 0; s < sc->sessions; s++) {
            const struct utcp_session_stats *st = &nodes[i].sessions[s].stats;
            sum.frames_out += st->frames_out, sum.retransmissions += st->retransmissions;
            sum.nacks_out += st->nacks_out, sum.windows_out += st->windows_out, sum.syncs_out += st->syncs_out;
            sum.probes_out += st->probes_out;
            sum.send_epochs += st->send_epochs, sum.congestion_cuts += st->congestion_cuts;
        }
    }
    uint64_t busy_us = now_us - first_established_us;
    struct scenario_counts counts = {wire, sum, now_us, busy_us ? bytes * 1000 / busy_us : 0};
    if (!report)
        return counts;
    printf("INFO utcp_sim %snodes=%d sessions=%zu streams=%zu bytes=%llu loss=%u.%u%% frames=%llu lost=%llu "
           "duplicated=%llu unroutable=%llu retransmissions=%llu nacks=%llu windows=%llu syncs=%llu probes=%llu "
           "congestion_cuts=%llu epochs=%llu sim_time_ms=%llu.%03llu checksum=%016llx\n",
           sc->name, sc->nodes, in_use / 2, sc->plan_count, (unsigned long long)bytes, loss / 10, loss % 10,
           (unsigned long long)wire.frames, (unsigned long long)wire.lost, (unsigned long long)wire.duplicated,
           (unsigned long long)wire.unroutable, (unsigned long long)sum.retransmissions,
           (unsigned long long)sum.nacks_out, (unsigned long long)sum.windows_out, (unsigned long long)sum.syncs_out,
           (unsigned long long)sum.probes_out,
           (unsigned long long)sum.congestion_cuts, (unsigned long long)sum.send_epochs,
           (unsigned long long)(now_us / 1000), (unsigned long long)(now_us % 1000), (unsigned long long)checksum);
    if (sc->rx_bytes_per_ms) {
        uint64_t repaired = trace.resends - trace.resent_again;
        printf("INFO utcp_sim %sgoodput_kB_s=%llu rx_kB_s=%u ring_full=%llu sender_ms window=%llu cwnd=%llu pacing=%llu free=%llu "
               "cwnd_end=%u srtt_end_us=%llu resends=%llu resent_held=%llu resent_again=%llu repair_wait_avg_us=%llu repair_wait_max_us=%llu\n",
               sc->name, (unsigned long long)counts.goodput, sc->rx_bytes_per_ms, (unsigned long long)wire.ring_full,
               (unsigned long long)trace.window_us / 1000, (unsigned long long)trace.cwnd_us / 1000,
               (unsigned long long)trace.pacing_us / 1000, (unsigned long long)trace.free_us / 1000,
               nodes[0].session_with[1] ? nodes[0].session_with[1]->cwnd : 0,
               (unsigned long long)(nodes[0].session_with[1] ? nodes[0].session_with[1]->srtt_us : 0),
               (unsigned long long)trace.resends, (unsigned long long)trace.resent_held, (unsigned long long)trace.resent_again,
               (unsigned long long)(repaired ? trace.repair_wait_us / repaired : 0),
               (unsigned long long)trace.repair_wait_max_us);
    }
    printf("INFO utcp_sim %sdrops:", sc->name);
    for (int k = 1; k < UTCP_DROP_CAUSES; k++)
        if (drops[k])
            printf(" %s=%llu", utcp_drop_name((enum utcp_drop)k), (unsigned long long)drops[k]);
    printf("\n");
    /* The machine's figure (never judged): how fast the host runs the cores and the switch. */
    printf("BENCH utcp_sim_%snodes=%d utcp_sim_%sframes=%llu utcp_sim_%sseconds=%.3f utcp_sim_%sframes_per_s=%.0f\n",
           sc->name, sc->nodes, sc->name, (unsigned long long)wire.frames, sc->name, wall, sc->name,
           wall > 0 ? (double)wire.frames / wall : 0.0);

    check_named("every_stream_complete", loss, complete && wire.overflow == 0);
    check_named("every_byte_intact", loss, complete && intact);
    check_named("no_forgery_causes", loss,
                drops[UTCP_DROP_AEAD] == 0 && drops[UTCP_DROP_MALFORMED] == 0 &&
                    drops[UTCP_DROP_BAD_SIGNATURE] == 0 && drops[UTCP_DROP_BAD_COOKIE] == 0 &&
                    drops[UTCP_DROP_UNKNOWN_DESTINATION] == 0);
    if (loss > 0)
        check_named("recovered_by_nack", loss, sum.retransmissions > 0 && sum.nacks_out > 0);
    if (sc->moves_mac) {
        struct utcp_session *ab = nodes[0].session_with[1], *ba = nodes[1].session_with[0];
        check_named("mac_change_survived", loss,
                    mac_moved && wire.unroutable > 0 && complete && ab && ba &&
                        memcmp(nodes[0].neighbour_mac[1], nodes[1].mac, 6) == 0);
        check_named("rekeyed_both_ways", loss,
                    ab && ba && ab->send_epoch >= 1 && ba->send_epoch >= 1 && ab->recv_epoch == ba->send_epoch &&
                        ba->recv_epoch == ab->send_epoch);
    } else {
        /* every pair's session came up once, on both sides, and none closed */
        size_t pairs = (size_t)sc->nodes * (size_t)(sc->nodes - 1) / 2;
        check_named("every_pair_one_session", loss,
                    sc->connect_count == pairs && established_events == 2 * pairs && closed_events == 0 &&
                        in_use == 2 * pairs);
    }
    return counts;
}

/* The mesh: every pair once, the initiator alternating so each node starts about half of its
 * sessions; each direction one stream (the initiator's odd, the responder's even id) of a length
 * that differs from pair to pair and is rarely a whole number of frames. */
static struct scenario mesh_scenario(int count) {
    static char name[16];
    snprintf(name, sizeof name, "mesh%d_", count);
    size_t plans = 0, connects = 0;
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++) {
            bool i_starts = (i + j) % 2 == 1;
            mesh_connects[connects][0] = i_starts ? i : j;
            mesh_connects[connects][1] = i_starts ? j : i;
            connects++;
        }
    for (int from = 0; from < count; from++)
        for (int to = 0; to < count; to++) {
            if (from == to)
                continue;
            bool initiator = ((from + to) % 2 == 1) == (from < to);
            uint64_t mix = (uint64_t)(from * NODES_MAX + to) * 0x9E3779B97F4A7C15ull;
            mesh_plans[plans++] = (struct stream_plan){from, to, initiator ? 1 : 2, (8u << 10) + (mix >> 40) % (48u << 10)};
        }
    return (struct scenario){name, count, count - 1, 16, mesh_plans, plans, mesh_connects, connects, false, 0, 0};
}

int main(void) {
    check_suite = "utcp_sim";
    if (sodium_init() < 0)
        return 1;
    const struct scenario trio = {"", 3, 4, 256, trio_plans, sizeof trio_plans / sizeof trio_plans[0],
                                  trio_connects, sizeof trio_connects / sizeof trio_connects[0], true, 0, 0};
    const unsigned losses[] = {0, 10, 50}; /* per mille: 0 %, 1 %, 5 % */
    struct scenario_counts first[3];
    for (size_t i = 0; i < sizeof losses / sizeof losses[0]; i++)
        first[i] = run_scenario(&trio, losses[i], 0x5EED0000u + i, true);
    struct scenario_counts again = run_scenario(&trio, losses[1], 0x5EED0001u, false);
    CHECK("same_seeds_same_counts", memcmp(&again, &first[1], sizeof again) == 0);

    /* Goodput: a and b, one session with the service's 128-frame windows, 16 MiB each way at once
     * over 100 Mbit/s links, as qemu_utcp's bench does between two QEMU nodes. */
    static const struct stream_plan pair_plans[] = {{0, 1, 1, 16u << 20}, {1, 0, 2, 16u << 20}};
    static const int pair_connects[][2] = {{0, 1}};
    const struct scenario pair = {"pair_", 2, 1, 128, pair_plans, 2, pair_connects, 1, false, 12500, 10};
    struct scenario_counts paired[3];
    for (size_t i = 0; i < sizeof losses / sizeof losses[0]; i++)
        paired[i] = run_scenario(&pair, losses[i], 0x5EED0100u + i, true);
    uint64_t kept = paired[0].goodput ? paired[2].goodput * 100 / paired[0].goodput : 0;
    printf("INFO utcp_sim pair_goodput_at_5pct_of_lossless=%llu%%\n", (unsigned long long)kept);
    /* the aim of issue 15: random loss of 5 % costs less than 30 % of the goodput */
    CHECK("pair_5pct_loss_keeps_70pct_of_lossless_goodput", kept >= 70);

    const struct scenario mesh = mesh_scenario(NODES_MAX);
    run_scenario(&mesh, 50, 0x5EED0064u, true);
    return check_exit();
}
