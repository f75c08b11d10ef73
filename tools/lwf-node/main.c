/*
 * lwf-node: a Linux host on the LWF wire (docs/lwf.md, "The host node") that speaks UTCP on the
 * same port with the same identity (docs/utcp.md, "The host node"). It always announces, answers
 * solicits, runs the echo service (7) and answers UTCP handshakes; the command says what else
 * it does:
 *
 *   lwf-node --dgram LOCAL:REMOTE [--key FILE] [--mac MAC] [--seconds S] [--wait-peer S] [--timeout MS] COMMAND
 *     serve                          until --seconds pass, or SIGINT/SIGTERM
 *     ping CELLID [COUNT [SIZES]]    COUNT messages of each SIZE (8..65536; a comma list: 16,300,65536)
 *                                    to CELLID's echo service
 *     send CELLID SERVICE FILE|-     one message (a file, or stdin; <= 65536 bytes) to a service
 *     recv SERVICE FILE|-            waits (--seconds, default 30) for one message on SERVICE
 *     utcp-cat CELLID STREAM [BYTES [BACK [PARALLEL]]]
 *                                    as the guest's utcpcat: PARALLEL UTCP connections to CELLID's
 *                                    STREAM, each sending BYTES and asking BACK, checked both ways
 *     utcp-sink [STREAM]             as the guest's utcpsink on STREAM (default 9), until --seconds
 *                                    pass, or SIGINT/SIGTERM
 *
 * Output is one line per event, `word key=value ...`, for scripts and tests; on exit (and on
 * SIGUSR1) the counters and every drop by cause. Exit status: 0 done, 1 failed (lost or damaged
 * echoes, no peer, nothing received), 2 bad arguments.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "utcp_node.h"

#define SERVICE_ECHO 7
#define EPHEMERAL_FIRST 49152u /* the client's own service: where echoes come back */
#define PING_SIZE_MIN 8        /* the sequence number and room for a pattern */
#define POLL_MS 100
#define UTCP_SINK_STREAM 9 /* the guest's utcpsink's */

static struct node node; /* 256 KiB of reassembly buffers: not on the stack */
static volatile sig_atomic_t stop_requested, counters_requested;

struct options {
    const char *key, *mac;
    uint16_t local_port, remote_port;
    double seconds, wait_peer;
    int timeout_ms;
};

/* What the client side of the program waits for: set by deliver(). */
static struct {
    uint16_t service;         /* 0: none bound */
    uint8_t *buffer;          /* LWF_MESSAGE_MAX bytes */
    size_t len;
    uint8_t src[LWF_CELLID_LEN];
    uint16_t src_service;
    bool arrived;
} client;

static void on_signal(int sig) {
    if (sig == SIGUSR1)
        counters_requested = 1;
    else
        stop_requested = 1;
}

static bool deliver(struct node *n, const struct node_message *m, void *ctx) {
    (void)ctx;
    if (m->service == SERVICE_ECHO) {
        if (m->src_service == 0)
            return false; /* nowhere to answer */
        int err = node_send(n, m->src, m->src_service, SERVICE_ECHO, m->data, m->len);
        if (err)
            fprintf(stderr, "lwf-node: echo: %s\n", strerror(-err));
        return err == 0;
    }
    if (client.service == 0 || m->service != client.service || client.arrived)
        return false;
    memcpy(client.buffer, m->data, m->len);
    client.len = m->len;
    memcpy(client.src, m->src, LWF_CELLID_LEN);
    client.src_service = m->src_service;
    client.arrived = true;
    return true;
}

