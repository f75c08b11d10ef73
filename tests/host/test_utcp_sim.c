/*
 * A deterministic simulation of UTCP (docs/utcp.md sections 8-11): three cores joined by an
 * in-memory Ethernet switch that loses (0 %, 1 %, 5 %), duplicates and reorders frames with a
 * seeded generator and delivers by destination MAC. Every pair of nodes holds a session with
 * several streams each way (16 MiB each way between a and b); every byte is checked against the
 * generator that wrote it. Halfway, b's MAC changes (its sessions must go on) and the a-b session
 * rekeys on its own (16 MiB is more than 8192 frames). Counts are printed as INFO lines; they
 * depend on the seeds only, never on the machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "utcp.h"
#include "utcp_fixture.h"

#define NODES        3
#define SESSIONS     4
#define WINDOW       256
#define QUEUE_MAX    16384
#define ETH_MAX      (UTCP_ETH_HEADER_LEN + UTCP_FRAME_MAX)
#define BASE_DELAY_US 500u
#define JITTER_US    300u
#define SIM_LIMIT_US (600ull * 1000000)

struct stream_plan {
    int from, to;
    uint16_t stream;
    uint64_t bytes;
};

/* Who sends what: a-b 2 x 8 MiB each way; c-a 2 MiB each way; b-c 3 x 512 KiB each way.
 * Initiators (a to b, c to a, b to c) use odd stream ids, responders even ones. */
static const struct stream_plan plans[] = {
    {0, 1, 1, 8u << 20}, {0, 1, 3, 8u << 20}, {1, 0, 2, 8u << 20}, {1, 0, 4, 8u << 20},
    {2, 0, 1, 2u << 20}, {0, 2, 2, 2u << 20},
    {1, 2, 1, 512u << 10}, {1, 2, 3, 512u << 10}, {1, 2, 5, 512u << 10},
    {2, 1, 2, 512u << 10}, {2, 1, 4, 512u << 10}, {2, 1, 6, 512u << 10},
};
#define PLANS (sizeof plans / sizeof plans[0])
static const int connects[][2] = {{0, 1}, {2, 0}, {1, 2}};

struct plan_state {
    uint64_t sent, received;
    bool fin_sent, fin_received, intact;
    uint64_t checksum; /* FNV-1a of what arrived */
};

struct sim_node {
    struct utcp_core core;
    struct utcp_session sessions[SESSIONS];
    struct utcp_slot *slots;
    uint8_t mac[6];
    uint8_t neighbour_mac[NODES][6]; /* learned from authenticated frames */
    uint64_t prng;
    int index;
};

struct in_flight {
    uint64_t at, order;
    size_t len;
    uint8_t bytes[ETH_MAX];
};

static struct sim_node nodes[NODES];
static struct plan_state progress[PLANS];
static struct in_flight *queue[QUEUE_MAX];
static size_t queued;
static uint64_t order_counter, now_us, wire_prng;
static unsigned loss_per_mille;
static struct wire_counts {
    uint64_t frames, lost, duplicated, unroutable, overflow;
} wire;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The byte at `offset` of plan p's stream: what the sender writes and the receiver expects. */
static uint8_t stream_byte(size_t p, uint64_t offset) {
    uint64_t x = (uint64_t)p << 48 ^ (offset >> 3);
    return (uint8_t)(splitmix(&x) >> (8 * (offset & 7)));
}

static int node_of(const uint8_t cellid[UTCP_CELLID_LEN]) {
    for (int i = 0; i < NODES; i++)
        if (memcmp(nodes[i].core.config.identity.cellid, cellid, UTCP_CELLID_LEN) == 0)
            return i;
    return -1;
}

