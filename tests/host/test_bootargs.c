/* Host tests for the kernel command-line parser (kernel/bootargs.c). */
#include <string.h>

#include "bootargs.h"
#include "check.h"

int main(void) {
    check_suite = "bootargs";
    struct bootargs a;

    bootargs_parse("", &a);
    CHECK("empty", !a.selftest && a.watchdog_ms == 0 && a.errors == 0);
    bootargs_parse("selftest", &a);
    CHECK("flag", a.selftest && a.errors == 0);
    bootargs_parse("nettest", &a);
    CHECK("nettest_flag", a.nettest && !a.selftest && a.errors == 0);
    bootargs_parse("  selftest\twatchdog=150  ", &a);
    CHECK("flag_and_value_with_spaces", a.selftest && a.watchdog_ms == 150 && a.errors == 0);
    bootargs_parse("watchdog=10 watchdog=60000", &a);
    CHECK("bounds_inclusive_last_wins", a.watchdog_ms == 60000 && a.errors == 0);
    bootargs_parse("watchdog=9", &a);
    CHECK("below_min_refused", a.watchdog_ms == 0 && a.errors == 1 && strcmp(a.first_error, "watchdog=9") == 0);
    bootargs_parse("watchdog=60001", &a);
    CHECK("above_max_refused", a.watchdog_ms == 0 && a.errors == 1);
    bootargs_parse("watchdog=99999999999999999999", &a);
    CHECK("overflow_refused", a.watchdog_ms == 0 && a.errors == 1);
    bootargs_parse("watchdog= watchdog=12x watchdog", &a);
    CHECK("malformed_values_refused", a.watchdog_ms == 0 && a.errors == 3);
    bootargs_parse("selftest=1", &a);
    CHECK("flag_with_value_refused", !a.selftest && a.errors == 1);
    bootargs_parse("console=ttyS0 selftest", &a);
    CHECK("unknown_word_counted_rest_applied", a.selftest && a.errors == 1 && strcmp(a.first_error, "console=ttyS0") == 0);
    bootargs_parse("selftestx", &a);
    CHECK("prefix_is_not_a_match", !a.selftest && a.errors == 1);
    bootargs_parse("app=posixcheck,10.0.2.2,5555 selftest", &a);
    CHECK("app_text", strcmp(a.app, "posixcheck,10.0.2.2,5555") == 0 && a.selftest && a.errors == 0);
    bootargs_parse("ipv4=10.77.0.2/24 selftest", &a);
    CHECK("service_word_accepted_not_kept", a.selftest && a.errors == 0 && a.app[0] == 0 && a.manifest[0] == 0);
    bootargs_parse("ipv4= ipv4", &a);
    CHECK("service_word_needs_text", a.errors == 2);
    bootargs_parse("manifest=containment", &a);
    CHECK("manifest_name", strcmp(a.manifest, "containment") == 0 && a.errors == 0);
    bootargs_parse("manifest=0123456789abcdef", &a);
    CHECK("manifest_name_too_long_refused", a.manifest[0] == 0 && a.errors == 1);
    bootargs_parse("app=", &a);
    CHECK("app_empty_refused", a.app[0] == 0 && a.errors == 1);
    char longapp[BOOTARGS_TEXT_MAX + 8] = "app=";
    memset(longapp + 4, 'a', BOOTARGS_TEXT_MAX);
    longapp[4 + BOOTARGS_TEXT_MAX] = 0;
    bootargs_parse(longapp, &a);
    CHECK("app_too_long_refused", a.app[0] == 0 && a.errors == 1);
    char longword[100];
    memset(longword, 'z', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    bootargs_parse(longword, &a);
    CHECK("long_error_word_truncated", a.errors == 1 && strlen(a.first_error) == sizeof a.first_error - 1);
    return check_exit();
}
