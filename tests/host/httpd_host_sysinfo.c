/*
 * sysinfo.h for the host build of apps/httpd: a fixed fake /Bus tree shaped like a booted Nexus
 * (the lease QEMU's user network hands out, fibers, NetSwitch counters and a ring fill level),
 * plus one value holding characters that HTML and JSON must escape. tests/e2e/http_checks.py
 * reads it back through the server.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sysinfo.h"

/* Sorted by path, as the kernel's listing is. /Bus/sys/uptime_ms is filled in per call. */
static const char *const fake_tree[][2] = {
    {"/Bus/boot/cmdline", "console=ttyS0 net=on"},
    {"/Bus/fibers/httpd/restarts", "0"},
    {"/Bus/fibers/httpd/state", "running"},
    {"/Bus/fibers/membrane/restarts", "1"},
    {"/Bus/fibers/membrane/state", "waiting"},
    {"/Bus/fibers/uptime/restarts", "0"},
    {"/Bus/fibers/uptime/state", "sleeping"},
    {"/Bus/net/ipv4/addr", "10.0.2.15"},
    {"/Bus/net/ipv4/dns", "10.0.2.3"},
    {"/Bus/net/ipv4/gateway", "10.0.2.2"},
    {"/Bus/net/ipv4/netmask", "255.255.255.0"},
    {"/Bus/net/mac", "52:54:00:12:34:56"},
    {"/Bus/net/switch/drop/unknown", "3"},
    {"/Bus/net/switch/port/membrane/rx_frames", "42"},
    {"/Bus/net/switch/port/membrane/rx_ring_fill", "5"},
    {"/Bus/net/switch/rx/0x0800", "42"},
    {"/Bus/sys/uptime_ms", NULL},
    {"/Bus/test/escape", "say \"hi\" \\ <b>&amp;</b>"},
};

unsigned long long sysinfo_uptime_ms(void) {
    static struct timespec start;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (start.tv_sec == 0 && start.tv_nsec == 0)
        start = now;
    long long ms = (long long)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    return (unsigned long long)ms;
}

long sysinfo_bus_list(char *buf, unsigned long len) {
    char uptime[24];
    snprintf(uptime, sizeof uptime, "%llu", sysinfo_uptime_ms());
    unsigned long need = 0;
    for (size_t i = 0; i < sizeof fake_tree / sizeof fake_tree[0]; i++) {
        const char *value = fake_tree[i][1] ? fake_tree[i][1] : uptime;
        int n = snprintf(len > need ? buf + need : NULL, len > need ? len - need : 0, "%s=%s\n",
                         fake_tree[i][0], value);
        need += (unsigned long)n;
    }
    return (long)need;
}
