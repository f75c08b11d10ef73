/*
 * libFuzzer target for the Membrane's receive path: Ethernet frames from the wire through the
 * real port (lib/port/port.c), the real netif (lwip/netif_ion.c with lwip/rx_frame_policy.c)
 * and lwIP itself, built with the Membrane's lwipopts.h, fed by the kernel's end of a port in
 * host memory (fake_port.h: the RX pool read-only to the service, as in the guest). lwIP runs
 * as in the Membrane: NO_SYS, a TCP listener on :80 that echoes what it receives, a UDP socket
 * that echoes datagrams, DHCP, IPv6 link-local and SLAAC, timers driven by a clock the input
 * moves. What crashes here (an lwIP assertion is abort(), as in arch/cc.h) crashes the
 * Membrane.
 *
 * Input:
 *     <config:1> then records <ctl:1> <length:2, big-endian> <frame: length bytes>
 * config bit 0: the address is static (10.0.2.15/24, as QEMU's user network leases) instead of
 * coming from DHCP, so that TCP is reachable without a lease in the input. ctl bit 0: repair
 * the frame's checksums; bit 1: also echo lwIP's last TCP sequence and DHCP transaction id
 * (frame_repair.h); bits 2..7: the clock advances by that many times 50 ms before the frame.
 * A length of 0 delivers nothing (only time passes); a length beyond the input takes what is
 * left; a frame longer than an RX buffer holds is cut there, as the device would.
 *
 * Each input starts from the same state: the interface is added and brought up as the Membrane
 * does, and taken down afterwards (connections aborted, the lease released, the interface
 * removed, reassembly left to time out). Then every RX buffer must be back with the kernel: a
 * buffer lwIP or the port never returns is a leak of the pool, which the wire could repeat
 * until nothing is received.
 *
 * With LWIP_INPUT_TRACE set in the environment, what lwIP does with an input goes to stderr
 * (frames sent, connections accepted, data echoed, the address at the end): for checking that
 * a seed reaches the state it is written for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_port.h"
#include "frame_repair.h"
#include "fuzz_records.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif_ion.h"
#include "nexus/syscall.h"
#include "user_net.h"

#define CONFIG_STATIC_ADDRESS 0x01
#define CTL_REPAIR 0x01
#define CTL_ECHO 0x02
#define CTL_TIME_SHIFT 2
#define TIME_UNIT_MS 50
#define HTTP_PORT 80
#define UDP_ECHO_PORT 7
#define LISTEN_BACKLOG 8
#define ECHO_MAX 512
/* Longer than IPv4 (15 s) and IPv6 (60 s) reassembly keep fragments. */
#define SETTLE_SECONDS 75
#define RANDOM_SEED 0x2545f491u

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static uint32_t now_ms;
static uint32_t random_state;
static struct netif nic;
static struct echo_state echo;
static int use_dhcp;
static int tracing;

#define TRACE(...)                            \
    do {                                      \
        if (tracing)                          \
            fprintf(stderr, __VA_ARGS__);     \
    } while (0)

u32_t sys_now(void) { return now_ms; }

/* lwIP's random numbers (ports, transaction ids): the same sequence for every input, so that an
 * input replays as it ran. Any generator serves; this one is a plain LCG. */
unsigned int membrane_random32(void) {
    random_state = random_state * 1103515245u + 12345u;
    return random_state;
}

static void on_tx(const uint8_t *frame, uint32_t len) {
    frame_repair_learn(&echo, frame, len);
    TRACE("tx %u bytes, EtherType %02x%02x, IP protocol/next header %u\n", len, frame[12], frame[13],
          len > 23 ? frame[frame[12] == 0x86 ? 20 : 23] : 0);
}

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg;
    (void)err;
    if (!p) {
        tcp_close(pcb);
        return ERR_OK;
    }
    uint8_t data[ECHO_MAX];
    u16_t n = pbuf_copy_partial(p, data, (u16_t)(p->tot_len < ECHO_MAX ? p->tot_len : ECHO_MAX), 0);
    TRACE("tcp: %u bytes received\n", p->tot_len);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (tcp_write(pcb, data, n, TCP_WRITE_FLAG_COPY) == ERR_OK)
        tcp_output(pcb);
    return ERR_OK;
}

