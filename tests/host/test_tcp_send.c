/*
 * Zero-copy TX (lwip/tcp_send.h, lwip/tx_buffers.h) through the Membrane's real send path:
 * lwIP with the Membrane's options, the real netif and port over the fake kernel end of a port
 * (tests/fuzz/fake_port.h), whose "device" sends at the next kick. A connection accepted from a
 * client gets bulk data: each full segment leaves from the TX buffer its payload was lent in,
 * the client sees the stream byte for byte, a retransmission carries the same bytes (copied
 * whole while a slow device still holds the buffer), a segment lwIP made of two writes goes out
 * copied, a second connection finding the loans used up is copied as before, and every lent
 * buffer comes back when the client acknowledges or the connection is aborted.
 *
 * Then the same from a link's send area (lwip/send_area.h): chunks an app filled leave as
 * two-part frames (headers from a TX buffer, payload from the link), stay held until the client
 * acknowledges them and the device gives the frame back, a held chunk cannot be sent again, an
 * app that rewrites a chunk it sent changes only the payload, and an abort frees every chunk.
 *
 * Then pure ACKs that arrive in one batch (lwip/rx_ack_coalesce.h): in slow start lwIP sees
 * each, once it counts acknowledged bytes only the last of a connection's, and duplicate ACKs
 * always.
 *
 * Last, a connection's first flight (lwip/tcp_initial_window.h): ten segments with RFC 6928's
 * window, applied at the first send as the Membrane's sockets do; not widened while data is in
 * flight; and lwIP's three after a SYN-ACK that had to be sent again.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "client_frames.h"
#include "fake_port.h"
#include "frame_repair.h"
#include "lwip/init.h"
#include "lwip/mem.h"
#include "lwip/stats.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif_ion.h"
#include "nexus/link.h"
#include "send_area.h"
#include "tcp_initial_window.h"
#include "tcp_send.h"
#include "tx_buffers.h"
#include "user_net.h"

#define HTTP_PORT 80
#define CLIENT_PORT 40000
#define CLIENT_ISN 1000u
#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 20
#define FLAG_SYN 0x02
#define FLAG_RST 0x04
#define FLAG_ACK 0x10
#define STREAM_MAX (256 * 1024)

static uint32_t now_ms = 1000;
static uint32_t random_state = 0x2545f491u;
static struct netif nic;
static uint8_t pattern[STREAM_MAX];

/* Per client port (CLIENT_PORT + i): the connection, and what the client received, the stream
 * by offset from the guest's first data byte. The checks talk to `cur`. */
#define CLIENTS 5
static struct stream {
    struct tcp_pcb *pcb;
    int initial_window_allowed; /* as the accept callback found it (tcp_initial_window.h) */
    uint32_t synack_seq, data_frames, highest;
    int mismatch;
} streams[CLIENTS], *cur = &streams[0];
static unsigned resets;

u32_t sys_now(void) { return now_ms; }

