/* Host tests for the text of the bootargs' ipv4= word (membrane/ipv4_prefix.c). */
#include <string.h>

#include "check.h"
#include "ipv4_prefix.h"

static int parses(const char *s, uint32_t want_addr, uint32_t want_mask) {
    uint32_t a = 1, m = 1;
    return ipv4_prefix_parse(s, strlen(s), &a, &m) == 0 && a == want_addr && m == want_mask;
}

static int refused(const char *s) {
    uint32_t a = 7, m = 7;
    return ipv4_prefix_parse(s, strlen(s), &a, &m) == -1 && a == 7 && m == 7;
}

int main(void) {
    check_suite = "ipv4_prefix";
    CHECK("slash_24", parses("10.77.0.2/24", 0x0a4d0002u, 0xffffff00u));
    CHECK("slash_32_and_1", parses("255.255.255.255/32", 0xffffffffu, 0xffffffffu) &&
                                parses("0.0.0.0/1", 0, 0x80000000u));
    CHECK("leading_zeros_within_three_digits", parses("010.001.000.002/08", 0x0a010002u, 0xff000000u));
    CHECK("only_len_bytes_read", ipv4_prefix_parse("10.0.0.1/16 selftest", 11, &(uint32_t){0}, &(uint32_t){0}) == 0);
    const char *bad[] = {"", "10.77.0.2", "10.77.0.2/", "10.77.0.2/0", "10.77.0.2/33", "256.0.0.1/24",
                         "10.77.0/24", "10.77.0.2.3/24", "10..0.2/24", "10.77.0.2/24x", "10.77.0.2/024x",
                         "1000.0.0.1/8", "10.77.0.-2/24", " 10.77.0.2/24", "10.77.0.2 /24", "a.b.c.d/24"};
    int all = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        all &= refused(bad[i]);
    CHECK("malformed_refused_outputs_untouched", all);
    return check_exit();
}
