/*
 * sysinfo.h (apps/httpd) for the httpd unit tests and fuzz target: the listing, its status and
 * the clock are whatever the test set last, so a test can show the server any /Bus tree, a
 * failing listing, or a tree that changes while a response is streaming.
 */
#ifndef NEXUS_TEST_HTTPD_SCRIPT_SYSINFO_H
#define NEXUS_TEST_HTTPD_SCRIPT_SYSINFO_H

#include <stddef.h>

/* From now on the listing is these len bytes (copied; NUL bytes included) and the clock reads
 * uptime_ms. */
void script_sysinfo_set(const char *listing, size_t len, unsigned long long uptime_ms);

/* The clock moves on by ms; the listing stays. */
void script_sysinfo_tick(unsigned long long ms);

/* From now on the listing fails with this negative status. */
void script_sysinfo_fail(long status);

/* How many times the server has asked for the listing. */
unsigned long script_sysinfo_lists(void);

#endif
