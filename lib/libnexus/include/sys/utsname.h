/* <sys/utsname.h> for Nexus apps (picolibc has none); uname is in lib/libnexus/process.c. */
#ifndef NEXUS_SYS_UTSNAME_H
#define NEXUS_SYS_UTSNAME_H

#ifdef __cplusplus
extern "C" {
#endif

#define NEXUS_UTSNAME_LEN 65 /* Linux's */

struct utsname {
    char sysname[NEXUS_UTSNAME_LEN];
    char nodename[NEXUS_UTSNAME_LEN];
    char release[NEXUS_UTSNAME_LEN];
    char version[NEXUS_UTSNAME_LEN];
    char machine[NEXUS_UTSNAME_LEN];
};

int uname(struct utsname *u);

#ifdef __cplusplus
}
#endif

#endif
