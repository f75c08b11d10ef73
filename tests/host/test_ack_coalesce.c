/* Host tests for which pure ACKs a later one in the same RX batch makes redundant
 * (lwip/rx_ack_coalesce.c): what counts as a pure ACK, and which of a batch are marked. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame_repair.h"
#include "rx_ack_coalesce.h"

#define ETH 14
#define FRAME_LEN (ETH + 20 + 20)

static uint8_t frame[ETH + 24 + 20 + 100];

/* Both checksums of the frame's IPv4 and TCP headers made right, as the frame now reads (the
 * fuzz harnesses' repair, tests/fuzz/frame_repair.h). */
static void fix_checksums(void) { frame_repair(NULL, frame, sizeof frame); }

/* A pure ACK from 10.0.2.2:port to 10.0.2.15:80 acknowledging `ack`; its length. */
static uint32_t ack_frame(uint16_t port, uint32_t ack) {
    memset(frame, 0, sizeof frame);
    frame[12] = 0x08;
    uint8_t *ip = frame + ETH, *tcp = ip + 20;
    ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = 6;
    ip[12] = 10, ip[14] = 2, ip[15] = 2, ip[16] = 10, ip[18] = 2, ip[19] = 15;
    tcp[0] = (uint8_t)(port >> 8), tcp[1] = (uint8_t)port, tcp[3] = 80;
    for (int i = 0; i < 4; i++)
        tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    tcp[12] = 0x50, tcp[13] = 0x10, tcp[14] = 0xff, tcp[15] = 0xff;
    fix_checksums();
    return FRAME_LEN;
}

/* Parses an exact-size copy of the frame's first len bytes, so ASan catches a read past len. */
static int parse(uint32_t len, struct pure_ack *out) {
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, frame, len);
    int r = pure_ack_parse(exact, len, out);
    free(exact);
    return r;
}

static int parses(uint32_t len) {
    struct pure_ack a;
    return parse(len, &a);
}

/* One byte of the frame changed (checksums made right again unless told not to): still a pure ACK? */
static int parses_with(uint32_t at, uint8_t value, int fix) {
    uint32_t len = ack_frame(40000, 5000);
    frame[at] = value;
    if (fix)
        fix_checksums();
    return parses(len);
}

static void what_is_a_pure_ack(void) {
    struct pure_ack a;
    uint32_t len = ack_frame(40000, 0x01020304);
    static const uint8_t flow[12] = {10, 0, 2, 2, 10, 0, 2, 15, 0x9c, 0x40, 0, 80};
    CHECK("pure_ack_parsed", parse(len, &a) == 1 && a.ack == 0x01020304 && memcmp(a.flow, flow, 12) == 0);
    int shorter_refused = 1;
    for (uint32_t n = 0; n < len; n++)
        shorter_refused &= parses(n) == 0;
    CHECK("every_shorter_frame_refused", shorter_refused);
    CHECK("trailing_padding_allowed", ack_frame(40000, 1) && parses(len + 6) == 1);
    CHECK("ipv6_refused", parses_with(12, 0x86, 1) == 0);
    CHECK("ip_version_checked", parses_with(ETH, 0x65, 1) == 0);
    CHECK("udp_refused", parses_with(ETH + 9, 17, 1) == 0);
    CHECK("more_fragments_refused", parses_with(ETH + 6, 0x20, 1) == 0);
    CHECK("fragment_offset_refused", parses_with(ETH + 7, 0x01, 1) == 0);
    CHECK("dont_fragment_allowed", parses_with(ETH + 6, 0x40, 1) == 1);
    CHECK("payload_refused", parses_with(ETH + 3, 41, 1) == 0);
    CHECK("syn_refused", parses_with(ETH + 20 + 13, 0x12, 1) == 0);
    CHECK("fin_refused", parses_with(ETH + 20 + 13, 0x11, 1) == 0);
    CHECK("rst_refused", parses_with(ETH + 20 + 13, 0x14, 1) == 0);
    CHECK("psh_refused", parses_with(ETH + 20 + 13, 0x18, 1) == 0);
    CHECK("ecn_echo_refused", parses_with(ETH + 20 + 13, 0x50, 1) == 0);
    CHECK("no_ack_flag_refused", parses_with(ETH + 20 + 13, 0x00, 1) == 0);
    CHECK("reserved_bit_refused", parses_with(ETH + 20 + 12, 0x51, 1) == 0);
    CHECK("bad_ip_checksum_refused", parses_with(ETH + 10, 0x12, 0) == 0);
    CHECK("bad_tcp_checksum_refused", parses_with(ETH + 20 + 16, 0x12, 0) == 0);
    CHECK("changed_ack_without_checksum_refused", parses_with(ETH + 20 + 11, 0x77, 0) == 0);
    /* TCP options (a timestamp, SACK blocks) are for lwIP to see. */
    len = ack_frame(40000, 9);
    frame[ETH + 3] = 44, frame[ETH + 20 + 12] = 0x60;
    fix_checksums();
    CHECK("tcp_options_refused", parses(len + 4) == 0);
    /* IP options move the TCP header; they are checksummed with the IP header. */
    len = ack_frame(40000, 9);
    memmove(frame + ETH + 24, frame + ETH + 20, 20);
    memset(frame + ETH + 20, 1, 4); /* four no-op options */
    frame[ETH] = 0x46, frame[ETH + 3] = 44;
    fix_checksums();
    CHECK("ip_options_allowed", parse(len + 4, &a) == 1 && a.ack == 9);
    frame[ETH] = 0x44;
    fix_checksums();
    CHECK("short_ip_header_refused", parses(len + 4) == 0);
}