unsigned int membrane_random32(void) {
    random_state ^= random_state << 13, random_state ^= random_state >> 17, random_state ^= random_state << 5;
    return random_state;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static void on_tx(const uint8_t *frame, uint32_t len) {
    if (len < ETH_LEN + IP_LEN + TCP_LEN || frame[12] != 0x08 || frame[13] != 0x00 || frame[ETH_LEN + 9] != 6)
        return;
    const uint8_t *ip = frame + ETH_LEN, *tcp = ip + (ip[0] & 0x0f) * 4;
    uint32_t ip_total = (uint32_t)(ip[2] << 8 | ip[3]), hdr = (uint32_t)(tcp - ip) + (tcp[12] >> 4) * 4u;
    unsigned port = (unsigned)(tcp[2] << 8 | tcp[3]);
    if (port < CLIENT_PORT || port >= CLIENT_PORT + CLIENTS)
        return;
    struct stream *st = &streams[port - CLIENT_PORT];
    if (tcp[13] & FLAG_SYN)
        st->synack_seq = be32(tcp + 4);
    if (tcp[13] & FLAG_RST)
        resets++;
    if (ip_total <= hdr || ip_total > len - ETH_LEN)
        return;
    uint32_t at = be32(tcp + 4) - (st->synack_seq + 1), n = ip_total - hdr;
    st->data_frames++;
    if (at + n > STREAM_MAX || memcmp(tcp + (hdr - (uint32_t)(tcp - ip)), pattern + at, n) != 0)
        st->mismatch = 1;
    if (at + n > st->highest)
        st->highest = at + n;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    if (pcb->remote_port >= CLIENT_PORT && pcb->remote_port < CLIENT_PORT + CLIENTS) {
        streams[pcb->remote_port - CLIENT_PORT].pcb = pcb;
        streams[pcb->remote_port - CLIENT_PORT].initial_window_allowed = tcp_initial_window_allowed(pcb);
    }
    return ERR_OK;
}

static void step(void) {
    ion_netif_poll(&nic);
    sys_check_timeouts();
    ion_netif_flush();
}

/* A segment from the client to the guest's :80 (no payload), checksums made right. */
static void client_sends(uint32_t seq, uint32_t ack, uint8_t flags) {
    uint8_t f[CLIENT_FRAME_MAX] = {0};
    const struct client_segment seg = {user_net_client_ip, 0, (uint16_t)(CLIENT_PORT + (cur - streams)), seq, ack,
                                       flags, flags & FLAG_SYN ? 1460 : 0, NULL};
    uint32_t len = client_tcp_frame(f, &seg);
    frame_repair(NULL, f, len);
    fake_port_deliver(f, len);
    step();
}

static void client_acks(uint32_t bytes) {
    client_sends(CLIENT_ISN + 1, cur->synack_seq + 1 + bytes, FLAG_ACK);
}

/* Acknowledges what the client saw until it saw `bytes` (Nagle holds a short last segment
 * until the rest is acknowledged; an ACK past what was sent would be ignored). */
static void client_acks_up_to(uint32_t bytes) {
    for (int i = 0; i < 16; i++) {
        uint32_t acked = cur->highest;
        client_acks(acked);
        if (acked >= bytes)
            break;
    }
}

static void announce_client(void) {
    uint8_t f[CLIENT_FRAME_MAX] = {0};
    fake_port_deliver(f, client_arp_reply(f, user_net_client_ip));
    step();
}

static void connect_client(void) {
    cur->pcb = NULL;
    client_sends(CLIENT_ISN, 0, FLAG_SYN);
    client_acks(0);
}

static void bring_up(void) {
    for (uint32_t i = 0; i < STREAM_MAX; i++)
        pattern[i] = (uint8_t)(i % 251);
    lwip_init();
    fake_port_init(user_net_guest_mac, on_tx);
    struct tcp_pcb *tcp = tcp_new_ip_type(IPADDR_TYPE_ANY);
    tcp_bind(tcp, IP_ANY_TYPE, HTTP_PORT);
    tcp_accept(tcp_listen(tcp), on_accept);
    ion_netif_add(&nic);
    netif_set_default(&nic);
    user_net_static_address(&nic);
    netif_set_up(&nic);
    netif_set_link_up(&nic);
    step();
    announce_client();
    connect_client();
}

static uint32_t queue(uint32_t from, uint32_t n) { return tcp_send_pooled(cur->pcb, pattern + from, n); }

static void full_segments_leave_in_place(void) {
    CHECK("connection_accepted", cur->pcb != NULL && cur->pcb->mss == 1460);
    uint64_t in_place = tx_buffer_stats()->frames_in_place;
    uint32_t n = 3 * 1460 + 100;
    CHECK("bulk_queued_whole", queue(0, n) == n);
    CHECK("each_segment_in_its_own_lent_buffer", tx_buffers_lent() == 4 && tx_buffer_stats()->lent_bytes == n);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(n);
    CHECK("stream_received_byte_for_byte", cur->highest == n && !cur->mismatch);
    CHECK("every_segment_sent_in_place", tx_buffer_stats()->frames_in_place - in_place == 4);
    CHECK("acknowledged_buffers_come_back", tx_buffers_lent() == 0);
}

/* 100 bytes queued and not yet sent, then 3,000 more: lwIP tops the first segment up to a full
 * one (copied), and the rest starts in fresh buffers. */
static void topped_up_segment_is_copied(void) {
    uint32_t base = cur->highest;
    uint64_t in_place = tx_buffer_stats()->frames_in_place;
    CHECK("small_write_queued", queue(base, 100) == 100);
    CHECK("next_write_queued", queue(base + 100, 3000) == 3000);
    CHECK("top_up_not_lent", tx_buffers_lent() == 3);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(base + 3100);
    CHECK("topped_up_stream_byte_for_byte", cur->highest == base + 3100 && !cur->mismatch);
    CHECK("only_the_topped_up_segment_copied", tx_buffer_stats()->frames_in_place - in_place == 2);
    CHECK("topped_up_buffers_come_back", tx_buffers_lent() == 0);
}

static void retransmission_resends_the_same_bytes(void) {
    uint32_t base = cur->highest, frames = cur->data_frames;
    CHECK("segment_queued", queue(base, 1460) == 1460);
    tcp_output(cur->pcb);
    step();
    for (int i = 0; i < 40 && cur->data_frames < frames + 2; i++) {
        now_ms += 250;
        step();
    }
    CHECK("segment_retransmitted", cur->data_frames >= frames + 2 && !cur->mismatch);
    CHECK("held_until_acknowledged", tx_buffers_lent() == 1);
    client_acks_up_to(base + 1460);
    CHECK("retransmitted_buffer_comes_back", tx_buffers_lent() == 0);
}

/* A slow device still holds the buffer a segment left from when lwIP retransmits it: the
 * retransmission is copied whole (the fake kernel fails the run if a buffer the device holds
 * is sent again), and the loan still ends at the acknowledgement. */
static void retransmission_while_on_device_is_copied(void) {
    uint32_t base = cur->highest, frames = cur->data_frames;
    uint64_t in_place = tx_buffer_stats()->frames_in_place;
    fake_port_hold_tx(1);
    CHECK("held_segment_queued", queue(base, 1460) == 1460);
    tcp_output(cur->pcb);
    step();
    CHECK("first_transmission_in_place", tx_buffer_stats()->frames_in_place == in_place + 1);
    for (int i = 0; i < 40 && cur->data_frames < frames + 2; i++) {
        now_ms += 250;
        step();
    }
    CHECK("retransmission_copied_while_the_device_holds_the_buffer",
          cur->data_frames >= frames + 2 && !cur->mismatch && tx_buffer_stats()->frames_in_place == in_place + 1);
    client_acks_up_to(base + 1460);
    CHECK("loan_ends_while_on_the_device", tx_buffers_lent() == 0);
    fake_port_hold_tx(0);
    uint32_t more = cur->highest;
    CHECK("buffers_back_from_the_device_lent_again", queue(more, 2 * 1460) == 2 * 1460 && tx_buffers_lent() == 2);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(more + 2 * 1460);
    CHECK("stream_whole_after_the_slow_device", cur->highest == more + 2 * 1460 && !cur->mismatch &&
                                                     tx_buffers_lent() == 0);
}

/* Loans are shared: while one connection holds every buffer there is to lend (its send buffer
 * holds more segments than that, but it has more queued than a connection may copy into lwIP's
 * heap, tcp_send.h: the rest is refused), a second connection's sends find the free buffers down
 * to those kept for frames and are copied into lwIP's memory instead; its stream is still
 * whole, and its sends are lent again once the first connection's data is acknowledged. */
static void loans_refused_at_the_reserve_fall_back_to_copies(void) {
    struct stream *first = cur, *second = &streams[1];
    uint32_t base = first->highest, full = TCP_SND_BUF / 1460 * 1460;
    uint32_t lendable = NEXUS_ION_TX_BUFS_PER_PORT - TX_KEEP_FOR_FRAMES;
    uint32_t loans = full / 1460 < lendable ? full / 1460 : lendable, taken = full;
    uint64_t refused = tx_buffer_stats()->lend_refused;
    _Static_assert(NEXUS_ION_TX_BUFS_PER_PORT - TX_KEEP_FOR_FRAMES >= TCP_COPY_QUEUE_MAX / 1460,
                   "the loans alone take a connection past what it may copy");
    CHECK("send_buffer_filled_with_loans", queue(base, full) == taken && tx_buffers_lent() == loans);
    cur = second;
    connect_client();
    CHECK("second_connection_accepted", second->pcb != NULL);
    CHECK("second_send_queued_whole", queue(0, 8 * 1460) == 8 * 1460);
    CHECK("loans_refused_at_the_reserve", tx_buffer_stats()->lend_refused > refused &&
                                              tx_buffers_lent() < loans + 8);
    tcp_output(second->pcb);
    step();
    client_acks_up_to(8 * 1460);
    CHECK("copied_stream_byte_for_byte", second->highest == 8 * 1460 && !second->mismatch &&
                                             tx_buffers_lent() == loans);
    cur = first;
    tcp_output(first->pcb);
    step();
    client_acks_up_to(base + taken);
    CHECK("full_send_buffer_byte_for_byte", first->highest == base + taken && !first->mismatch &&
                                                tx_buffers_lent() == 0);
    cur = second;
    CHECK("second_connection_lent_again", queue(8 * 1460, 3 * 1460) == 3 * 1460 && tx_buffers_lent() == 3);
    tcp_output(second->pcb);
    step();
    client_acks_up_to(11 * 1460);
    CHECK("second_stream_whole", second->highest == 11 * 1460 && !second->mismatch && tx_buffers_lent() == 0);
    cur = first;
}

/* lwIP's heap under sends that copy (no loan left: the first connection holds them all again):
 * they never take the part kept for every connection's frames, and once it runs short a
 * connection with TCP_COPY_QUEUE_MAX queued copies no more, so connections whose peers stopped
 * reading cannot take it all (tcp_send.h). The heap is filled to each level with mem_malloc. */
static void heap_kept_from_copies(void) {
    struct stream *first = cur, *second = &streams[1];
    uint32_t full = TCP_SND_BUF / 1460 * 1460, limit = MEM_SIZE - TCP_HEAP_KEPT;
    CHECK("loans_taken_again", queue(first->highest, full) > 0 && tx_buffers_lent() ==
                                   NEXUS_ION_TX_BUFS_PER_PORT - TX_KEEP_FOR_FRAMES);
    cur = second;
    uint32_t base = second->highest;
    void *filler[64];
    unsigned n = 0;
    /* Plenty left: the copy room is the heap's, whatever the connection holds. */
    CHECK("copies_bounded_by_the_heap_only", tcp_heap_copy_room(second->pcb) >= TCP_HEAP_PRESSURE);
    /* 3,000 bytes left above what is kept: a send copies no more than that, and a frame's
     * headers still find memory. */
    while (n < 64 && lwip_stats.mem.used + 3000 + 8192 < limit)
        filler[n++] = mem_malloc(8192);
    while (n < 64 && lwip_stats.mem.used + 3000 < limit)
        filler[n++] = mem_malloc(limit - 3000 - lwip_stats.mem.used < 256 ? 16 : 256);
    uint32_t room = tcp_heap_copy_room(second->pcb), took = queue(base, 8 * 1460);
    CHECK("copies_stop_at_the_kept_heap", room <= 3000 && took <= room && lwip_stats.mem.used <= limit);
    struct pbuf *headers = pbuf_alloc(PBUF_RAW, 128, PBUF_RAM);
    CHECK("frame_headers_still_find_memory", headers != NULL);
    if (headers)
        pbuf_free(headers);
    /* Short of memory, a connection with TCP_COPY_QUEUE_MAX queued copies nothing more. */
    while (n > 0 && lwip_stats.mem.used + 3000 < limit - TCP_HEAP_PRESSURE + 16384)
        mem_free(filler[--n]);
    CHECK("under_pressure_a_full_queue_copies_nothing", TCP_SND_BUF - first->pcb->snd_buf >= TCP_COPY_QUEUE_MAX &&
                                                             tcp_heap_copy_room(first->pcb) == 0);
    while (n > 0)
        mem_free(filler[--n]);
    tcp_output(second->pcb);
    step();
    client_acks_up_to(base + took);
    CHECK("copied_bytes_arrive", second->highest == base + took && !second->mismatch);
    cur = first;
    tcp_output(first->pcb);
    step();
    client_acks_up_to(first->highest + full);
}

static void abort_returns_every_loan(void) {
    uint32_t base = cur->highest;
    CHECK("unacknowledged_data_queued", queue(base, 2 * 1460 + 7) == 2 * 1460 + 7 && tx_buffers_lent() == 3);
    tcp_output(cur->pcb);
    step();
    tcp_abort(cur->pcb);
    step();
    CHECK("abort_reset_sent", resets == 1);
    CHECK("aborted_connection_returns_every_loan", tx_buffers_lent() == 0);
    CHECK("no_loan_lost", tx_buffer_stats()->lent_lost == 0);
    CHECK("every_rx_buffer_returned", fake_port_rx_outstanding() == 0);
}

/* ---- the send area ---- */

#define LINK_ID 7
static uint8_t link_pages[NXS_LINK_SEND_BYTES] __attribute__((aligned(4096)));
static struct nxs_header *const link_hdr = (struct nxs_header *)(link_pages + NXS_OFF_HEADER);

static uint64_t held(void) { return __atomic_load_n(&link_hdr->send_held, __ATOMIC_ACQUIRE); }

/* What libnexus does: n bytes of the stream from `from` into chunks `first`.., listed. */
static uint32_t fill(struct nxs_chunk *list, unsigned first, uint32_t from, uint32_t n) {
    uint32_t k = 0;
    for (uint32_t at = 0; at < n; k++) {
        uint32_t piece = n - at < 1460 ? n - at : 1460;
        uint8_t offset = (uint8_t)((uintptr_t)(pattern + from + at) & 7);
        memcpy(link_pages + NXS_OFF_SEND + (first + k) * NXS_SEND_CHUNK + offset, pattern + from + at, piece);
        list[k] = (struct nxs_chunk){(uint8_t)(first + k), offset, (uint16_t)piece};
        at += piece;
    }
    return k;
}

static long area_send_as(unsigned sock, unsigned first, uint32_t from, uint32_t n, uint64_t *copied) {
    struct nxs_chunk list[NXS_SEND_CHUNKS];
    uint32_t k = fill(list, first, from, n);
    return send_area_write(cur->pcb, 0, sock, list, k, 1u << 20, copied);
}

static long area_send(unsigned first, uint32_t from, uint32_t n, uint64_t *copied) {
    return area_send_as(0, first, from, n, copied);
}

/* A link the kernel made without a send area (NEXUS_LINK_PAGES: its server's manifest entry
 * does not say send_area): none is announced, whatever the header said, and a send naming
 * chunks is refused before any byte is read from past the link. */
static void small_link_has_no_area(void) {
    link_hdr->send_area = 1;
    send_area_attach(0, link_pages, LINK_ID, NXS_LINK_BYTES);
    struct nxs_chunk one = {0, 0, 100};
    uint64_t copied = 0, refused = send_area_stats()->refused;
    CHECK("small_link_announces_no_area", link_hdr->send_area == 0);
    CHECK("small_link_chunks_refused", send_area_write(cur->pcb, 0, 0, &one, 1, 1u << 20, &copied) == -EINVAL &&
                                           send_area_stats()->refused == refused + 1 && copied == 0);
}

static void area_segments_leave_in_two_parts(void) {
    fake_port_link(LINK_ID, link_pages, sizeof link_pages);
    small_link_has_no_area();
    send_area_attach(0, link_pages, LINK_ID, NXS_LINK_SEND_BYTES);
    CHECK("area_announced", link_hdr->send_area == 1 && held() == 0);
    uint32_t base = cur->highest, n = 3 * 1460;
    uint64_t copied = 0, frames = send_area_stats()->frames;
    CHECK("area_send_taken_whole_without_copy", area_send(0, base, n, &copied) == n && copied == 0);
    CHECK("sent_chunks_held", held() == 7);
    tcp_output(cur->pcb);
    step();
    CHECK("each_segment_in_two_parts", send_area_stats()->frames - frames == 3);
    CHECK("area_stream_byte_for_byte", cur->highest == base + n && !cur->mismatch);
    CHECK("held_until_acknowledged", held() == 7);
    client_acks_up_to(base + n);
    CHECK("acknowledged_chunks_back_to_the_app", held() == 0 && tx_buffers_lent() == 0);
}

/* 100 bytes, then a full chunk: lwIP tops the first segment up from the second chunk by
 * reference (a frame of headers and two link parts), and the rest of that chunk is a segment of
 * its own. A segment already made of two pieces is topped up by a copy: a frame carries at most
 * NEXUS_ION_TX_LINK_PARTS of them. */
static void area_top_up_is_referenced(void) {
    uint32_t base = cur->highest;
    uint64_t copied = 0, frames = send_area_stats()->frames;
    CHECK("small_area_send", area_send(0, base, 100, &copied) == 100 && copied == 0);
    CHECK("top_up_referenced", area_send(1, base + 100, 1460, &copied) == 1460 && copied == 0);
    CHECK("both_chunks_held", held() == 3);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(base + 1560); /* Nagle holds the short second segment until then */
    CHECK("top_up_sent_from_both_chunks", send_area_stats()->frames - frames == 2);
    CHECK("topped_up_area_stream_whole", cur->highest == base + 1560 && !cur->mismatch && held() == 0);

    base = cur->highest;
    frames = send_area_stats()->frames;
    CHECK("two_piece_segment", area_send(0, base, 100, &copied) == 100 && area_send(1, base + 100, 50, &copied) == 50 &&
                                   copied == 0);
    CHECK("third_piece_copied", area_send(2, base + 150, 1460, &copied) == 1460 && copied == 1310);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(base + 1610);
    CHECK("only_the_rest_from_the_area", send_area_stats()->frames - frames == 1);
    CHECK("three_piece_stream_whole", cur->highest == base + 1610 && !cur->mismatch && held() == 0);
}

/* A chunk the Membrane holds is not the app's to name again; nothing is taken. */
static void held_chunk_refused(void) {
    uint32_t base = cur->highest;
    uint64_t copied = 0, refused = send_area_stats()->refused;
    CHECK("chunk_sent", area_send(5, base, 1460, &copied) == 1460 && held() == 1u << 5);
    struct nxs_chunk again = {5, 0, 1460}, bad = {NXS_SEND_CHUNKS, 0, 10}, over = {6, 100, 1460};
    CHECK("held_chunk_refused", send_area_write(cur->pcb, 0, 0, &again, 1, 1u << 20, &copied) == -EINVAL &&
                                    send_area_stats()->refused == refused + 1);
    CHECK("chunk_past_the_area_refused", send_area_write(cur->pcb, 0, 0, &bad, 1, 1u << 20, &copied) == -EINVAL);
    CHECK("piece_past_its_chunk_refused", send_area_write(cur->pcb, 0, 0, &over, 1, 1u << 20, &copied) == -EINVAL);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(base + 1460);
    CHECK("refused_sends_took_nothing", cur->highest == base + 1460 && !cur->mismatch && held() == 0);
}

/* The device still holds the frame when the client acknowledges: the chunk stays held until the
 * device gives the frame back. */
static void chunk_held_while_on_the_device(void) {
    uint32_t base = cur->highest;
    uint64_t copied = 0;
    fake_port_hold_tx(1);
    CHECK("chunk_sent_to_a_slow_device", area_send(2, base, 1460, &copied) == 1460);
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(base + 1460);
    CHECK("acknowledged_but_on_the_device", cur->highest == base + 1460 && held() == 1u << 2);
    fake_port_hold_tx(0);
    step();
    CHECK("back_from_the_device", held() == 0);
}

/* An app that rewrites a chunk after naming it changes the payload the peer gets (its own
 * stream), never the headers: the frame still reaches this connection. */
static void rewritten_chunk_changes_only_the_payload(void) {
    uint32_t base = cur->highest, frames = cur->data_frames;
    uint64_t copied = 0;
    CHECK("chunk_named", area_send(3, base, 1460, &copied) == 1460);
    memset(link_pages + NXS_OFF_SEND + 3 * NXS_SEND_CHUNK, 0xee, NXS_SEND_CHUNK);
    tcp_output(cur->pcb);
    step();
    CHECK("rewritten_payload_sent_under_intact_headers", cur->data_frames == frames + 1 && cur->mismatch);
    cur->mismatch = 0;
    memcpy(link_pages + NXS_OFF_SEND + 3 * NXS_SEND_CHUNK + ((uintptr_t)(pattern + base) & 7), pattern + base, 1460);
    client_acks_up_to(base + 1460);
    CHECK("rewritten_chunk_back", held() == 0);
}

/* ---- who waits for chunks ---- */

static unsigned told[NXS_SOCKETS];

static void on_wait_change(unsigned link, unsigned sock) {
    if (link == 0 && sock < NXS_SOCKETS)
        told[sock]++;
}

/* A socket that holds SEND_AREA_LOW_WATER chunks or more waits while fewer are free, and hears
 * when that changes; one that holds fewer never waits, even on an area another socket filled;
 * a closed socket's chunks count for nobody. (The sockets here share one connection: what is
 * counted is who named the chunks.) */
static void own_chunks_wait_others_do_not(void) {
    send_area_on_wait_change(on_wait_change);
    memset(told, 0, sizeof told);
    uint32_t base = cur->highest, big = 40 * 1460, small = 5 * 1460;
    uint64_t copied = 0;
    CHECK("large_send_taken", area_send_as(1, 0, base, big, &copied) == big && copied == 0);
    CHECK("holder_of_many_waits_when_few_are_free", send_area_waits(0, 1) && told[1] >= 1);
    CHECK("socket_holding_none_does_not_wait", !send_area_waits(0, 2));
    CHECK("small_send_taken", area_send_as(2, 40, base + big, small, &copied) == small);
    CHECK("holder_of_few_does_not_wait_on_others", !send_area_waits(0, 2) && send_area_waits(0, 1));
    unsigned heard = told[1];
    tcp_output(cur->pcb);
    step();
    CHECK("sent_before_acknowledged", cur->highest >= base + 10 * 1460);
    client_acks(base + 10 * 1460);
    CHECK("ten_chunks_back", held() == ((1ull << 45) - 1) - ((1ull << 10) - 1));
    CHECK("holder_stops_waiting_once_enough_are_free", !send_area_waits(0, 1) && told[1] > heard);
    client_acks_up_to(base + big + small);
    CHECK("waiters_stream_whole", cur->highest == base + big + small && !cur->mismatch && held() == 0);

    base = cur->highest;
    CHECK("closing_holder_sends", area_send_as(3, 0, base, 45 * 1460, &copied) == 45 * 1460 && send_area_waits(0, 3));
    send_area_disown(0, 3);
    heard = told[3];
    CHECK("closed_socket_does_not_wait", !send_area_waits(0, 3));
    tcp_output(cur->pcb);
    step();
    client_acks_up_to(base + 45 * 1460);
    CHECK("closed_socket_not_told", told[3] == heard && held() == 0);
    send_area_on_wait_change(NULL);
}

static void abort_frees_every_chunk(void) {
    uint32_t base = cur->highest;
    uint64_t copied = 0;
    unsigned before = resets;
    CHECK("chunks_queued", area_send(0, base, 2 * 1460 + 7, &copied) == 2 * 1460 + 7 && held() == 7);
    tcp_output(cur->pcb);
    step();
    tcp_abort(cur->pcb);
    step();
    CHECK("area_abort_reset_sent", resets == before + 1);
    CHECK("aborted_connection_frees_every_chunk", held() == 0 && send_area_held() == 0);
    CHECK("no_reference_lost", tcp_send_refs_lost() == 0 && send_area_stats()->no_piece == 0);
}

/* ---- pure ACKs in one batch ---- */

/* The client's ACKs up to each of upto[0..n) stream bytes, all on the RX ring before one pass. */
static void client_acks_at_once(const uint32_t *upto, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[CLIENT_FRAME_MAX] = {0};
        const struct client_segment seg = {user_net_client_ip, 0, (uint16_t)(CLIENT_PORT + (cur - streams)),
                                           CLIENT_ISN + 1, cur->synack_seq + 1 + upto[i], FLAG_ACK, 0, NULL};
        uint32_t len = client_tcp_frame(f, &seg);
        frame_repair(NULL, f, len);
        fake_port_deliver(f, len);
    }
    step();
}

