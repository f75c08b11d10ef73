/*
 * Test service for one NetSwitch port (argv[1] = a tag of at most 8 bytes, e.g. "utcp").
 * It proves the frame path from user mode until the real Membrane/UTCP/LWF exist:
 *  - every received frame is answered with a frame to its sender, same EtherType, whose
 *    payload is the 8-byte tag followed by the received frame's bytes exactly as read in the
 *    pool (the wire peer checks route and bytes);
 *  - the first frame's handle, offset and the address it was read at go to /Bus, so the kernel
 *    can check it is the very memory the device wrote (zero copy);
 *  - control frames (payload starting with a keyword) drive the tests: "PAUSE" stops reading
 *    for 2 s (so a flood overruns the ring), "BADTX" sends one frame of an EtherType this port
 *    is not granted, "BADPART" five frames in parts the kernel must refuse (below), "FINISH" tells the kernel runner the harness is done, "SINK" stops
 *    answering (for frame-rate measurements), "HOARD" keeps every RX buffer it reads, the HOARD
 *    frame's included, unanswered for 4 s and then gives them all back, publishing how many it
 *    held in /Bus/test/netsvc/TAG/hoarded (a service that drains the pool: the kernel must stop
 *    it at its RX budget while the other ports keep receiving).
 */
#include <stdio.h>
#include <string.h>

#include "nexus.h"
#include "port/port.h"

#define TAG_LEN 8
#define ETH_HDR NEXUS_ETH_HDR_LEN
#define FRAME_MAX NEXUS_ETH_FRAME_MAX
#define BATCH 32
#define HOARD_NS NX_MS(4000)

static struct port port;
static char tag[TAG_LEN + 1];
static char evidence_key[64], hoarded_key[64];
static int evidence_done, sink_mode;
static unsigned long answered;
static uint32_t hoard[NEXUS_ION_RX_BUFS];
static uint32_t hoarded;
static uint64_t hoard_until; /* nx_clock_ns() at which the hoard goes back; 0 when not hoarding */

/* Takes a TX buffer (waiting for one to come back if all are in flight). */
static uint8_t *tx_buffer(uint32_t *handle) {
    while (port_tx_take(&port, handle) != 0)
        nx_wait(port_channel(&port), NX_MS(10));
    return port_buffer(&port, *handle);
}

static void answer(const uint8_t *frame, uint32_t len, uint16_t ethertype) {
    uint32_t h;
    uint8_t *out = tx_buffer(&h);
    memcpy(out, frame + 6, 6);        /* to the sender */
    memcpy(out + 6, port.info.mac, 6);     /* the kernel sets this anyway */
    out[12] = (uint8_t)(ethertype >> 8);
    out[13] = (uint8_t)ethertype;
    memcpy(out + ETH_HDR, tag, TAG_LEN);
    uint32_t copy = len;
    if (ETH_HDR + TAG_LEN + copy > FRAME_MAX)
        copy = FRAME_MAX - ETH_HDR - TAG_LEN;
    memcpy(out + ETH_HDR + TAG_LEN, frame, copy);
    port_send(&port, h, (uint16_t)(ETH_HDR + TAG_LEN + copy));
    answered++;
}

/* Frames in parts (NEXUS_ION_TX_MORE) of a granted EtherType that the kernel must refuse, each
 * counted in tx_refused_handle: a second part in link 0, which another fiber serves; a first
 * part alone (its buffer comes back); a second part alone (it names no buffer); a link part that
 * says another follows when none does; three link parts, one more than a frame may have. */
static void send_bad_parts(const uint8_t *frame) {
    uint32_t h[4];
    for (int i = 0; i < 4; i++) {
        uint8_t *out = tx_buffer(&h[i]);
        memcpy(out, frame + 6, 6);
        memcpy(out + 6, port.info.mac, 6);
        memcpy(out + 12, frame + 12, 2);
        memset(out + ETH_HDR, 0, 50);
    }
    const uint16_t first_len = (uint16_t)((ETH_HDR + 50) | NEXUS_ION_TX_MORE);
    struct ion_desc foreign = {NEXUS_ION_TX_LINK(0, 0), 0x4000, 64};
    port_send_parts(&port, h[0], 0, ETH_HDR + 50, &foreign, 1);
    port_flush(&port);
    port_send_at(&port, h[1], 0, first_len);
    port_flush(&port);
    port_send_at(&port, NEXUS_ION_TX_LINK(0, 0), 0x4000, 64);
    port_flush(&port);
    port_send_at(&port, h[2], 0, first_len);
    port_send_at(&port, NEXUS_ION_TX_LINK(0, 0), 0x4000, 64 | NEXUS_ION_TX_MORE);
    port_flush(&port);
    port_send_at(&port, h[3], 0, first_len);
    for (int i = 0; i < 3; i++)
        port_send_at(&port, NEXUS_ION_TX_LINK(0, 0), (uint16_t)(0x4000 + 64 * i), (uint16_t)(64 | (i < 2 ? NEXUS_ION_TX_MORE : 0)));
    port_flush(&port);
}

