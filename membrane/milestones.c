/* The Membrane's milestones (milestones.h). */
#include "milestones.h"

#include <stdint.h>
#include <stdio.h>

#include "nexus.h"

static const char *const names[MILESTONES] = {
    [MS_START] = "start",
    [MS_ADDRESS] = "address",
    [MS_READY] = "ready",
    [MS_FIRST_FRAME] = "first_frame",
    [MS_DHCP_DISCOVER] = "dhcp_discover",
    [MS_DHCP_REQUEST] = "dhcp_request",
    [MS_LEASE] = "lease",
    [MS_FIRST_LISTEN] = "first_listen",
    [MS_FIRST_ACCEPT] = "first_accept",
};

static uint64_t at_us[MILESTONES]; /* 0: not yet (the clock is past 0 when any fiber runs) */

void milestone_mark(enum milestone m) {
    if (!at_us[m])
        at_us[m] = nx_clock_ns() / 1000;
}

void milestones_publish(void (*publish)(const char *key, const char *value)) {
    for (int m = 0; m < MILESTONES; m++) {
        if (!at_us[m])
            continue;
        char key[48], value[24];
        snprintf(key, sizeof key, "/Bus/net/membrane/time_us/%s", names[m]);
        snprintf(value, sizeof value, "%llu", (unsigned long long)at_us[m]);
        publish(key, value);
    }
}