static uint64_t coalesced(void) { return ion_netif_stats()->rx_acks_coalesced; }

static uint32_t acked(void) { return cur->pcb->lastack - (cur->synack_seq + 1); }

static void batched_acks_in_slow_start_all_seen(void) {
    cur = &streams[2];
    connect_client();
    CHECK("batch_connection_accepted", cur->pcb != NULL && cur->pcb->cwnd < cur->pcb->ssthresh);
    CHECK("batch_stream_queued", queue(0, 32 * 1460) == 32 * 1460);
    tcp_output(cur->pcb);
    step();
    uint32_t sent = cur->highest, cwnd = cur->pcb->cwnd;
    const uint32_t upto[] = {1460, 2 * 1460, 3 * 1460};
    CHECK("initial_window_sent", sent == sizeof upto / sizeof upto[0] * 1460);
    client_acks_at_once(upto, 3);
    CHECK("slow_start_acks_not_coalesced", coalesced() == 0 && acked() == sent);
    CHECK("slow_start_grew_by_each_ack", cur->pcb->cwnd == cwnd + 3 * 1460);
}

static void batched_acks_coalesce_once_bytes_count(void) {
    cur->pcb->ssthresh = cur->pcb->cwnd; /* congestion avoidance from here, as after a loss */
    tcp_output(cur->pcb);
    step();
    uint32_t base = acked(), sent = cur->highest, rx_frames = (uint32_t)ion_netif_stats()->rx_frames;
    CHECK("window_of_segments_sent", sent - base >= 5 * 1460);
    const uint32_t upto[] = {base + 1460, base + 2 * 1460, base + 3 * 1460, base + 4 * 1460, base + 5 * 1460};
    client_acks_at_once(upto, 5);
    CHECK("earlier_acks_coalesced", coalesced() == 4 && ion_netif_stats()->rx_frames - rx_frames == 5);
    CHECK("last_ack_taken", acked() == base + 5 * 1460);
    CHECK("coalesced_acks_buffers_returned", fake_port_rx_outstanding() == 0);
    const uint32_t old_then_new[] = {base + 5 * 1460, base + 4 * 1460};
    client_acks_at_once(old_then_new, 2);
    CHECK("older_ack_behind_not_coalesced", coalesced() == 4 && acked() == base + 5 * 1460);
}