static int payload_is(const uint8_t *frame, uint32_t len, const char *word) {
    size_t n = strlen(word);
    return len >= ETH_HDR + n && memcmp(frame + ETH_HDR, word, n) == 0;
}

static void record_evidence(const struct ion_desc *d, const uint8_t *frame) {
    char value[64];
    snprintf(value, sizeof value, "%u %u %#lx", d->handle, d->offset, (unsigned long)(uintptr_t)frame);
    nx_bus_set(evidence_key, value);
    evidence_done = 1;
}

static void handle_frame(const struct ion_desc *d) {
    const uint8_t *frame = port_buffer(&port, d->handle) + d->offset;
    uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
    if (!evidence_done)
        record_evidence(d, frame);
    if (hoard_until)
        return;
    if (payload_is(frame, d->length, "HOARD")) {
        hoard_until = nx_clock_ns() + HOARD_NS;
        return;
    }
    if (payload_is(frame, d->length, "PAUSE")) {
        nx_sleep_ns(NX_MS(2000));
    } else if (payload_is(frame, d->length, "BADTX")) {
        /* The Membrane's types for the others, UTCP's for the Membrane: never granted. */
        answer(frame, d->length, port.info.port == 0 ? 0x88B5 : 0x0800);
        return;
    } else if (payload_is(frame, d->length, "BADPART")) {
        send_bad_parts(frame);
        return;
    } else if (payload_is(frame, d->length, "FINISH")) {
        nx_bus_set("/Bus/test/nettest/finish", "1");
    } else if (payload_is(frame, d->length, "SINK")) {
        sink_mode = 1;
        return;
    }
    if (!sink_mode)
        answer(frame, d->length, type);
}

/* Keeps an RX buffer while hoarding; 0 if it is not kept (the caller returns it). */
static int keep(uint32_t handle) {
    if (!hoard_until || hoarded == NEXUS_ION_RX_BUFS)
        return 0;
    hoard[hoarded++] = handle;
    return 1;
}

static void release_hoard_when_due(void) {
    if (!hoard_until || nx_clock_ns() < hoard_until)
        return;
    char value[16];
    snprintf(value, sizeof value, "%u", hoarded);
    nx_bus_set(hoarded_key, value);
    while (hoarded)
        port_return(&port, hoard[--hoarded]);
    hoard_until = 0;
    port_flush(&port);
}

int main(int argc, char **argv) {
    if (argc < 2 || port_attach(&port) != 0) {
        printf("netsvc: no port (argc %d)\n", argc);
        return 1;
    }
    snprintf(tag, sizeof tag, "%-8s", argv[1]);
    snprintf(evidence_key, sizeof evidence_key, "/Bus/test/netsvc/%s/rx_evidence", argv[1]);
    snprintf(hoarded_key, sizeof hoarded_key, "/Bus/test/netsvc/%s/hoarded", argv[1]);
    printf("netsvc %s: port %u, channel %u, %u tx buffers\n", argv[1], port.info.port, port.info.channel,
           port.info.tx_count);
    for (;;) {
        struct ion_desc d[BATCH];
        uint32_t n = port_receive(&port, d, BATCH);
        for (uint32_t i = 0; i < n; i++) {
            handle_frame(&d[i]);
            if (!keep(d[i].handle))
                port_return(&port, d[i].handle);
        }
        port_flush(&port);
        release_hoard_when_due();
        if (n)
            continue;
        if (port_sleep_prepare(&port))
            nx_wait(port_channel(&port), hoard_until ? NX_MS(100) : NX_MS(1000));
    }
}
