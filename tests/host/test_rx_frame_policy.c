/* Host tests for the Membrane's choice of which received frames to copy (lwip/rx_frame_policy.c). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rx_frame_policy.h"

#define ETH 14

static uint8_t frame[1514];

/* An Ethernet frame carrying an IPv4 header (20 bytes, no options) and `transport` bytes of
 * zeros after it; fragment_field is the flags-and-offset word. */
static uint32_t ipv4(uint8_t proto, uint16_t fragment_field, uint32_t transport) {
    memset(frame, 0, sizeof frame);
    frame[12] = 0x08, frame[13] = 0x00;
    frame[ETH] = 0x45;
    frame[ETH + 6] = (uint8_t)(fragment_field >> 8), frame[ETH + 7] = (uint8_t)fragment_field;
    frame[ETH + 9] = proto;
    return ETH + 20 + transport;
}

/* An Ethernet frame carrying an IPv6 header whose next header is `next`. */
static uint32_t ipv6(uint8_t next, uint32_t rest) {
    memset(frame, 0, sizeof frame);
    frame[12] = 0x86, frame[13] = 0xDD;
    frame[ETH] = 0x60;
    frame[ETH + 6] = next;
    return ETH + 40 + rest;
}

/* Decides on an exact-size copy of the first len bytes, so ASan catches any read past len. */
static struct rx_decision decide(uint32_t len) {
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, frame, len);
    struct rx_decision d = rx_frame_decide(exact, len);
    free(exact);
    return d;
}

static int how(uint32_t len) { return decide(len).how; }

int main(void) {
    check_suite = "rx_frame_policy";
    CHECK("udp_zero_copy", how(ipv4(17, 0, 8 + 100)) == RX_ZERO_COPY);
    CHECK("udp_with_df_zero_copy", how(ipv4(17, 0x4000, 8)) == RX_ZERO_COPY);
    CHECK("ipv4_first_fragment_copied", how(ipv4(17, 0x2000, 1480)) == RX_COPY_FRAME);
    CHECK("ipv4_last_fragment_copied", how(ipv4(17, 0x00b9, 100)) == RX_COPY_FRAME);
    uint32_t len = ipv4(1, 0, 64);
    frame[ETH + 20] = 8;
    CHECK("icmp_echo_request_copied", how(len) == RX_COPY_FRAME);
    frame[ETH + 20] = 0;
    CHECK("icmp_echo_reply_zero_copy", how(len) == RX_ZERO_COPY);
    len = ipv4(6, 0, 20 + 1000);
    frame[ETH + 20 + 12] = 0x50;
    struct rx_decision d = decide(len);
    CHECK("tcp_headers_copied", d.how == RX_COPY_HEADERS && d.header_len == ETH + 20 + 20);
    frame[ETH + 20 + 12] = 0x80; /* 12 bytes of options */
    d = decide(len);
    CHECK("tcp_options_copied_with_header", d.how == RX_COPY_HEADERS && d.header_len == ETH + 20 + 32);
    frame[ETH + 20 + 12] = 0xf0; /* 60-byte header */
    CHECK("tcp_header_past_frame_copied_whole", how(ETH + 20 + 40) == RX_COPY_FRAME);
    CHECK("tcp_truncated_copied_whole", how(ipv4(6, 0, 10)) == RX_COPY_FRAME);
    CHECK("tcp_fragment_copied_whole", how(ipv4(6, 0x2000, 1480)) == RX_COPY_FRAME);
    len = ipv4(17, 0, 8);
    frame[ETH] = 0x4f; /* IHL 60: longer than the frame */
    CHECK("ipv4_bad_ihl_copied_whole", how(len) == RX_COPY_FRAME);
    CHECK("ipv4_runt_copied_whole", how(ETH + 10) == RX_COPY_FRAME);
    CHECK("ethernet_runt_copied_whole", how(10) == RX_COPY_FRAME);

    CHECK("ipv6_udp_zero_copy", how(ipv6(17, 8)) == RX_ZERO_COPY);
    CHECK("icmpv6_zero_copy", how(ipv6(58, 64)) == RX_ZERO_COPY);
    CHECK("ipv6_fragment_copied", how(ipv6(44, 8 + 1000)) == RX_COPY_FRAME);
    len = ipv6(0, 8 + 8 + 100); /* hop-by-hop, then a fragment header */
    frame[ETH + 40] = 44;
    CHECK("ipv6_fragment_after_hop_by_hop_copied", how(len) == RX_COPY_FRAME);
    len = ipv6(0, 8 + 20 + 100); /* hop-by-hop, then TCP */
    frame[ETH + 40] = 6;
    frame[ETH + 48 + 12] = 0x50;
    d = decide(len);
    CHECK("ipv6_tcp_after_hop_by_hop", d.how == RX_COPY_HEADERS && d.header_len == ETH + 48 + 20);
    len = ipv6(0, 4);
    frame[ETH + 40 + 1] = 200; /* an extension header running past the frame */
    CHECK("ipv6_extension_past_frame", how(len) != RX_COPY_HEADERS);
    CHECK("ipv6_runt_copied_whole", how(ETH + 20) == RX_COPY_FRAME);

    memset(frame, 0, sizeof frame);
    frame[12] = 0x08, frame[13] = 0x06;
    CHECK("arp_zero_copy", how(42) == RX_ZERO_COPY);
    return check_exit();
}