static void on_tcp_err(void *arg, err_t err) {
    (void)arg;
    (void)err; /* the pcb is gone; nothing of ours refers to it */
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    TRACE("tcp: connection accepted\n");
    tcp_recv(pcb, on_tcp_recv);
    tcp_err(pcb, on_tcp_err);
    return ERR_OK;
}

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
    (void)arg;
    udp_sendto(pcb, p, addr, port);
    pbuf_free(p);
}

static void setup_once(void) {
    tracing = getenv("LWIP_INPUT_TRACE") != NULL;
    setvbuf(stdout, NULL, _IONBF, 0); /* lwIP's assertion message (arch/cc.h) before abort() */
    fake_port_init(guest_mac, on_tx);
    lwip_init();
    struct tcp_pcb *tcp = tcp_new_ip_type(IPADDR_TYPE_ANY);
    REQUIRE(tcp && tcp_bind(tcp, IP_ANY_TYPE, HTTP_PORT) == ERR_OK);
    err_t e;
    struct tcp_pcb *listener = tcp_listen_with_backlog_and_err(tcp, LISTEN_BACKLOG, &e);
    REQUIRE(listener);
    tcp_accept(listener, on_accept);
    struct udp_pcb *udp = udp_new_ip_type(IPADDR_TYPE_ANY);
    REQUIRE(udp && udp_bind(udp, IP_ANY_TYPE, UDP_ECHO_PORT) == ERR_OK);
    udp_recv(udp, on_udp_recv, NULL);
}

/* The interface comes up as in membrane/membrane.c's bring_up(). */
static void bring_up(int static_address) {
    REQUIRE(ion_netif_add(&nic) == 0);
    netif_set_default(&nic);
    netif_create_ip6_linklocal_address(&nic, 1);
    nic.ip6_autoconfig_enabled = 1;
    if (static_address)
        user_net_static_address(&nic);
    netif_set_up(&nic);
    netif_set_link_up(&nic);
    use_dhcp = !static_address;
    if (use_dhcp)
        dhcp_start(&nic);
}

/* One turn of the Membrane's loop. */
static void step(void) {
    ion_netif_poll(&nic);
    netif_poll_all();
    sys_check_timeouts();
    ion_netif_flush();
}

/* Time passes in steps, each with the timers that fall due, as the Membrane wakes for them:
 * lwIP's periodic timers run once per call however late, and its state machines count them. */
static void pass_time(uint32_t ms, uint32_t step_ms) {
    while (ms) {
        uint32_t dt = ms < step_ms ? ms : step_ms;
        now_ms += dt;
        ms -= dt;
        sys_check_timeouts();
        ion_netif_flush();
    }
}

static void abort_all(struct tcp_pcb **list) {
    while (*list)
        tcp_abort(*list);
}

static void take_down(void) {
    TRACE("address at the end: %s\n", ip4addr_ntoa(netif_ip4_addr(&nic)));
    abort_all(&tcp_active_pcbs);
    abort_all(&tcp_tw_pcbs);
    if (use_dhcp) {
        dhcp_release_and_stop(&nic);
        dhcp_cleanup(&nic);
    }
    netif_set_down(&nic);
    netif_remove(&nic);
    pass_time(SETTLE_SECONDS * 1000u, 1000);
    REQUIRE(fake_port_rx_outstanding() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    static uint8_t frame[NEXUS_ION_BUF_SIZE];
    if (!ready) {
        setup_once();
        ready = 1;
    }
    if (size < 1)
        return 0;
    random_state = RANDOM_SEED;
    memset(&echo, 0, sizeof echo);
    bring_up(data[0] & CONFIG_STATIC_ADDRESS);
    step();
    size_t at = 1;
    while (at + 3 <= size) {
        uint8_t ctl = data[at];
        size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
        at += 3;
        if (len > size - at)
            len = size - at;
        size_t deliver = len < fake_port_frame_max() ? len : fake_port_frame_max();
        pass_time((uint32_t)(ctl >> CTL_TIME_SHIFT) * TIME_UNIT_MS, TIME_UNIT_MS);
        if (deliver) {
            memcpy(frame, data + at, deliver);
            if (ctl & CTL_REPAIR)
                frame_repair(ctl & CTL_ECHO ? &echo : NULL, frame, (uint32_t)deliver);
            fake_port_deliver(frame, (uint32_t)deliver);
        }
        at += len;
        step();
    }
    take_down();
    return 0;
}