static void batched_duplicate_acks_all_seen(void) {
    uint32_t base = acked(), frames = cur->data_frames;
    CHECK("data_outstanding", cur->highest > base && cur->pcb->unacked != NULL);
    const uint32_t dups[] = {base, base, base};
    client_acks_at_once(dups, 3);
    CHECK("duplicate_acks_not_coalesced", coalesced() == 4 && cur->pcb->dupacks >= 3);
    CHECK("duplicates_fast_retransmit", cur->data_frames > frames);
    client_acks_up_to(32 * 1460);
    CHECK("batch_stream_received_byte_for_byte", cur->highest == 32 * 1460 && !cur->mismatch);
    CHECK("batch_every_rx_buffer_returned", fake_port_rx_outstanding() == 0);
}

/* ---- the first flight ---- */

/* Queues `n` bytes on a new connection, applying the window as a socket's first send does, and
 * returns the segments that left before any acknowledgement. */
static uint32_t first_flight(uint32_t n) {
    if (cur->initial_window_allowed)
        tcp_initial_window_apply(cur->pcb);
    uint32_t frames = cur->data_frames;
    CHECK("first_flight_queued", queue(0, n) == n);
    tcp_output(cur->pcb);
    step();
    return cur->data_frames - frames;
}

static void first_flight_is_ten_segments(void) {
    cur = &streams[3];
    connect_client();
    CHECK("fresh_connection_allowed_the_window", cur->pcb != NULL && cur->initial_window_allowed);
    CHECK("ten_segments_before_any_ack", first_flight(32 * 1460) == TCP_INITIAL_WINDOW_SEGMENTS &&
                                             cur->highest == 10 * 1460);
    tcpwnd_size_t cwnd = cur->pcb->cwnd;
    tcp_initial_window_apply(cur->pcb); /* data in flight: nothing to widen */
    CHECK("window_not_widened_once_data_left", cur->pcb->cwnd == cwnd);
    client_acks_up_to(32 * 1460);
    CHECK("first_flight_stream_whole", cur->highest == 32 * 1460 && !cur->mismatch);
}

