/*
 * The seam between the POSIX-only HTTP server and the system it reports on. Nexus implements it
 * over /Bus (sysinfo_nexus.c); the host build uses a fixed fake tree
 * (tests/host/httpd_host_sysinfo.c).
 */
#ifndef NEXUS_HTTPD_SYSINFO_H
#define NEXUS_HTTPD_SYSINFO_H

/* Writes the system tree as lines "path=value\n", sorted by path; returns the total length it
   needed (may exceed len; output truncated then), or a negative value on error. Like snprintf,
   the output is NUL-terminated within len when len > 0. */
long sysinfo_bus_list(char *buf, unsigned long len);

/* Milliseconds since boot (host: since the first call). Never goes backwards. */
unsigned long long sysinfo_uptime_ms(void);

#endif
