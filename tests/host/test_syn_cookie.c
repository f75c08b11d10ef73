/*
 * SYN cookies (lwip/tcp_syn_cookie.h) and the guard that re-creates an evicted connection from
 * one (lwip/tcp_syn_guard.h), through the Membrane's real receive path: lwIP with the
 * Membrane's options, the real netif and port over the fake kernel end of a port
 * (tests/fuzz/fake_port.h), as in fuzz_lwip_input. A listener with a backlog of two sees a
 * client's SYN, then spoofed SYNs that evict the client's half-open connection, as a SYN flood
 * does; the client's ACK with its request must still open the connection and deliver the
 * request, where lwIP alone answered it with a RST. ACKs that do not prove a cookie are reset.
 * A new SYN for a connection the server closed, still in TIME_WAIT, opens a new connection
 * (lwIP alone answered it with an ACK); an old duplicate SYN does not.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "client_frames.h"
#include "fake_port.h"
#include "frame_repair.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif_ion.h"
#include "tcp_syn_cookie.h"
#include "tcp_syn_guard.h"
#include "tcp_timewait.h"
#include "user_net.h"

#define HTTP_PORT 80
#define BACKLOG 2
#define CLIENT_ISN 1000u
#define CLIENT_PORT 40000
#define ETH_LEN 14
#define IP_LEN 20
#define IP6_LEN 40
#define TCP_LEN 20
#define FLAG_FIN 0x01
#define FLAG_SYN 0x02
#define FLAG_RST 0x04
#define FLAG_PSH 0x08
#define FLAG_ACK 0x10

static uint32_t now_ms = 1000;
static uint32_t random_state = 0x9e3779b9u;
static struct netif nic;

/* What lwIP sent to the clients' ports (CLIENT_PORT + i): the last SYN-ACK's sequence, resets,
 * segments with only ACK set. */
#define TRIMMED_PORTS (TIME_WAIT_KEEP + 8) /* timewait_trim_keeps_the_newest's clients */
#define CLIENT_PORTS (3 + TRIMMED_PORTS)
static struct {
    uint32_t synack_seq;
    unsigned synacks, resets[CLIENT_PORTS], bare_acks[CLIENT_PORTS];
} to_client;
static unsigned undelivered;

/* What the listener's app saw. */
static struct {
    unsigned accepted;
    char data[64];
    size_t len;
    uint16_t remote_port;
} app;

u32_t sys_now(void) { return now_ms; }