static void print_mac(FILE *out, const uint8_t *m) {
    fprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void new_peer(struct node *n, const struct node_peer *p, void *ctx) {
    (void)n, (void)ctx;
    char id[2 * LWF_CELLID_LEN + 1];
    node_cellid_hex(p->core.cellid, id);
    printf("peer cellid=%s mac=", id);
    print_mac(stdout, p->core.mac);
    printf("\n");
    fflush(stdout);
}

/* One poll step: UTCP's streams and timers, frames in, the operator's signals. */
static void step(int timeout_ms, FILE *counters_out) {
    uint64_t now = node_now_us();
    utcp_cat_pump(now);
    uint64_t due = utcp_node_timers(now), wait = (uint64_t)timeout_ms * 1000u;
    node_poll(&node, due <= now ? 0 : due - now < wait ? due - now : wait);
    if (counters_requested) {
        counters_requested = 0;
        node_print_counters(&node, counters_out);
        utcp_node_print_counters(counters_out);
    }
}

static bool wait_for_peer(const uint8_t cellid[LWF_CELLID_LEN], double seconds) {
    uint64_t deadline = node_now_ms() + (uint64_t)(seconds * 1000);
    while (!node_peer(&node, cellid) && node_now_ms() < deadline && !stop_requested) {
        node_solicit(&node, false);
        step(POLL_MS, stdout);
    }
    return node_peer(&node, cellid) != NULL;
}

static int serve(const struct options *o) {
    uint64_t deadline = o->seconds > 0 ? node_now_ms() + (uint64_t)(o->seconds * 1000) : UINT64_MAX;
    while (!stop_requested && node_now_ms() < deadline)
        step(POLL_MS, stdout);
    return 0;
}

static void fill(uint8_t *buf, uint32_t seq, size_t size) {
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(seq * 31 + i * 7);
    memcpy(buf, &seq, sizeof seq);
}

/* 1 intact, 0 damaged, -1 no answer in time: the answer to `seq`, late ones to earlier skipped. */
static int await_echo(const uint8_t *sent, uint32_t seq, size_t size, int timeout_ms) {
    uint64_t deadline = node_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (client.arrived) {
            client.arrived = false;
            uint32_t got;
            if (client.len >= sizeof got) {
                memcpy(&got, client.buffer, sizeof got);
                if (got == seq)
                    return client.len == size && !memcmp(client.buffer, sent, size);
            }
        }
        uint64_t now = node_now_ms();
        if (now >= deadline || stop_requested)
            return -1;
        step((int)(deadline - now < POLL_MS ? deadline - now : POLL_MS), stdout);
    }
}

static int ping(const struct options *o, const uint8_t cellid[LWF_CELLID_LEN], unsigned count,
                const unsigned long *sizes, unsigned nsizes) {
    static uint8_t out[LWF_MESSAGE_MAX];
    char id[2 * LWF_CELLID_LEN + 1];
    node_cellid_hex(cellid, id);
    if (!wait_for_peer(cellid, o->wait_peer)) {
        printf("ping cellid=%s error=no_announce_in_%gs\n", id, o->wait_peer);
        return 1;
    }
    unsigned answered = 0, intact = 0;
    double best = -1, worst = 0, total = 0;
    for (uint32_t seq = 1; seq <= count * nsizes && !stop_requested; seq++) {
        size_t size = sizes[(seq - 1) / count];
        fill(out, seq, size);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int err = node_send(&node, cellid, SERVICE_ECHO, client.service, out, size);
        if (err) {
            printf("ping cellid=%s seq=%u error=%s\n", id, seq, strerror(-err));
            continue;
        }
        int r = await_echo(out, seq, size, o->timeout_ms);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (r < 0) {
            printf("timeout cellid=%s seq=%u wait_ms=%d\n", id, seq, o->timeout_ms);
            continue;
        }
        answered++;
        intact += (unsigned)r;
        total += ms;
        best = best < 0 || ms < best ? ms : best;
        worst = ms > worst ? ms : worst;
        printf("reply cellid=%s seq=%u bytes=%zu rtt_ms=%.3f %s\n", id, seq, size, ms, r ? "intact" : "damaged");
        fflush(stdout);
    }
    printf("ping cellid=%s sent=%u answered=%u intact=%u rtt_min_ms=%.3f rtt_avg_ms=%.3f rtt_max_ms=%.3f\n", id,
           count * nsizes, answered, intact, best < 0 ? 0 : best, answered ? total / answered : 0, worst);
    return intact == count * nsizes ? 0 : 1;
}

static int send_file(const struct options *o, const uint8_t cellid[LWF_CELLID_LEN], uint16_t service,
                     const char *path) {
    static uint8_t msg[LWF_MESSAGE_MAX + 1];
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "lwf-node: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t len = fread(msg, 1, sizeof msg, f);
    if (f != stdin)
        fclose(f);
    if (len > LWF_MESSAGE_MAX) {
        fprintf(stderr, "lwf-node: %s is longer than one LWF message (%u bytes)\n", path, LWF_MESSAGE_MAX);
        return 2;
    }
    char id[2 * LWF_CELLID_LEN + 1];
    node_cellid_hex(cellid, id);
    if (!wait_for_peer(cellid, o->wait_peer)) {
        printf("send cellid=%s error=no_announce_in_%gs\n", id, o->wait_peer);
        return 1;
    }
    uint64_t frames = node.counters.tx_frames;
    int err = node_send(&node, cellid, service, client.service, msg, len);
    if (err) {
        printf("send cellid=%s error=%s\n", id, strerror(-err));
        return 1;
    }
    printf("sent cellid=%s service=%u bytes=%zu frames=%llu\n", id, service, len,
           (unsigned long long)(node.counters.tx_frames - frames));
    /* Stay a moment: the peer may solicit or ask again while it takes the message in. */
    uint64_t linger_until = node_now_ms() + 500;
    while (node_now_ms() < linger_until && !stop_requested)
        step(POLL_MS, stdout);
    return 0;
}