/* The batch of n frames described by kind[i]: 0 not a pure ACK, else ACK acks[i] of flow kind[i]. */
static unsigned mark(const uint8_t *kind, const uint32_t *acks, uint32_t n, uint8_t *superseded) {
    struct pure_ack a[32];
    uint8_t is_ack[32];
    for (uint32_t i = 0; i < n; i++) {
        is_ack[i] = kind[i] != 0;
        if (is_ack[i])
            pure_ack_parse(frame, ack_frame((uint16_t)(40000 + kind[i]), acks[i]), &a[i]);
        else
            memset(&a[i], 0xee, sizeof a[i]); /* whatever a failed parse left */
    }
    memset(superseded, 0x55, n);
    return pure_ack_superseded(a, is_ack, n, superseded);
}

static int marked(const uint8_t *superseded, const char *want) {
    for (uint32_t i = 0; want[i]; i++)
        if (superseded[i] != (want[i] == '1'))
            return 0;
    return 1;
}

static void which_are_superseded(void) {
    uint8_t s[32];
    const uint8_t one_flow[] = {1, 1, 1};
    const uint32_t rising[] = {100, 200, 300};
    CHECK("rising_acks_all_but_last", mark(one_flow, rising, 3, s) == 2 && marked(s, "110"));
    const uint32_t same[] = {100, 100, 100};
    CHECK("duplicate_acks_never", mark(one_flow, same, 3, s) == 0 && marked(s, "000"));
    const uint32_t falling[] = {300, 200, 100};
    CHECK("reordered_older_acks_never", mark(one_flow, falling, 3, s) == 0 && marked(s, "000"));
    const uint32_t mixed[] = {200, 300, 100};
    CHECK("ack_passed_later_even_if_an_older_follows", mark(one_flow, mixed, 3, s) == 1 && marked(s, "100"));
    const uint32_t dups_then_new[] = {100, 100, 200};
    CHECK("duplicates_passed_by_a_new_ack", mark(one_flow, dups_then_new, 3, s) == 2 && marked(s, "110"));
    const uint32_t wrapping[] = {0xfffffff0u, 0x10};
    CHECK("numbers_wrap", mark(one_flow, wrapping, 2, s) == 1 && marked(s, "10"));
    const uint32_t half_apart[] = {0, 0x80000000u};
    CHECK("half_the_space_apart_is_not_later", mark(one_flow, half_apart, 2, s) == 0);
    const uint8_t two_flows[] = {1, 2, 1, 2};
    const uint32_t interleaved[] = {100, 50, 200, 60};
    CHECK("flows_apart", mark(two_flows, interleaved, 4, s) == 2 && marked(s, "1100"));
    const uint8_t other_flow_later[] = {1, 2};
    const uint32_t higher[] = {100, 900};
    CHECK("other_flow_never_supersedes", mark(other_flow_later, higher, 2, s) == 0 && marked(s, "00"));
    const uint8_t with_others[] = {1, 0, 1, 0};
    const uint32_t around[] = {100, 0, 200, 0};
    CHECK("non_acks_never_marked", mark(with_others, around, 4, s) == 1 && marked(s, "1000"));
    CHECK("empty_batch", mark(with_others, around, 0, s) == 0);
    uint8_t thirty_two[32];
    uint32_t counting[32];
    for (uint32_t i = 0; i < 32; i++)
        thirty_two[i] = 1, counting[i] = 1000 + i * 1460;
    CHECK("full_batch_keeps_one", mark(thirty_two, counting, 32, s) == 31 && s[31] == 0);
}

int main(void) {
    check_suite = "ack_coalesce";
    what_is_a_pure_ack();
    which_are_superseded();
    return check_exit();
}
