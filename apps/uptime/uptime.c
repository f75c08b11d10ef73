/* Publishes the time since boot as /Bus/sys/uptime_ms, and the wall-clock time as
 * /Bus/sys/realtime_s (seconds since the epoch, through time(); absent without an RTC), every
 * argv[1] milliseconds (default 1000), so the console, and later the HTTP status page, can show
 * them without a clock of their own. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nexus.h"

int main(int argc, char **argv) {
    long period_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    if (period_ms < 10)
        period_ms = 10;
    for (;;) {
        char value[24];
        snprintf(value, sizeof value, "%llu", (unsigned long long)(nx_clock_ns() / 1000000));
        nx_bus_set("/Bus/sys/uptime_ms", value);
        time_t now = time(NULL);
        if (now != (time_t)-1) {
            snprintf(value, sizeof value, "%lld", (long long)now);
            nx_bus_set("/Bus/sys/realtime_s", value);
        }
        nx_sleep_ns(NX_MS(period_ms));
    }
}