unsigned int membrane_random32(void) {
    random_state ^= random_state << 13, random_state ^= random_state >> 17, random_state ^= random_state << 5;
    return random_state;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* The TCP header of an IPv4 or IPv6 frame lwIP sent, or NULL. */
static const uint8_t *tcp_of(const uint8_t *frame, uint32_t len) {
    if (len >= ETH_LEN + IP_LEN + TCP_LEN && frame[12] == 0x08 && frame[13] == 0x00 && frame[ETH_LEN + 9] == 6)
        return frame + ETH_LEN + (frame[ETH_LEN] & 0x0f) * 4;
    if (len >= ETH_LEN + IP6_LEN + TCP_LEN && frame[12] == 0x86 && frame[13] == 0xdd && frame[ETH_LEN + 6] == 6)
        return frame + ETH_LEN + IP6_LEN;
    return NULL;
}

static void on_tx(const uint8_t *frame, uint32_t len) {
    const uint8_t *tcp = tcp_of(frame, len);
    if (!tcp)
        return;
    unsigned port = (unsigned)(tcp[2] << 8 | tcp[3]);
    if (port < CLIENT_PORT || port >= CLIENT_PORT + CLIENT_PORTS)
        return;
    if ((tcp[13] & (FLAG_SYN | FLAG_ACK)) == (FLAG_SYN | FLAG_ACK)) {
        to_client.synack_seq = be32(tcp + 4);
        to_client.synacks++;
    }
    if (tcp[13] & FLAG_RST)
        to_client.resets[port - CLIENT_PORT]++;
    if ((tcp[13] & (FLAG_SYN | FLAG_ACK | FLAG_RST | FLAG_FIN)) == FLAG_ACK)
        to_client.bare_acks[port - CLIENT_PORT]++;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg, (void)err;
    if (!p)
        return ERR_OK;
    size_t room = sizeof app.data - app.len;
    app.len += pbuf_copy_partial(p, app.data + app.len, (u16_t)(p->tot_len < room ? p->tot_len : room), 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    app.accepted++;
    app.remote_port = pcb->remote_port;
    tcp_recv(pcb, on_recv);
    return ERR_OK;
}

static void step(void) {
    ion_netif_poll(&nic);
    sys_check_timeouts();
    ion_netif_flush();
}

static void deliver(uint8_t *f, uint32_t len) {
    frame_repair(NULL, f, len);
    undelivered += fake_port_deliver(f, len) != 0;
    step();
}

/* An IPv4 TCP segment to the guest's :80, with an MSS option if asked. */
static void send_segment(const uint8_t src_ip[4], uint16_t src_port, uint32_t seq, uint32_t ack, uint8_t flags,
                         const char *data, int mss_option) {
    uint8_t f[CLIENT_FRAME_MAX] = {0};
    const struct client_segment seg = {src_ip, 0, src_port, seq, ack, flags, mss_option ? 1460 : 0, data};
    deliver(f, client_tcp_frame(f, &seg));
}

/* An IPv6 TCP segment to the guest's link-local :80 (a SYN announces an MSS). */
static void send_segment6(const uint8_t src[16], uint16_t src_port, uint32_t seq, uint32_t ack, uint8_t flags,
                          const char *data) {
    uint8_t f[CLIENT_FRAME_MAX] = {0};
    const struct client_segment seg = {src, 1, src_port, seq, ack, flags, flags & FLAG_SYN ? 1440 : 0, data};
    deliver(f, client_tcp_frame(f, &seg));
}

/* The client known to lwIP over IPv6 (a neighbor solicitation), so that it can answer it at once. */
static void solicit6(void) {
    uint8_t f[CLIENT_FRAME_MAX] = {0};
    deliver(f, client_neighbor_solicitation(f));
}

/* An ARP reply from `ip` at the client's MAC, so that lwIP can answer it at once. */
static void announce(const uint8_t ip[4]) {
    uint8_t f[CLIENT_FRAME_MAX] = {0};
    deliver(f, client_arp_reply(f, ip));
}

static struct tcp_pcb *half_open_of(uint16_t remote_port) {
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
        if (pcb->state == SYN_RCVD && pcb->remote_port == remote_port)
            return pcb;
    return NULL;
}

static void bring_up(void) {
    lwip_init();
    fake_port_init(user_net_guest_mac, on_tx);
    struct tcp_pcb *tcp = tcp_new_ip_type(IPADDR_TYPE_ANY);
    tcp_bind(tcp, IP_ANY_TYPE, HTTP_PORT);
    struct tcp_pcb *listener = tcp_listen_with_backlog(tcp, BACKLOG);
    tcp_accept(listener, on_accept);
    ion_netif_add(&nic);
    netif_set_default(&nic);
    user_net_static_address(&nic);
    netif_set_up(&nic);
    netif_set_link_up(&nic);
    netif_create_ip6_linklocal_address(&nic, 1);
    netif_ip6_addr_set_state(&nic, 0, IP6_ADDR_PREFERRED);
    step();
    announce(user_net_client_ip);
    solicit6();
}

static void cookie_encoding(void) {
    ip_addr_t local, remote;
    IP_ADDR4(&local, 10, 0, 2, 15);
    IP_ADDR4(&remote, 10, 0, 2, 2);
    uint32_t t = 5 * TCP_SYN_COOKIE_SLOT_MS + 10;
    uint32_t c = tcp_syn_cookie_make(&local, 80, &remote, 40000, 77, 1460, t);
    CHECK("cookie_checks_in_its_slot", tcp_syn_cookie_check(&local, 80, &remote, 40000, 77, c, t) == 1460);
    CHECK("cookie_checks_in_the_next_slot",
          tcp_syn_cookie_check(&local, 80, &remote, 40000, 77, c, t + TCP_SYN_COOKIE_SLOT_MS) == 1460);
    CHECK("cookie_expires_after_two_slots",
          tcp_syn_cookie_check(&local, 80, &remote, 40000, 77, c, t + 2 * TCP_SYN_COOKIE_SLOT_MS) == 0);
    CHECK("cookie_bound_to_the_client_isn", tcp_syn_cookie_check(&local, 80, &remote, 40000, 78, c, t) == 0);
    CHECK("cookie_bound_to_the_port", tcp_syn_cookie_check(&local, 80, &remote, 40001, 77, c, t) == 0);
    CHECK("cookie_bound_to_every_bit", tcp_syn_cookie_check(&local, 80, &remote, 40000, 77, c ^ 0x100, t) == 0);
    static const struct {
        uint16_t announced, kept;
    } mss[] = {{0, 536}, {536, 536}, {1300, 1220}, {1440, 1440}, {1460, 1460}, {9000, 1460}};
    int all = 1;
    for (size_t i = 0; i < sizeof mss / sizeof mss[0]; i++) {
        uint32_t m = tcp_syn_cookie_make(&local, 80, &remote, 40000, 77, mss[i].announced, t);
        all &= tcp_syn_cookie_check(&local, 80, &remote, 40000, 77, m, t) == mss[i].kept;
    }
    CHECK("cookie_keeps_the_largest_listed_mss_not_above_the_announced", all);
}

static void evicted_connection_comes_back(void) {
    send_segment(user_net_client_ip, CLIENT_PORT, CLIENT_ISN, 0, FLAG_SYN, NULL, 1);
    CHECK("synack_sent", to_client.synacks == 1 && half_open_of(CLIENT_PORT) != NULL);
    uint32_t cookie = to_client.synack_seq;
    for (uint16_t i = 0; i < BACKLOG; i++) {
        const uint8_t spoofed[4] = {192, 0, 2, (uint8_t)(10 + i)};
        send_segment(spoofed, (uint16_t)(50000 + i), 7777u * (i + 1), 0, FLAG_SYN, NULL, 1);
    }
    CHECK("client_half_open_evicted", half_open_of(CLIENT_PORT) == NULL && tcp_syn_guard_evicted() >= 1);

    send_segment(user_net_client_ip, CLIENT_PORT, CLIENT_ISN + 1, cookie + 1, FLAG_ACK | FLAG_PSH, "GET / HTTP/1.0\r\n\r\n", 0);
    CHECK("no_reset_for_the_client", to_client.resets[0] == 0);
    CHECK("connection_re_created_and_accepted", app.accepted == 1 && app.remote_port == CLIENT_PORT);
    CHECK("request_delivered_whole", app.len == 18 && memcmp(app.data, "GET / HTTP/1.0\r\n\r\n", 18) == 0);
    CHECK("recovery_counted", tcp_syn_guard_recovered() == 1);
    struct tcp_pcb *pcb = tcp_active_pcbs;
    while (pcb && pcb->remote_port != CLIENT_PORT)
        pcb = pcb->next;
    CHECK("connection_established_with_the_cookie_mss", pcb && pcb->state == ESTABLISHED && pcb->mss <= 1460 &&
                                                             pcb->snd_nxt == cookie + 1);
}

/* ACKs at the listener that prove no cookie: reset by lwIP as before, nothing re-created. */
static void stray_acks_reset(void) {
    unsigned accepted = app.accepted;
    uint64_t recovered = tcp_syn_guard_recovered();
    send_segment(user_net_client_ip, CLIENT_PORT + 1, 5000, 0x12345678, FLAG_ACK, NULL, 0);
    CHECK("made_up_ack_reset", to_client.resets[1] == 1);
    send_segment(user_net_client_ip, CLIENT_PORT + 1, 5000, to_client.synack_seq + 2, FLAG_ACK, NULL, 0);
    CHECK("another_connections_cookie_reset", to_client.resets[1] == 2);
    CHECK("stray_acks_not_recovered", tcp_syn_guard_recovered() == recovered && app.accepted == accepted);
}

/* A client whose first segment after the handshake is lost and whose later one arrives first
 * (sequence past its SYN's + 1): the cookie, bound to the client's ISN, does not check, so no
 * connection starts in the middle of its stream; lwIP resets it. */
static void later_segment_does_not_recover(void) {
    const uint8_t other_client[4] = {10, 0, 2, 3};
    unsigned accepted = app.accepted, resets = to_client.resets[0];
    uint64_t recovered = tcp_syn_guard_recovered();
    announce(other_client);
    send_segment(other_client, CLIENT_PORT, 4000, 0, FLAG_SYN, NULL, 1);
    uint32_t cookie = to_client.synack_seq;
    for (uint16_t i = 0; i < BACKLOG; i++) {
        const uint8_t spoofed[4] = {192, 0, 2, (uint8_t)(40 + i)};
        send_segment(spoofed, (uint16_t)(51000 + i), 991u * (i + 1), 0, FLAG_SYN, NULL, 1);
    }
    send_segment(other_client, CLIENT_PORT, 4000 + 1 + 100, cookie + 1, FLAG_ACK, "later", 0);
    CHECK("later_segment_not_recovered", tcp_syn_guard_recovered() == recovered && app.accepted == accepted);
    CHECK("later_segment_reset", to_client.resets[0] == resets + 1);
    CHECK("every_frame_delivered_and_every_rx_buffer_returned", undelivered == 0 && fake_port_rx_outstanding() == 0);
}

/* The same over IPv6 link-local: the cookie covers the 16-byte addresses, and the connection is
 * re-created through lwIP's IPv6 input. */
static void evicted_ipv6_connection_comes_back(void) {
    unsigned accepted = app.accepted, resets = to_client.resets[1];
    uint64_t recovered = tcp_syn_guard_recovered();
    app.len = 0;
    send_segment6(user_net_client_ip6, CLIENT_PORT + 1, CLIENT_ISN, 0, FLAG_SYN, NULL);
    CHECK("ipv6_synack_sent", half_open_of(CLIENT_PORT + 1) != NULL);
    uint32_t cookie = to_client.synack_seq;
    for (uint16_t i = 0; i < BACKLOG; i++) {
        uint8_t spoofed[16] = {0xfe, 0x80, [14] = 0x10, [15] = (uint8_t)i};
        send_segment6(spoofed, (uint16_t)(52000 + i), 3333u * (i + 1), 0, FLAG_SYN, NULL);
    }
    CHECK("ipv6_client_half_open_evicted", half_open_of(CLIENT_PORT + 1) == NULL);
    send_segment6(user_net_client_ip6, CLIENT_PORT + 1, CLIENT_ISN + 1, cookie + 1, FLAG_ACK | FLAG_PSH, "GET / HTTP/1.0\r\n\r\n");
    CHECK("ipv6_no_reset_for_the_client", to_client.resets[1] == resets);
    CHECK("ipv6_connection_re_created_with_the_request",
          app.accepted == accepted + 1 && app.remote_port == CLIENT_PORT + 1 && app.len == 18 &&
              memcmp(app.data, "GET / HTTP/1.0\r\n\r\n", 18) == 0 && tcp_syn_guard_recovered() == recovered + 1);
}

static struct tcp_pcb *connection_of(struct tcp_pcb *list, uint16_t remote_port) {
    for (struct tcp_pcb *pcb = list; pcb; pcb = pcb->next)
        if (pcb->remote_port == remote_port)
            return pcb;
    return NULL;
}

/* The server closes first, so its end waits in TIME_WAIT; the client then comes back from the
 * same port (as QEMU's user network does with the host's quickly reused ports). */
static void syn_reopens_time_wait(void) {
    const uint16_t port = CLIENT_PORT + 2;
    const uint32_t isn = 90000;
    unsigned accepted = app.accepted;
    send_segment(user_net_client_ip, port, isn, 0, FLAG_SYN, NULL, 1);
    uint32_t server_isn = to_client.synack_seq;
    send_segment(user_net_client_ip, port, isn + 1, server_isn + 1, FLAG_ACK | FLAG_PSH, "GET", 0);
    struct tcp_pcb *pcb = connection_of(tcp_active_pcbs, port);
    CHECK("first_connection_accepted", app.accepted == accepted + 1 && pcb && pcb->state == ESTABLISHED);
    tcp_close(pcb); /* the server's FIN: server_isn + 1 */
    step();
    send_segment(user_net_client_ip, port, isn + 4, server_isn + 2, FLAG_ACK | FLAG_FIN, NULL, 0);
    struct tcp_pcb *old = connection_of(tcp_tw_pcbs, port);
    CHECK("server_end_in_time_wait", old && old->state == TIME_WAIT);
    uint32_t old_snd_nxt = old ? old->snd_nxt : 0;

    unsigned synacks = to_client.synacks, acks = to_client.bare_acks[2];
    send_segment(user_net_client_ip, port, isn, 0, FLAG_SYN, NULL, 1); /* an old duplicate */
    CHECK("old_duplicate_syn_answered_with_an_ack", to_client.synacks == synacks && to_client.bare_acks[2] == acks + 1 &&
                                                        connection_of(tcp_tw_pcbs, port) == old);

    send_segment(user_net_client_ip, port, isn + 100000, 0, FLAG_SYN, NULL, 1);
    CHECK("new_syn_answered_with_a_synack", to_client.synacks == synacks + 1 && to_client.bare_acks[2] == acks + 1);
    CHECK("old_connection_gone", connection_of(tcp_tw_pcbs, port) == NULL && tcp_syn_guard_reopened() == 1);
    CHECK("new_connection_starts_past_the_old_one", to_client.synack_seq == old_snd_nxt + 0xffffu + 2u);
    send_segment(user_net_client_ip, port, isn + 100001, to_client.synack_seq + 1, FLAG_ACK | FLAG_PSH, "GET", 0);
    pcb = connection_of(tcp_active_pcbs, port);
    CHECK("new_connection_accepted", app.accepted == accepted + 2 && pcb && pcb->state == ESTABLISHED &&
                                         to_client.resets[2] == 0);
    CHECK("every_rx_buffer_returned_after_reopen", undelivered == 0 && fake_port_rx_outstanding() == 0);
}

static unsigned length_of(const struct tcp_pcb *list) {
    unsigned n = 0;
    for (; list; list = list->next)
        n++;
    return n;
}

static struct tcp_pcb *released;

/* What the Membrane's sockets do (membrane/sock_tcp.c): let go of the PCB. */
static void release_held(void *arg, struct tcp_pcb *pcb) {
    (void)arg;
    released = pcb;
    tcp_arg(pcb, NULL);
}

/* More connections than TIME_WAIT_KEEP close server first; the trim frees the oldest beyond
 * the newest TIME_WAIT_KEEP, but not one a socket still holds (its arg is set), until the
 * socket lets go of it (tcp_timewait_release); then the next trim frees it too. */
static void timewait_trim_keeps_the_newest(void) {
    static int still_a_sockets;
    struct tcp_pcb *held = NULL;
    uint16_t first = CLIENT_PORT + 3;
    for (unsigned i = 0; i < TRIMMED_PORTS; i++) {
        uint16_t port = (uint16_t)(first + i);
        uint32_t isn = 300000 + i * 1000;
        send_segment(user_net_client_ip, port, isn, 0, FLAG_SYN, NULL, 1);
        uint32_t server_isn = to_client.synack_seq;
        send_segment(user_net_client_ip, port, isn + 1, server_isn + 1, FLAG_ACK | FLAG_PSH, "GET", 0);
        struct tcp_pcb *pcb = connection_of(tcp_active_pcbs, port);
        if (!pcb)
            break;
        if (i == 1) { /* among the oldest */
            tcp_arg(pcb, &still_a_sockets);
            held = pcb;
        }
        tcp_close(pcb);
        step();
        send_segment(user_net_client_ip, port, isn + 4, server_isn + 2, FLAG_ACK | FLAG_FIN, NULL, 0);
    }
    unsigned before = length_of(tcp_tw_pcbs);
    CHECK("every_trimmed_client_in_time_wait", before >= TRIMMED_PORTS);
    unsigned freed = tcp_timewait_trim();
    CHECK("trim_frees_all_but_the_newest_and_the_held", freed == before - TIME_WAIT_KEEP - 1 &&
                                                            length_of(tcp_tw_pcbs) == TIME_WAIT_KEEP + 1);
    CHECK("held_connection_kept", connection_of(tcp_tw_pcbs, first + 1) == held && held);
    CHECK("newest_kept", connection_of(tcp_tw_pcbs, (uint16_t)(first + TRIMMED_PORTS - 1)) != NULL);
    CHECK("oldest_freed", connection_of(tcp_tw_pcbs, first) == NULL);
    CHECK("second_trim_frees_nothing", tcp_timewait_trim() == 0);
    CHECK("held_connection_released", tcp_timewait_release(release_held) == 1 && released == held && held &&
                                          held->callback_arg == NULL && tcp_timewait_release(release_held) == 0);
    CHECK("released_connection_trimmed", tcp_timewait_trim() == 1 && length_of(tcp_tw_pcbs) == TIME_WAIT_KEEP);
    CHECK("every_rx_buffer_returned_after_trim", undelivered == 0 && fake_port_rx_outstanding() == 0);
}

int main(void) {
    check_suite = "syn_cookie";
    cookie_encoding();
    bring_up();
    evicted_connection_comes_back();
    stray_acks_reset();
    later_segment_does_not_recover();
    evicted_ipv6_connection_comes_back();
    CHECK("every_rx_buffer_returned_after_ipv6", undelivered == 0 && fake_port_rx_outstanding() == 0);
    syn_reopens_time_wait();
    timewait_trim_keeps_the_newest();
    return check_exit();
}
