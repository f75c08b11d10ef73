/* The scripted sysinfo.h (httpd_script_sysinfo.h): answers exactly as the contract in
 * apps/httpd/sysinfo.h says, from a listing the test chose. */
#include "httpd_script_sysinfo.h"

#include <stdlib.h>
#include <string.h>

#include "sysinfo.h"

static char *listing;
static size_t listing_len;
static long failure; /* < 0: the listing fails with it */
static unsigned long long clock_ms;
static unsigned long lists;

void script_sysinfo_set(const char *text, size_t len, unsigned long long uptime_ms) {
    free(listing);
    listing = malloc(len ? len : 1);
    if (!listing)
        abort();
    memcpy(listing, text, len);
    listing_len = len;
    failure = 0;
    clock_ms = uptime_ms;
}

void script_sysinfo_fail(long status) { failure = status; }

void script_sysinfo_tick(unsigned long long ms) { clock_ms += ms; }

unsigned long script_sysinfo_lists(void) { return lists; }

long sysinfo_bus_list(char *buf, unsigned long len) {
    lists++;
    if (failure < 0)
        return failure;
    if (len > 0) { /* like snprintf: as much as fits, NUL-terminated */
        size_t n = listing_len < len - 1 ? listing_len : len - 1;
        memcpy(buf, listing, n);
        buf[n] = '\0';
    }
    return (long)listing_len;
}

unsigned long long sysinfo_uptime_ms(void) { return clock_ms; }
