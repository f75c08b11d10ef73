/* The Membrane's milestones (milestones.h). */
#include "milestones.h"

#include <stdint.h>

#include "decimal.h"
#include "nexus.h"

#define KEY(name) "/Bus/net/membrane/time_us/" name
static const char *const keys[MILESTONES] = {
    [MS_START] = KEY("start"),
    [MS_ADDRESS] = KEY("address"),
    [MS_READY] = KEY("ready"),
    [MS_FIRST_FRAME] = KEY("first_frame"),
    [MS_DHCP_DISCOVER] = KEY("dhcp_discover"),
    [MS_DHCP_REQUEST] = KEY("dhcp_request"),
    [MS_LEASE] = KEY("lease"),
    [MS_FIRST_LISTEN] = KEY("first_listen"),
    [MS_FIRST_ACCEPT] = KEY("first_accept"),
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
        char value[DECIMAL_MAX];
        publish(keys[m], decimal(at_us[m], value));
    }
}
