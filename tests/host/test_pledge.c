/* Host tests for the promise-name parser (kernel/pledge.c): every name, the separators, refusals
 * that leave *out alone, the PLEDGE_TEXT_MAX limit, promise_name, and pledge_format's round trip
 * and truncation. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pledge.h"

#define UNTOUCHED 0xa5a5a5a5u /* what *out holds before a parse; a refusal must leave it */

static const struct {
    const char *name;
    uint32_t bit;
} names[] = {
    {"stdio", PROMISE_STDIO}, {"rbus", PROMISE_RBUS}, {"wbus", PROMISE_WBUS},
    {"net", PROMISE_NET},     {"inet", PROMISE_INET}, {"lwf", PROMISE_LWF},
    {"utcp", PROMISE_UTCP},   {"keyblob", PROMISE_KEYBLOB},
};
#define NNAMES (sizeof names / sizeof names[0])

static uint32_t mask;

/* Parses a copy in an exact-size heap buffer, so ASan catches any read past the NUL. */
static int parse(const char *text) {
    size_t n = strlen(text) + 1;
    char *copy = malloc(n);
    memcpy(copy, text, n);
    mask = UNTOUCHED;
    int rc = pledge_parse(copy, &mask);
    free(copy);
    return rc;
}

static int parses_to(const char *text, uint32_t want) { return parse(text) == 0 && mask == want; }

static int refused(const char *text) { return parse(text) == -EINVAL && mask == UNTOUCHED; }

/* pledge_format into a buffer of len bytes followed by guard bytes: 1 if nothing past len was
 * written, the text is NUL-terminated within len (for len > 0) and is a prefix of `full`. */
static int format_within(uint32_t m, size_t len, const char *full) {
    char buf[64 + 8];
    memset(buf, '#', sizeof buf);
    pledge_format(m, buf, len);
    for (size_t i = len; i < sizeof buf; i++)
        if (buf[i] != '#')
            return 0;
    if (len == 0)
        return 1;
    size_t n = strnlen(buf, len);
    return n < len && strncmp(buf, full, n) == 0;
}