static int recv_file(const struct options *o, const char *path) {
    FILE *counters_out = strcmp(path, "-") ? stdout : stderr;
    uint64_t deadline = node_now_ms() + (uint64_t)((o->seconds > 0 ? o->seconds : 30) * 1000);
    while (!client.arrived && !stop_requested && node_now_ms() < deadline)
        step(POLL_MS, counters_out);
    if (!client.arrived) {
        fprintf(counters_out, "recv service=%u error=nothing_arrived\n", client.service);
        return 1;
    }
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f || fwrite(client.buffer, 1, client.len, f) != client.len || (f != stdout && fclose(f) != 0)) {
        fprintf(stderr, "lwf-node: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fflush(f);
    char id[2 * LWF_CELLID_LEN + 1];
    node_cellid_hex(client.src, id);
    fprintf(counters_out, "received from=%s service=%u src_service=%u bytes=%zu\n", id, client.service,
            client.src_service, client.len);
    return 0;
}

static int utcp_cat(const uint8_t cellid[UTCP_CELLID_LEN], uint16_t stream, uint64_t bytes, uint64_t back,
                    unsigned parallel) {
    if (!utcp_cat_connect(cellid, stream, bytes, back, parallel, node_now_us())) {
        printf("utcp-cat error=no_free_session\n");
        return 1;
    }
    while (utcp_cat_pump(node_now_us()) && !stop_requested)
        step(POLL_MS, stdout);
    return utcp_cat_intact() ? 0 : 1;
}

static int utcp_sink(const struct options *o, uint16_t stream) {
    utcp_cat_listen(stream);
    printf("utcp-sink listening stream=%u\n", stream);
    fflush(stdout);
    return serve(o);
}

static bool parse_number(const char *text, unsigned long max, unsigned long *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || v > max || text[0] == '-')
        return false;
    *out = v;
    return true;
}

/* "16,300,65536": each 8..65536, at most max of them. */
static bool parse_sizes(const char *text, unsigned long *sizes, unsigned max, unsigned *n) {
    char copy[128], *save = NULL;
    if (strlen(text) >= sizeof copy)
        return false;
    strcpy(copy, text);
    *n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max || !parse_number(t, LWF_MESSAGE_MAX, &sizes[*n]) || sizes[*n] < PING_SIZE_MIN)
            return false;
        (*n)++;
    }
    return *n > 0;
}

static int usage(const char *why) {
    fprintf(stderr,
            "lwf-node: %s\n"
            "usage: lwf-node --dgram LOCAL:REMOTE [--key FILE] [--mac MAC] [--seconds S] [--wait-peer S]\n"
            "                [--timeout MS] COMMAND\n"
            "  serve                        announce, answer, echo (service 7) until --seconds or a signal\n"
            "  ping CELLID [COUNT [SIZES]]  echo round trips (default 4 of 64 bytes; SIZES 8..65536, a comma list)\n"
            "  send CELLID SERVICE FILE|-   one message of up to 65536 bytes to a service of CELLID\n"
            "  recv SERVICE FILE|-          wait for one message on SERVICE (--seconds, default 30)\n"
            "  utcp-cat CELLID STREAM [BYTES [BACK [PARALLEL]]]\n"
            "                               UTCP connections (1..%d, default 1) to CELLID's STREAM, each sending\n"
            "                               BYTES (default 65536) and asking BACK (default 0), checked both ways\n"
            "  utcp-sink [STREAM]           serve UTCP connections on STREAM (default 9) as a guest's utcpsink\n"
            "The wire: bind 127.0.0.1:LOCAL, send to 127.0.0.1:REMOTE (QEMU -netdev dgram's two ports, swapped).\n",
            why, UTCP_NODE_SESSIONS);
    return 2;
}

static bool parse_dgram(const char *text, struct options *o) {
    char local[8], remote[8], end;
    unsigned long l, r;
    if (sscanf(text, "%7[0-9]:%7[0-9]%c", local, remote, &end) != 2 || !parse_number(local, 65535, &l) ||
        !parse_number(remote, 65535, &r) || r == 0)
        return false;
    o->local_port = (uint16_t)l;
    o->remote_port = (uint16_t)r;
    return true;
}

/* Options first; returns the index of the command, or -1 after usage(). */
static int parse_options(int argc, char **argv, struct options *o) {
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long v;
        if (!value)
            return usage("an option without its value"), -1;
        if (!strcmp(name, "--dgram")) {
            if (!parse_dgram(value, o))
                return usage("--dgram wants LOCAL:REMOTE, two port numbers"), -1;
        } else if (!strcmp(name, "--key")) {
            o->key = value;
        } else if (!strcmp(name, "--mac")) {
            o->mac = value;
        } else if (!strcmp(name, "--seconds") || !strcmp(name, "--wait-peer")) {
            char *end;
            double d = strtod(value, &end);
            if (*end || end == value || d < 0)
                return usage("a number of seconds is wanted"), -1;
            *(name[2] == 's' ? &o->seconds : &o->wait_peer) = d;
        } else if (!strcmp(name, "--timeout")) {
            if (!parse_number(value, 600000, &v) || v == 0)
                return usage("--timeout wants milliseconds, 1..600000"), -1;
            o->timeout_ms = (int)v;
        } else {
            return usage("unknown option"), -1;
        }
    }
    if (!o->remote_port)
        return usage("--dgram LOCAL:REMOTE is required"), -1;
    if (i >= argc)
        return usage("no command"), -1;
    return i;
}

