/*
 * The signer's loop and operations (signer.h). Every request is copied out of the client's slot
 * once, checked field by field (request.c) and only then acted on; a reply is one fixed-size
 * struct. The signer keeps no state per client but the start of each domain's sequence numbers.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "link/server.h"
#include "nexus.h"
#include "signer.h"

#define IDLE_WAIT_MS 1000
#define NS_PER_S 1000000000ull

static struct signer_keys keys;
static uint64_t last_sequence_start[SIGN_DOMAIN_COUNT];
static bool sequence_started[SIGN_DOMAIN_COUNT];

/* docs/lwf.md, section 8: a sender starts its sequence numbers at seconds << 32 | 1. A sender
 * that restarts within the second of its previous start would reuse numbers its peers saw, so
 * each start gets a second later than the last one handed out for its domain (the sender waits
 * until the clock reaches it: the numbers never run ahead of the clock, so a reboot, which
 * forgets this table, cannot reuse them either). Without a clock the seconds count starts. */
static uint64_t sequence_start(uint8_t domain) {
    long now = nx_realtime_ns();
    uint64_t start = now > 0 ? (uint64_t)now / NS_PER_S : 0;
    if (sequence_started[domain] && start <= last_sequence_start[domain])
        start = last_sequence_start[domain] + 1;
    sequence_started[domain] = true;
    last_sequence_start[domain] = start;
    return start;
}

/* The bytes Ed25519 signs for a domain (nexus/signproto.h): LWF's as they are, UTCP's after
 * its tag. */
static bool sign(const struct sign_request *r, uint8_t signature[SIGN_SIGNATURE_LEN]) {
    static const char utcp_tag[] = SIGN_UTCP_TAG;
    static uint8_t tagged[sizeof utcp_tag - 1 + SIGN_MESSAGE_MAX];
    if (r->domain == SIGN_DOMAIN_LWF)
        return lwf_sign_message(keys.secret_key, r->message, r->len, signature);
    memcpy(tagged, utcp_tag, sizeof utcp_tag - 1);
    memcpy(tagged + sizeof utcp_tag - 1, r->message, r->len);
    return lwf_sign_message(keys.secret_key, tagged, sizeof utcp_tag - 1 + r->len, signature);
}

static long act(const struct sign_request *r, struct sign_reply *out) {
    switch (r->op) {
    case SIGN_OP_IDENTITY:
        out->kind = keys.kind;
        memcpy(out->public_key, keys.public_key, sizeof out->public_key);
        memcpy(out->cellid, keys.cellid, sizeof out->cellid);
        return 0;
    case SIGN_OP_SEQUENCE_START:
        out->sequence_start = sequence_start(r->domain);
        return 0;
    case SIGN_OP_SIGN:
        return sign(r, out->signature) ? 0 : -EIO;
    case SIGN_OP_PAIRWISE:
        return lwf_pairwise_derive(keys.secret_key, keys.cellid, r->public_key, out->key) ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static int check(const struct nxs_msg *m) { return sign_link_check(m); }

static long handle(unsigned link, uint32_t slot, struct nxs_msg *m, uint8_t *data) {
    (void)link, (void)slot;
    static struct sign_request request;
    struct sign_reply reply = {.magic = SIGN_REPLY_MAGIC};
    memcpy(&request, data, sizeof request); /* the client can still write its slot: use the copy */
    long result = sign_request_check(&request, keys.cellid);
    reply.op = request.op;
    if (result == 0)
        result = act(&request, &reply);
    if (result == 0) {
        memcpy(data, &reply, sizeof reply);
        m->len = sizeof reply;
    }
    sodium_memzero(&reply, sizeof reply); /* a pairwise key leaves through the slot only */
    return result;
}

static void app_restarted(unsigned link) { (void)link; }
static uint32_t no_status(unsigned link, int k) { return (void)link, (void)k, 0; }

static const struct link_service signer_service = {
    .magic = SIGN_LINK_MAGIC, .check = check, .handle = handle, .app_restarted = app_restarted, .status = no_status,
};

int main(void) {
    uint8_t probe;
    if (nx_entropy(&probe, 1) == -ENODEV) {
        /* Keys and nonces need fresh randomness: without an RNG there is no safe LWF. Exiting 0
         * tells the supervisor not to restart a service that cannot run on this machine. */
        printf("signer: this machine has no entropy source (virtio-rng): no key is made and nothing is signed\n");
        nx_bus_set("/Bus/lwf/identity", "none: no entropy source (virtio-rng)");
        return 0;
    }
    if (!keys_load(&keys))
        return 1;
    char cellid[2 * LWF_CELLID_LEN + 1];
    for (unsigned i = 0; i < LWF_CELLID_LEN; i++)
        snprintf(cellid + 2 * i, 3, "%02x", keys.cellid[i]);
    unsigned clients = link_server_attach(&signer_service);
    printf("signer: CellID %s (%s), %u client link(s)\n", cellid, sign_kind_text(keys.kind), clients);
    uint64_t wait_mask = link_server_wait_mask();
    for (;;) {
        unsigned work = link_server_poll();
        link_server_flush();
        if (work)
            continue;
        if (link_server_sleep_prepare())
            nx_wait_any(wait_mask, NX_MS(IDLE_WAIT_MS));
    }
}