static int plan_of(int from, int to, uint16_t stream) {
    for (size_t p = 0; p < PLANS; p++)
        if (plans[p].from == from && plans[p].to == to && plans[p].stream == stream)
            return (int)p;
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

static void wire_put(const uint8_t *eth, size_t len) {
    if (queued == QUEUE_MAX) {
        wire.overflow++;
        return;
    }
    struct in_flight *f = malloc(sizeof *f);
    if (!f)
        abort();
    memcpy(f->bytes, eth, len);
    f->len = len;
    f->at = now_us + BASE_DELAY_US + splitmix(&wire_prng) % JITTER_US;
    f->order = order_counter++;
    heap_push(f);
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

/* The switch hands a frame to the NIC that has its destination MAC now, or to nobody. */
static void wire_deliver(struct in_flight *f) {
    for (int i = 0; i < NODES; i++) {
        struct sim_node *n = &nodes[i];
        if (memcmp(f->bytes, n->mac, 6) != 0)
            continue;
        struct utcp_session *from;
        if (utcp_receive(&n->core, f->bytes + UTCP_ETH_HEADER_LEN, f->len - UTCP_ETH_HEADER_LEN, now_us, &from) ==
                UTCP_ACCEPTED &&
            from) {
            int peer = node_of(from->peer);
            if (peer >= 0)
                memcpy(n->neighbour_mac[peer], f->bytes + 6, 6); /* section 11: learn the MAC */
        }
        return;
    }
    wire.unroutable++;
}

/* ---- the applications ---- */

static void node_data(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len) {
    struct sim_node *n = ctx;
    int p = plan_of(node_of(s->peer), n->index, stream);
    if (p < 0)
        return;
    struct plan_state *st = &progress[p];
    for (size_t i = 0; i < len; i++) {
        st->intact &= data[i] == stream_byte((size_t)p, st->received + i);
        st->checksum = (st->checksum ^ data[i]) * 0x100000001B3ull;
    }
    st->received += len;
}

static void node_fin(void *ctx, struct utcp_session *s, uint16_t stream) {
    struct sim_node *n = ctx;
    int p = plan_of(node_of(s->peer), n->index, stream);
    if (p >= 0)
        progress[p].fin_received = true;
}

static void node_random(void *ctx, uint8_t *out, size_t len) {
    struct sim_node *n = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)splitmix(&n->prng);
}

static struct utcp_session *session_to(struct sim_node *n, int peer) {
    for (int i = 0; i < SESSIONS; i++)
        if (n->sessions[i].state == UTCP_ESTABLISHED &&
            memcmp(n->sessions[i].peer, nodes[peer].core.config.identity.cellid, UTCP_CELLID_LEN) == 0)
            return &n->sessions[i];
    return NULL;
}

static void app_push(int node) {
    static uint8_t chunk[64 * 1024];
    for (size_t p = 0; p < PLANS; p++) {
        struct plan_state *st = &progress[p];
        struct utcp_session *s;
        if (plans[p].from != node || st->fin_sent || !(s = session_to(&nodes[node], plans[p].to)))
            continue;
        while (st->sent < plans[p].bytes) {
            size_t n = plans[p].bytes - st->sent < sizeof chunk ? plans[p].bytes - st->sent : sizeof chunk;
            size_t room = (size_t)utcp_send_room(s) * UTCP_PLAINTEXT_MAX;
            if (room == 0)
                break;
            n = n < room ? n : room;
            for (size_t i = 0; i < n; i++)
                chunk[i] = stream_byte(p, st->sent + i);
            size_t taken = utcp_send(&nodes[node].core, s, plans[p].stream, chunk, n, now_us);
            st->sent += taken;
            if (taken < n)
                break;
        }
        if (st->sent == plans[p].bytes)
            st->fin_sent = utcp_finish(&nodes[node].core, s, plans[p].stream, now_us);
    }
}

static bool all_done(void) {
    for (size_t p = 0; p < PLANS; p++)
        if (!progress[p].fin_received)
            return false;
    return true;
}

static void sim_setup(unsigned loss, uint64_t seed) {
    static struct utcp_slot *slots[NODES];
    loss_per_mille = loss;
    wire_prng = seed;
    now_us = order_counter = 0;
    memset(&wire, 0, sizeof wire);
    for (size_t p = 0; p < PLANS; p++)
        progress[p] = (struct plan_state){.intact = true, .checksum = 0xCBF29CE484222325ull};
    for (int i = 0; i < NODES; i++) {
        struct sim_node *n = &nodes[i];
        if (!slots[i] && !(slots[i] = calloc(2 * SESSIONS * WINDOW, sizeof(struct utcp_slot))))
            abort();
        memset(n, 0, sizeof *n);
        n->slots = slots[i];
        n->index = i;
        n->prng = seed * 31 + (uint64_t)i;
        const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, (uint8_t)(0x0a + i)};
        memcpy(n->mac, mac, 6);
        uint8_t seed_bytes[32], public_key[32], secret_key[64];
        fixture_seed(seed_bytes, (uint8_t)(0x20 * i));
        crypto_sign_seed_keypair(public_key, secret_key, seed_bytes);
        struct utcp_config config = {.ctx = n, .emit = node_emit, .random = node_random, .on_data = node_data,
                                     .on_fin = node_fin};
        utcp_identity_init(&config.identity, secret_key);
        utcp_init(&n->core, &config, n->sessions, SESSIONS, n->slots, WINDOW, 0);
    }
    /* what a neighbour table starts with (LWF ANNOUNCEs, in Nexus) */
    for (int i = 0; i < NODES; i++)
        for (int j = 0; j < NODES; j++)
            memcpy(nodes[i].neighbour_mac[j], nodes[j].mac, 6);
}