int main(int argc, char **argv) {
    struct options o = {.wait_peer = 10, .timeout_ms = 5000};
    int c = parse_options(argc, argv, &o);
    if (c < 0)
        return 2;
    const char *command = argv[c];
    char **args = argv + c + 1;
    int nargs = argc - c - 1;
    uint8_t cellid[LWF_CELLID_LEN], mac[LWF_MAC_LEN];
    unsigned long count = 4, sizes[16] = {64}, service = 0, stream = UTCP_SINK_STREAM, bytes = 65536, back = 0,
                  parallel = 1;
    unsigned nsizes = 1;
    bool ok;
    if (!strcmp(command, "serve"))
        ok = nargs == 0;
    else if (!strcmp(command, "ping"))
        ok = nargs >= 1 && nargs <= 3 && node_parse_cellid(args[0], cellid) &&
             (nargs < 2 || parse_number(args[1], 1000000, &count)) && count > 0 &&
             (nargs < 3 || parse_sizes(args[2], sizes, sizeof sizes / sizeof sizes[0], &nsizes));
    else if (!strcmp(command, "send"))
        ok = nargs == 3 && node_parse_cellid(args[0], cellid) && parse_number(args[1], 65535, &service) && service;
    else if (!strcmp(command, "recv"))
        ok = nargs == 2 && parse_number(args[0], 65535, &service) && service && service != SERVICE_ECHO;
    else if (!strcmp(command, "utcp-cat"))
        ok = nargs >= 2 && nargs <= 5 && node_parse_cellid(args[0], cellid) && parse_number(args[1], 65535, &stream) &&
             stream && (nargs < 3 || parse_number(args[2], ULONG_MAX, &bytes)) &&
             (nargs < 4 || parse_number(args[3], ULONG_MAX, &back)) &&
             (nargs < 5 || parse_number(args[4], UTCP_NODE_SESSIONS, &parallel)) && parallel;
    else if (!strcmp(command, "utcp-sink"))
        ok = nargs <= 1 && (nargs < 1 || parse_number(args[0], 65535, &stream)) && stream;
    else
        return usage("unknown command");
    if (!ok)
        return usage("bad arguments for the command (CELLID: 32 hex digits; SERVICE, STREAM: 1..65535, not 7 for recv)");
    if (o.mac && !node_parse_mac(o.mac, mac))
        return usage("--mac wants a unicast MAC, six hex bytes with colons");

    static uint8_t client_buffer[LWF_MESSAGE_MAX];
    client.buffer = client_buffer;
    if (!node_open(&node, o.key, o.mac ? mac : NULL, o.local_port, o.remote_port))
        return 1;
    client.service = !strcmp(command, "recv") ? (uint16_t)service
                                              : (uint16_t)(EPHEMERAL_FIRST + (uint32_t)getpid() % 16384u);
    utcp_node_start(&node);
    node.deliver = deliver;
    node.new_peer = new_peer;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    char id[2 * LWF_CELLID_LEN + 1];
    node_cellid_hex(node.me.cellid, id);
    FILE *info = !strcmp(command, "recv") && !strcmp(args[1], "-") ? stderr : stdout;
    fprintf(info, "node cellid=%s mac=", id);
    print_mac(info, node.me.mac);
    fprintf(info, " identity=%s local=%u remote=%u\n", node.persistent ? "persistent" : "ephemeral", o.local_port,
            o.remote_port);
    fflush(info);
    node_solicit(&node, true); /* who is out there: every node answers with its own ANNOUNCE */

    int status;
    if (!strcmp(command, "serve"))
        status = serve(&o);
    else if (!strcmp(command, "ping"))
        status = ping(&o, cellid, (unsigned)count, sizes, nsizes);
    else if (!strcmp(command, "send"))
        status = send_file(&o, cellid, (uint16_t)service, args[2]);
    else if (!strcmp(command, "recv"))
        status = recv_file(&o, args[1]);
    else if (!strcmp(command, "utcp-cat"))
        status = utcp_cat(cellid, (uint16_t)stream, bytes, back, (unsigned)parallel);
    else
        status = utcp_sink(&o, (uint16_t)stream);
    node_print_counters(&node, info);
    utcp_node_print_counters(info);
    node_close(&node);
    return status;
}
