/*
 * libFuzzer target for lwip/rx_ack_coalesce.c: a batch of received frames as the Membrane takes
 * them off its RX ring. Each frame is parsed from an exact-size copy (ASan sees a read past its
 * length); what parses as a pure ACK must be one (IPv4, TCP, the flags exactly ACK, no options,
 * no payload, its fields read back from the frame); and the marking must mark exactly the pure
 * ACKs passed by a later one of the same flow with a higher number, never a flow's last.
 *
 * Input: records <length:1> <frame: length bytes, or what is left>, at most 32 (a batch);
 * a length of 0 stands for 54 (a pure ACK's size), so short inputs reach whole headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_records.h"
#include "rx_ack_coalesce.h"

#define BATCH 32
#define PURE_ACK_LEN 54

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void check_parsed(const uint8_t *f, uint32_t len, const struct pure_ack *a) {
    REQUIRE(len >= PURE_ACK_LEN && f[12] == 0x08 && f[13] == 0x00);
    const uint8_t *ip = f + 14;
    uint32_t ihl = (ip[0] & 15u) * 4;
    REQUIRE(ip[0] >> 4 == 4 && ihl >= 20 && ip[9] == 6 && 14 + ihl + 20 <= len);
    REQUIRE(((uint32_t)ip[2] << 8 | ip[3]) == ihl + 20);
    const uint8_t *tcp = ip + ihl;
    REQUIRE(tcp[12] == 0x50 && tcp[13] == 0x10);
    REQUIRE(memcmp(a->flow, ip + 12, 8) == 0 && memcmp(a->flow + 8, tcp, 4) == 0 && a->ack == be32(tcp + 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size};
    struct pure_ack acks[BATCH];
    uint8_t is_ack[BATCH], superseded[BATCH];
    uint32_t n = 0;
    uint8_t len8;
    while (n < BATCH && take(&in, &len8, 1)) {
        size_t len = len8 ? len8 : PURE_ACK_LEN;
        if (len > in.left)
            len = in.left;
        uint8_t *frame = malloc(len ? len : 1);
        take(&in, frame, len);
        memset(&acks[n], 0xee, sizeof acks[n]);
        is_ack[n] = (uint8_t)pure_ack_parse(frame, (uint32_t)len, &acks[n]);
        REQUIRE(is_ack[n] <= 1);
        if (is_ack[n])
            check_parsed(frame, (uint32_t)len, &acks[n]);
        free(frame);
        n++;
    }
    unsigned count = pure_ack_superseded(acks, is_ack, n, superseded), marked = 0;
    for (uint32_t i = 0; i < n; i++) {
        int passed = 0;
        for (uint32_t j = i + 1; is_ack[i] && j < n; j++)
            passed |= is_ack[j] && memcmp(acks[i].flow, acks[j].flow, sizeof acks[i].flow) == 0 &&
                      (int32_t)(acks[j].ack - acks[i].ack) > 0;
        REQUIRE(superseded[i] == passed);
        marked += superseded[i];
    }
    REQUIRE(count == marked);
    return 0;
}
