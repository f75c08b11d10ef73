/*
 * The host node's wire side (node.h): a UDP socket standing for a NIC, and the LWF rules of the
 * guest's service (lwf/service/wire.c, peers.c) over the same core (lwf/). Every datagram that
 * does not end as an accepted frame is counted under exactly one cause.
 */
#define _GNU_SOURCE /* ppoll */
#include "node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "identity/keyfile.h"

#define SOLICIT_EVERY_MS 1000
#define ANSWER_EVERY_MS 1000
/* Fragments leave in bursts with a pause between: a guest verifies each one's signature
 * (~0.5 ms under TCG), and its NIC queue is finite. */
#define FRAGMENT_BURST 16
#define FRAGMENT_PAUSE_US 2000
#define SOCKET_BUFFER (1 << 20) /* several 64 KiB messages in flight while we work */

static const char *const host_drop_names[] = {
    [NODE_DROP_OTHER_ETHERTYPE - LWF_DROP_CAUSES] = "other_ethertype",
    [NODE_DROP_OTHER_MAC - LWF_DROP_CAUSES]       = "other_mac",
    [NODE_DROP_STRAY - LWF_DROP_CAUSES]           = "stray",
    [NODE_DROP_PEER_TABLE_FULL - LWF_DROP_CAUSES] = "peer_table_full",
    [NODE_DROP_NO_SERVICE - LWF_DROP_CAUSES]      = "no_service",
};

const char *node_drop_name(enum node_drop cause) {
    if ((unsigned)cause < LWF_DROP_CAUSES)
        return lwf_drop_name((enum lwf_drop)cause);
    return (unsigned)cause < NODE_DROP_CAUSES ? host_drop_names[cause - LWF_DROP_CAUSES] : "unknown";
}

uint64_t node_now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

uint64_t node_now_ms(void) { return node_now_us() / 1000u; }

