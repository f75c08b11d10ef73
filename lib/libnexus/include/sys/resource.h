/*
 * <sys/resource.h> for Nexus apps: picolibc's (getrusage), plus getrlimit for the one limit a
 * fiber has that programs ask about, its descriptors (lib/libnexus/process.c). Numbers are Linux's.
 */
#ifndef NEXUS_SYS_RESOURCE_H
#define NEXUS_SYS_RESOURCE_H

#include_next <sys/resource.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long rlim_t;

struct rlimit {
    rlim_t rlim_cur;
    rlim_t rlim_max;
};

#define RLIMIT_NOFILE 7
#define RLIM_INFINITY (~0ul)

int getrlimit(int resource, struct rlimit *rl);

#ifdef __cplusplus
}
#endif

#endif
