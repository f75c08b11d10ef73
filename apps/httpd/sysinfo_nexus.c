/* sysinfo.h on Nexus: the whole /Bus tree and the kernel clock, through the user runtime. */
#include "sysinfo.h"

#include "nexus.h"

/* The kernel refuses listing buffers larger than this. */
#define BUS_LIST_MAX 65536ul

long sysinfo_bus_list(char *buf, unsigned long len) {
    return nx_bus_list("/Bus", buf, len < BUS_LIST_MAX ? len : BUS_LIST_MAX);
}

unsigned long long sysinfo_uptime_ms(void) { return nx_clock_ns() / 1000000ull; }
