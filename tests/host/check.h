/*
 * Minimal host unit-test support. Every check prints exactly one result line that the top-level
 * runner (tests/run.py) counts:
 *     PASS <suite>.<name>
 *     FAIL <suite>.<name>: <file>:<line>: <expression or message>
 * A test binary exits non-zero when any check failed.
 */
#ifndef NEXUS_TEST_CHECK_H
#define NEXUS_TEST_CHECK_H

#include <stdio.h>

static int check_failures;
static const char *check_suite = "host";

/* Records one named check: `cond` must already be the observed outcome. */
#define CHECK(name, cond)                                                                  \
    do {                                                                                   \
        if (cond) {                                                                        \
            printf("PASS %s.%s\n", check_suite, (name));                                   \
        } else {                                                                           \
            printf("FAIL %s.%s: %s:%d: %s\n", check_suite, (name), __FILE__, __LINE__, #cond); \
            check_failures++;                                                              \
        }                                                                                  \
    } while (0)

/* Use as `return check_exit();` at the end of main. */
static inline int check_exit(void) {
    fflush(stdout);
    return check_failures ? 1 : 0;
}

#endif
