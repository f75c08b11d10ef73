/*
 * The Membrane's Internet checksum (lwip/chksum.h) against lwIP's own (LWIP_CHKSUM_ALGORITHM 3,
 * which it replaces): the same 16-bit result, bit for bit, for every start address modulo 8,
 * every length up to a jumbo frame's and beyond, random bytes and the extremes (all zero, all
 * 0xff, where ones' complement has its two zeros), and a 64 KiB buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "chksum.h"
#include "lwip/inet_chksum.h"

#define MAX_LEN 2100

/* lwIP's other routines in inet_chksum.c call LWIP_CHKSUM (lwipopts.h), the Membrane's hook. */
u16_t membrane_counted_chksum(const void *data, int len) { return membrane_chksum(data, len); }

static uint8_t buf[65536 + 16];

static int same_for_all(const char *what) {
    for (int off = 0; off < 8; off++)
        for (int len = 0; len <= MAX_LEN; len++)
            if (membrane_chksum(buf + off, len) != lwip_standard_chksum(buf + off, len)) {
                printf("  %s: offset %d length %d: %04x, lwIP %04x\n", what, off, len,
                       membrane_chksum(buf + off, len), lwip_standard_chksum(buf + off, len));
                return 0;
            }
    return 1;
}

int main(void) {
    check_suite = "chksum";
    srand(17);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rand();
    CHECK("random_bytes_every_offset_and_length", same_for_all("random"));
    memset(buf, 0, sizeof buf);
    CHECK("all_zero", same_for_all("zero"));
    memset(buf, 0xff, sizeof buf);
    CHECK("all_ones", same_for_all("ones"));
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 8));
    int big = 1;
    for (int off = 0; off < 8; off++)
        big &= membrane_chksum(buf + off, 65536) == lwip_standard_chksum(buf + off, 65536);
    CHECK("sixty_four_kib", big);
    /* a header with its checksum field filled in sums to 0xffff: what a receiver checks */
    uint8_t ip[20] = {0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2};
    uint16_t c = (uint16_t)~membrane_chksum(ip, 20);
    memcpy(ip + 10, &c, 2);
    CHECK("header_with_its_checksum_sums_to_ones", membrane_chksum(ip, 20) == 0xffff);
    return check_exit();
}
