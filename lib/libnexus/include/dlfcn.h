/* <dlfcn.h> for Nexus apps (picolibc has none). An image is linked whole: dlopen always fails
 * (dlerror says why), so a program with optional plugins runs without them. lib/libnexus/process.c. */
#ifndef NEXUS_DLFCN_H
#define NEXUS_DLFCN_H

#ifdef __cplusplus
extern "C" {
#endif

#define RTLD_LAZY   1 /* Linux's values */
#define RTLD_NOW    2
#define RTLD_GLOBAL 0x100
#define RTLD_LOCAL  0

void *dlopen(const char *file, int mode);
void *dlsym(void *handle, const char *name);
int dlclose(void *handle);
char *dlerror(void);

#ifdef __cplusplus
}
#endif

#endif