int main(void) {
    check_suite = "pledge";
    char name[48];

    CHECK("empty_is_no_promises", parses_to("", 0));
    CHECK("separators_only_is_no_promises", parses_to(" ,, ,", 0));
    for (size_t i = 0; i < NNAMES; i++) {
        snprintf(name, sizeof name, "single_%s", names[i].name);
        CHECK(name, parses_to(names[i].name, names[i].bit));
    }
    CHECK("two_with_space", parses_to("stdio inet", PROMISE_STDIO | PROMISE_INET));
    CHECK("two_with_comma", parses_to("stdio,rbus", PROMISE_STDIO | PROMISE_RBUS));
    CHECK("mixed_separators", parses_to("stdio, rbus ,wbus", PROMISE_STDIO | PROMISE_RBUS | PROMISE_WBUS));
    CHECK("repeated_separators", parses_to("net,,  , ,inet", PROMISE_NET | PROMISE_INET));
    CHECK("leading_and_trailing_separators", parses_to(" ,stdio inet, ", PROMISE_STDIO | PROMISE_INET));
    CHECK("all_names", parses_to("stdio rbus wbus net inet lwf utcp keyblob sign unix", PROMISE_ALL));
    CHECK("all_names_reversed", parses_to("unix,sign,keyblob,utcp,lwf,inet,net,wbus,rbus,stdio", PROMISE_ALL));
    CHECK("duplicates_collapse", parses_to("stdio stdio,stdio", PROMISE_STDIO));
    CHECK("duplicates_among_others", parses_to("net inet net", PROMISE_NET | PROMISE_INET));

    CHECK("unknown_refused_out_untouched", refused("bogus"));
    CHECK("unknown_after_good_refused_out_untouched", refused("stdio inet bogus"));
    CHECK("unknown_before_good_refused", refused("bogus stdio"));
    CHECK("prefix_refused", refused("std"));
    CHECK("suffix_extension_refused", refused("stdiox"));
    CHECK("inet6_refused", refused("inet6"));
    CHECK("inet6_after_good_refused", refused("stdio inet6"));
    CHECK("name_inside_longer_word_refused", refused("netinet"));
    CHECK("single_letter_refused", refused("n"));
    CHECK("uppercase_refused", refused("STDIO"));
    CHECK("capitalised_refused", refused("Stdio"));
    CHECK("tab_is_not_a_separator", refused("stdio\tinet"));
    CHECK("newline_is_not_a_separator", refused("stdio\n"));

    /* 63 bytes ("net " x 15 + "net") fit PLEDGE_TEXT_MAX with the NUL; 64 do not. */
    char text[PLEDGE_TEXT_MAX + 2];
    for (size_t i = 0; i < PLEDGE_TEXT_MAX; i++)
        text[i] = i % 4 == 3 ? ' ' : "net"[i % 4];
    text[PLEDGE_TEXT_MAX - 1] = '\0';
    CHECK("text_of_max_minus_one_accepted", strlen(text) == PLEDGE_TEXT_MAX - 1 && parses_to(text, PROMISE_NET));
    text[PLEDGE_TEXT_MAX - 1] = ' ';
    text[PLEDGE_TEXT_MAX] = '\0';
    CHECK("text_of_max_refused", strlen(text) == PLEDGE_TEXT_MAX && refused(text));
    memset(text, ' ', PLEDGE_TEXT_MAX);
    CHECK("separators_of_max_refused", refused(text));
    char longtext[1000];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    CHECK("long_text_refused", refused(longtext));

    for (size_t i = 0; i < NNAMES; i++) {
        snprintf(name, sizeof name, "promise_name_%s", names[i].name);
        CHECK(name, strcmp(promise_name(names[i].bit), names[i].name) == 0);
    }
    CHECK("promise_name_zero", strcmp(promise_name(0), "?") == 0);
    CHECK("promise_name_two_bits", strcmp(promise_name(PROMISE_STDIO | PROMISE_INET), "?") == 0);
    CHECK("promise_name_all", strcmp(promise_name(PROMISE_ALL), "?") == 0);
    CHECK("promise_name_unknown_bit", strcmp(promise_name(1u << 30), "?") == 0 &&
                                          strcmp(promise_name(1u << 31), "?") == 0);

    char buf[64];
    pledge_format(0, buf, sizeof buf);
    CHECK("format_empty", strcmp(buf, "") == 0);
    pledge_format(PROMISE_ALL, buf, sizeof buf);
    CHECK("format_all", strcmp(buf, "stdio rbus wbus net inet lwf utcp keyblob sign unix") == 0);
    pledge_format(PROMISE_RBUS | PROMISE_INET, buf, sizeof buf);
    CHECK("format_two", strcmp(buf, "rbus inet") == 0);
    pledge_format(0xffffffffu, buf, sizeof buf);
    CHECK("format_ignores_unknown_bits", strcmp(buf, "stdio rbus wbus net inet lwf utcp keyblob sign unix") == 0);
    int round_trips = 1;
    for (uint32_t m = 0; m <= PROMISE_ALL; m++) {
        pledge_format(m, buf, sizeof buf);
        if (!parses_to(buf, m))
            round_trips = 0;
    }
    CHECK("format_round_trips_all_32_masks", round_trips);

    char full[64];
    pledge_format(PROMISE_ALL, full, sizeof full);
    CHECK("format_len_0_writes_nothing", format_within(PROMISE_ALL, 0, full));
    CHECK("format_len_1_empty", format_within(PROMISE_ALL, 1, full));
    memset(buf, '#', sizeof buf);
    pledge_format(PROMISE_ALL, buf, 1);
    CHECK("format_len_1_is_nul", buf[0] == '\0' && buf[1] == '#');
    memset(buf, '#', sizeof buf);
    pledge_format(PROMISE_ALL, buf, 5);
    CHECK("format_len_5_truncates", strcmp(buf, "stdi") == 0 && buf[5] == '#');
    memset(buf, '#', sizeof buf);
    pledge_format(PROMISE_NET | PROMISE_INET, buf, 5);
    CHECK("format_len_5_truncates_second_name", strcmp(buf, "net ") == 0 && buf[5] == '#');
    int bounded = 1;
    for (uint32_t m = 0; m <= PROMISE_ALL; m++) {
        pledge_format(m, full, sizeof full);
        for (size_t len = 0; len <= 30; len++)
            if (!format_within(m, len, full))
                bounded = 0;
    }
    CHECK("format_truncation_bounded_all_masks_lens_0_to_30", bounded);
    return check_exit();
}