void node_cellid_hex(const uint8_t cellid[LWF_CELLID_LEN], char out[2 * LWF_CELLID_LEN + 1]) {
    for (unsigned i = 0; i < LWF_CELLID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", cellid[i]);
}

bool node_parse_cellid(const char *text, uint8_t cellid[LWF_CELLID_LEN]) {
    size_t bin_len;
    return strlen(text) == 2 * LWF_CELLID_LEN &&
           sodium_hex2bin(cellid, LWF_CELLID_LEN, text, strlen(text), NULL, &bin_len, NULL) == 0 &&
           bin_len == LWF_CELLID_LEN;
}

bool node_parse_mac(const char *text, uint8_t mac[LWF_MAC_LEN]) {
    unsigned v[LWF_MAC_LEN];
    char end;
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
        return false;
    for (unsigned i = 0; i < LWF_MAC_LEN; i++)
        mac[i] = (uint8_t)v[i];
    return !(mac[0] & 1); /* a multicast MAC cannot be a NIC's */
}

static int derive_public(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
    int err = crypto_sign_seed_keypair(public_key, secret, seed);
    sodium_memzero(secret, sizeof secret);
    return err;
}

/* The key file into secret[] (libsodium's seed || public key); false with the reason said. */
static bool read_key_file(const char *path, uint8_t secret[LWF_SECRET_KEY_LEN]) {
    uint8_t file[KEYFILE_LEN + 1]; /* one more: a longer file is not a key file */
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "lwf-node: cannot open key file %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t len = fread(file, 1, sizeof file, f);
    fclose(f);
    struct keyfile k;
    int err = keyfile_read(file, len, derive_public, &k);
    sodium_memzero(file, sizeof file);
    if (err != KEYFILE_OK) {
        fprintf(stderr, "lwf-node: %s is not a key file: %s\n", path, keyfile_strerror(err));
        return false;
    }
    uint8_t public_key[LWF_PUBLIC_KEY_LEN];
    crypto_sign_seed_keypair(public_key, secret, k.seed);
    sodium_memzero(&k, sizeof k);
    return true;
}

static void receive_lwf(struct node *n, const uint8_t *eth, size_t len, void *ctx);

static bool open_socket(struct node *n, uint16_t local_port) {
    n->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (n->fd < 0) {
        perror("lwf-node: socket");
        return false;
    }
    int size = SOCKET_BUFFER;
    setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(n->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(local_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(n->fd, (struct sockaddr *)&local, sizeof local) != 0) {
        fprintf(stderr, "lwf-node: cannot bind 127.0.0.1:%u: %s\n", local_port, strerror(errno));
        close(n->fd);
        return false;
    }
    return true;
}

bool node_open(struct node *n, const char *key_path, const uint8_t *mac, uint16_t local_port,
               uint16_t remote_port) {
    memset(n, 0, sizeof *n);
    n->fd = -1;
    if (sodium_init() < 0) {
        fprintf(stderr, "lwf-node: libsodium does not start\n");
        return false;
    }
    uint8_t secret[LWF_SECRET_KEY_LEN], public_key[LWF_PUBLIC_KEY_LEN];
    if (key_path && !read_key_file(key_path, secret))
        return false;
    if (!key_path)
        crypto_sign_keypair(public_key, secret);
    n->persistent = key_path != NULL;
    uint8_t chosen_mac[LWF_MAC_LEN] = {0x02};
    if (mac)
        memcpy(chosen_mac, mac, LWF_MAC_LEN);
    lwf_node_init(&n->me, &n->key, secret, chosen_mac);
    sodium_memzero(secret, sizeof secret);
    if (!mac) { /* needs the CellID, which needs the key */
        memcpy(n->me.mac + 1, n->me.cellid, LWF_MAC_LEN - 1);
    }
    if (!open_socket(n, local_port))
        return false;
    n->remote_port = remote_port;
    /* docs/lwf.md, section 8: a restarted node continues above the sequences peers saw. */
    n->next_sequence = (uint64_t)time(NULL) << 32 | 1;
    randombytes_buf(&n->next_message_id, sizeof n->next_message_id);
    lwf_reassembly_init(&n->reassembly, n->slots, NODE_REASSEMBLY_SLOTS, &n->buffers[0][0],
                        NODE_REASSEMBLY_PER_PEER);
    node_add_protocol(n, LWF_ETHERTYPE, receive_lwf, NULL);
    return true;
}

void node_close(struct node *n) {
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    sodium_memzero(&n->key, sizeof n->key);
}

bool node_transmit(struct node *n, const uint8_t *frame, size_t len) {
    if (len == 0) /* never an empty datagram: QEMU's dgram netdev stops receiving after one */
        return false;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(n->remote_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (;;) {
        if (sendto(n->fd, frame, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len) {
            n->counters.tx_frames++;
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            struct pollfd p = {.fd = n->fd, .events = POLLOUT};
            poll(&p, 1, 100);
            continue;
        }
        /* ECONNREFUSED: nobody listens on the remote port yet (the relay or QEMU starts later). */
        n->counters.tx_errors++;
        return false;
    }
}

static void announce(struct node *n, const struct lwf_peer *to, bool solicit) {
    uint8_t frame[LWF_ETH_HEADER_LEN + LWF_FRAME_MAX];
    size_t len = lwf_build_announce(&n->me, to, n->next_sequence++, solicit, frame, sizeof frame);
    if (node_transmit(n, frame, len))
        n->counters.announces_sent++;
}

void node_solicit(struct node *n, bool force) {
    uint64_t now = node_now_ms();
    if (!force && n->last_solicit_ms && now - n->last_solicit_ms < SOLICIT_EVERY_MS)
        return;
    n->last_solicit_ms = now;
    announce(n, NULL, true);
}

struct node_peer *node_peer(struct node *n, const uint8_t cellid[LWF_CELLID_LEN]) {
    for (unsigned i = 0; i < n->npeers; i++)
        if (!memcmp(n->peers[i].core.cellid, cellid, LWF_CELLID_LEN))
            return &n->peers[i];
    return NULL;
}

static struct lwf_peer *lookup(void *table, const uint8_t cellid[LWF_CELLID_LEN]) {
    struct node_peer *p = node_peer(table, cellid);
    return p ? &p->core : NULL;
}

static struct node_peer *peer_of(struct lwf_peer *core) {
    return (struct node_peer *)((uint8_t *)core - offsetof(struct node_peer, core));
}

/* cause: an enum lwf_drop or an enum node_drop, one counter array for both */
static void count_drop(struct node *n, unsigned cause) { n->counters.drops[cause]++; }

static void accepted_announce(struct node *n, const struct lwf_received *r, uint64_t now) {
    struct node_peer *p = r->peer ? peer_of(r->peer) : NULL;
    if (!p) {
        if (n->npeers == NODE_PEERS_MAX) {
            count_drop(n, NODE_DROP_PEER_TABLE_FULL);
            return;
        }
        p = &n->peers[n->npeers];
        memset(p, 0, sizeof *p);
        if (!lwf_peer_init(&p->core, &n->me, r->announce_public_key, r->announce_mac, r->view.header.sequence)) {
            count_drop(n, LWF_DROP_BAD_SIGNATURE); /* a key libsodium cannot convert: refused */
            return;
        }
        n->npeers++;
        if (n->new_peer)
            n->new_peer(n, p, n->ctx);
    }
    n->counters.announces_accepted++;
    p->last_seen_ms = now;
    p->frames_in++;
    if (r->solicit && (p->answered_ms == 0 || now - p->answered_ms >= ANSWER_EVERY_MS)) {
        p->answered_ms = now ? now : 1;
        announce(n, &p->core, false);
    }
}

static void deliver(struct node *n, const struct lwf_header *h, const uint8_t *data, size_t len) {
    struct node_message m = {h->src, h->service, h->src_service, data, len};
    if (n->deliver && n->deliver(n, &m, n->ctx))
        n->counters.delivered++;
    else
        count_drop(n, NODE_DROP_NO_SERVICE);
}

static void accepted_data(struct node *n, const struct lwf_received *r, const uint8_t *plain, uint64_t now) {
    struct node_peer *p = peer_of(r->peer);
    p->last_seen_ms = now;
    p->frames_in++;
    const struct lwf_header *h = &r->view.header;
    if (!(h->flags & LWF_FLAG_FRAGMENTED)) {
        deliver(n, h, plain, r->plain_len);
        return;
    }
    struct lwf_message done;
    enum lwf_drop drop = lwf_reassembly_offer(&n->reassembly, h, plain, r->plain_len, now, &done);
    if (drop != LWF_ACCEPTED) {
        count_drop(n, drop);
        p->drops++;
    } else if (done.data) {
        deliver(n, h, done.data, done.len);
    }
}

static void dropped(struct node *n, enum lwf_drop cause, const struct lwf_received *r) {
    count_drop(n, cause);
    if (cause <= LWF_DROP_CRC)
        return; /* the header was not read */
    struct node_peer *p = node_peer(n, r->view.header.src);
    if (p)
        p->drops++;
    else if (cause == LWF_DROP_UNKNOWN_SENDER && r->view.header.type == LWF_TYPE_DATA)
        node_solicit(n, false); /* a node we do not know yet (or that restarted): ask it to announce */
}

static bool for_this_nic(const struct node *n, const uint8_t *eth) {
    return (eth[0] & 1) || !memcmp(eth, n->me.mac, LWF_MAC_LEN); /* broadcast/multicast, or ours */
}

static void receive_lwf(struct node *n, const uint8_t *eth, size_t len, void *ctx) {
    (void)ctx;
    static uint8_t plain[LWF_PLAINTEXT_MAX];
    uint64_t now = node_now_ms();
    struct lwf_received r;
    enum lwf_drop drop = lwf_receive(&n->me, eth, len, lookup, n, plain, &r);
    if (drop != LWF_ACCEPTED)
        dropped(n, drop, &r);
    else if (r.view.header.type == LWF_TYPE_ANNOUNCE)
        accepted_announce(n, &r, now);
    else
        accepted_data(n, &r, plain, now);
}

bool node_add_protocol(struct node *n, uint16_t ethertype, node_frame_fn take, void *ctx) {
    if (n->nprotocols == NODE_PROTOCOLS_MAX)
        return false;
    n->protocols[n->nprotocols++] = (struct node_protocol){ethertype, take, ctx};
    return true;
}

static void receive_frame(struct node *n, const uint8_t *eth, size_t len) {
    n->counters.rx_frames++;
    const struct node_protocol *p = NULL;
    for (unsigned i = 0; len >= LWF_ETH_HEADER_LEN && i < n->nprotocols && !p; i++)
        if (n->protocols[i].ethertype == (eth[12] << 8 | eth[13]))
            p = &n->protocols[i];
    if (!p)
        count_drop(n, NODE_DROP_OTHER_ETHERTYPE);
    else if (!for_this_nic(n, eth))
        count_drop(n, NODE_DROP_OTHER_MAC);
    else
        p->take(n, eth, len, p->ctx);
}

void node_poll(struct node *n, uint64_t timeout_us) {
    static uint8_t datagram[LWF_ETH_HEADER_LEN + LWF_MESSAGE_MAX]; /* QEMU's frames are <= 64 KiB */
    struct pollfd p = {.fd = n->fd, .events = POLLIN};
    /* microseconds: UTCP paces its frames well below a millisecond apart */
    struct timespec wait = {.tv_sec = (time_t)(timeout_us / 1000000u), .tv_nsec = (long)(timeout_us % 1000000u) * 1000};
    if (ppoll(&p, 1, &wait, NULL) > 0) {
        for (;;) {
            struct sockaddr_in from;
            socklen_t from_len = sizeof from;
            ssize_t len = recvfrom(n->fd, datagram, sizeof datagram, 0, (struct sockaddr *)&from, &from_len);
            if (len < 0)
                break; /* EAGAIN: all taken */
            if (from.sin_addr.s_addr != htonl(INADDR_LOOPBACK) || from.sin_port != htons(n->remote_port))
                count_drop(n, NODE_DROP_STRAY);
            else
                receive_frame(n, datagram, (size_t)len);
        }
    }
    n->counters.drops[LWF_DROP_FRAGMENT_TIMEOUT] += lwf_reassembly_expire(&n->reassembly, node_now_ms());
}

int node_send(struct node *n, const uint8_t dst[LWF_CELLID_LEN], uint16_t service, uint16_t src_service,
              const uint8_t *msg, size_t len) {
    if (len > LWF_MESSAGE_MAX)
        return -EMSGSIZE;
    struct node_peer *p = node_peer(n, dst);
    if (!p) {
        node_solicit(n, false);
        return -EHOSTUNREACH;
    }
    struct lwf_data_frame spec = {.service = service, .src_service = src_service, .fragment_count = 1};
    if (len > LWF_PLAINTEXT_MAX) {
        spec.fragment_count = (uint16_t)((len + LWF_CHUNK_LEN - 1) / LWF_CHUNK_LEN);
        spec.message_id = ++n->next_message_id ? n->next_message_id : ++n->next_message_id;
    }
    uint8_t frame[LWF_ETH_HEADER_LEN + LWF_FRAME_MAX];
    for (uint16_t i = 0; i < spec.fragment_count; i++) {
        size_t at = spec.fragment_count > 1 ? (size_t)i * LWF_CHUNK_LEN : 0;
        size_t chunk = spec.fragment_count > 1 && len - at > LWF_CHUNK_LEN ? LWF_CHUNK_LEN : len - at;
        spec.fragment_index = i;
        spec.sequence = n->next_sequence++;
        randombytes_buf(spec.nonce, sizeof spec.nonce);
        size_t flen = lwf_build_data(&n->me, &p->core, &spec, msg + at, chunk, frame, sizeof frame);
        if (!node_transmit(n, frame, flen))
            return -EIO;
        p->frames_out++;
        if (i + 1 < spec.fragment_count && (i + 1) % FRAGMENT_BURST == 0)
            usleep(FRAGMENT_PAUSE_US);
    }
    n->counters.tx_messages++;
    return 0;
}

void node_print_counters(const struct node *n, FILE *out) {
    const struct node_counters *c = &n->counters;
    fprintf(out,
            "counters rx_frames=%llu tx_frames=%llu tx_messages=%llu tx_errors=%llu announces_sent=%llu "
            "announces_accepted=%llu delivered=%llu peers=%u\n",
            (unsigned long long)c->rx_frames, (unsigned long long)c->tx_frames,
            (unsigned long long)c->tx_messages, (unsigned long long)c->tx_errors,
            (unsigned long long)c->announces_sent, (unsigned long long)c->announces_accepted,
            (unsigned long long)c->delivered, n->npeers);
    fprintf(out, "drops");
    for (unsigned cause = 1; cause < NODE_DROP_CAUSES; cause++)
        fprintf(out, " %s=%llu", node_drop_name((enum node_drop)cause), (unsigned long long)c->drops[cause]);
    fprintf(out, "\n");
    fflush(out);
}