/* The client's ACK of the SYN-ACK is lost: lwIP sends the SYN-ACK again, and the connection
 * starts with lwIP's own window. */
static void resent_syn_ack_keeps_lwips_window(void) {
    cur = &streams[4];
    cur->pcb = NULL;
    uint32_t synacks = 0;
    client_sends(CLIENT_ISN, 0, FLAG_SYN);
    uint32_t first = cur->synack_seq;
    for (int i = 0; i < 40 && synacks == 0; i++) {
        cur->synack_seq = 0;
        now_ms += 250;
        step();
        if (cur->synack_seq == first)
            synacks++;
    }
    CHECK("syn_ack_sent_again", synacks == 1);
    client_acks(0);
    CHECK("resent_syn_ack_not_allowed_the_window", cur->pcb != NULL && !cur->initial_window_allowed);
    CHECK("lwips_three_segments", first_flight(32 * 1460) == 3);
    client_acks_up_to(32 * 1460);
    CHECK("resent_syn_ack_stream_whole", cur->highest == 32 * 1460 && !cur->mismatch);
}

int main(void) {
    check_suite = "tcp_send";
    bring_up();
    full_segments_leave_in_place();
    topped_up_segment_is_copied();
    retransmission_resends_the_same_bytes();
    retransmission_while_on_device_is_copied();
    loans_refused_at_the_reserve_fall_back_to_copies();
    heap_kept_from_copies();
    abort_returns_every_loan();
    cur = &streams[1]; /* the first connection was aborted */
    area_segments_leave_in_two_parts();
    area_top_up_is_referenced();
    held_chunk_refused();
    chunk_held_while_on_the_device();
    rewritten_chunk_changes_only_the_payload();
    own_chunks_wait_others_do_not();
    abort_frees_every_chunk();
    batched_acks_in_slow_start_all_seen();
    batched_acks_coalesce_once_bytes_count();
    batched_duplicate_acks_all_seen();
    first_flight_is_ten_segments();
    resent_syn_ack_keeps_lwips_window();
    return check_exit();
}