struct sim_result {
    bool complete, intact, mac_moved, mac_learned, rekeyed, clean;
    uint64_t sessions_stats[9], drops[UTCP_DROP_CAUSES];
};

/* The counts a scenario ends with: the same seeds must give the same counts. */
struct scenario_counts {
    struct wire_counts wire;
    struct utcp_session_stats sessions;
    uint64_t end_us;
};

/* `report`: print the counts and judge them (not when only repeating a run). */
static struct scenario_counts run_scenario(unsigned loss, uint64_t seed, bool report) {
    sim_setup(loss, seed);
    for (size_t c = 0; c < sizeof connects / sizeof connects[0]; c++)
        utcp_connect(&nodes[connects[c][0]].core, nodes[connects[c][1]].core.config.identity.cellid, 0);
    bool mac_moved = false;
    const size_t watched = 0; /* a -> b, stream 1: b moves when it is half through */
    while (!all_done() && now_us < SIM_LIMIT_US) {
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < NODES; i++) {
            app_push(i);
            uint64_t d = utcp_poll(&nodes[i].core, now_us);
            next = d < next ? d : next;
        }
        if (!mac_moved && progress[watched].received >= plans[watched].bytes / 2) {
            nodes[1].mac[5] ^= 0x80;
            utcp_address_changed(&nodes[1].core, now_us);
            mac_moved = true;
        }
        if (queued && queue[0]->at < next)
            next = queue[0]->at;
        now_us = next > now_us ? next : now_us + 1;
        while (queued && queue[0]->at <= now_us) {
            struct in_flight *f = heap_pop();
            wire_deliver(f);
            free(f);
        }
    }
    while (queued)
        free(heap_pop());

    bool complete = all_done(), intact = true;
    for (size_t p = 0; p < PLANS; p++)
        intact &= progress[p].intact && progress[p].received == plans[p].bytes;
    struct utcp_session_stats sum = {0};
    uint64_t drops[UTCP_DROP_CAUSES] = {0};
    for (int i = 0; i < NODES; i++) {
        for (int k = 0; k < UTCP_DROP_CAUSES; k++)
            drops[k] += nodes[i].core.drops[k];
        for (int s = 0; s < SESSIONS; s++) {
            const struct utcp_session_stats *st = &nodes[i].sessions[s].stats;
            sum.frames_out += st->frames_out, sum.retransmissions += st->retransmissions;
            sum.nacks_out += st->nacks_out, sum.windows_out += st->windows_out, sum.syncs_out += st->syncs_out;
            sum.send_epochs += st->send_epochs, sum.congestion_cuts += st->congestion_cuts;
        }
    }
    struct utcp_session *ab = session_to(&nodes[0], 1), *ba = session_to(&nodes[1], 0);
    uint64_t checksum = 0;
    for (size_t p = 0; p < PLANS; p++)
        checksum ^= progress[p].checksum;
    struct scenario_counts counts = {wire, sum, now_us};
    if (!report)
        return counts;
    printf("INFO utcp_sim loss=%u.%u%% frames=%llu lost=%llu duplicated=%llu unroutable=%llu retransmissions=%llu "
           "nacks=%llu windows=%llu syncs=%llu congestion_cuts=%llu epochs=%llu sim_time_ms=%llu.%03llu "
           "checksum=%016llx\n",
           loss / 10, loss % 10, (unsigned long long)wire.frames, (unsigned long long)wire.lost,
           (unsigned long long)wire.duplicated, (unsigned long long)wire.unroutable,
           (unsigned long long)sum.retransmissions, (unsigned long long)sum.nacks_out,
           (unsigned long long)sum.windows_out, (unsigned long long)sum.syncs_out,
           (unsigned long long)sum.congestion_cuts, (unsigned long long)sum.send_epochs,
           (unsigned long long)(now_us / 1000), (unsigned long long)(now_us % 1000), (unsigned long long)checksum);
    printf("INFO utcp_sim drops:");
    for (int k = 1; k < UTCP_DROP_CAUSES; k++)
        if (drops[k])
            printf(" %s=%llu", utcp_drop_name((enum utcp_drop)k), (unsigned long long)drops[k]);
    printf("\n");

    char name[64];
    snprintf(name, sizeof name, "loss_%u_permille_every_stream_complete", loss);
    CHECK(name, complete && wire.overflow == 0);
    snprintf(name, sizeof name, "loss_%u_permille_every_byte_intact", loss);
    CHECK(name, complete && intact);
    snprintf(name, sizeof name, "loss_%u_permille_mac_change_survived", loss);
    CHECK(name, mac_moved && wire.unroutable > 0 && complete && ab && ba &&
                    memcmp(nodes[0].neighbour_mac[1], nodes[1].mac, 6) == 0);
    snprintf(name, sizeof name, "loss_%u_permille_rekeyed_both_ways", loss);
    CHECK(name, ab && ba && ab->send_epoch >= 1 && ba->send_epoch >= 1 && ab->recv_epoch == ba->send_epoch &&
                    ba->recv_epoch == ab->send_epoch);
    snprintf(name, sizeof name, "loss_%u_permille_no_forgery_causes", loss);
    CHECK(name, drops[UTCP_DROP_AEAD] == 0 && drops[UTCP_DROP_MALFORMED] == 0 &&
                    drops[UTCP_DROP_BAD_SIGNATURE] == 0 && drops[UTCP_DROP_BAD_COOKIE] == 0 &&
                    drops[UTCP_DROP_UNKNOWN_DESTINATION] == 0);
    if (loss > 0) {
        snprintf(name, sizeof name, "loss_%u_permille_recovered_by_nack", loss);
        CHECK(name, sum.retransmissions > 0 && sum.nacks_out > 0);
    }
    return counts;
}

int main(void) {
    check_suite = "utcp_sim";
    if (sodium_init() < 0)
        return 1;
    const unsigned losses[] = {0, 10, 50}; /* per mille: 0 %, 1 %, 5 % */
    struct scenario_counts first[3];
    for (size_t i = 0; i < sizeof losses / sizeof losses[0]; i++)
        first[i] = run_scenario(losses[i], 0x5EED0000u + i, true);
    struct scenario_counts again = run_scenario(losses[1], 0x5EED0001u, false);
    CHECK("same_seeds_same_counts", memcmp(&again, &first[1], sizeof again) == 0);
    return check_exit();
}
