/*
 * <dirent.h> for Nexus apps, in place of picolibc's (whose <sys/dirent.h> is an #error). The
 * directories an app can list are the ones above its image's files and its writable area, "."
 * (docs/files.md); lib/libnexus/dir.c implements the calls. Only what is implemented is declared.
 */
#ifndef NEXUS_DIRENT_H
#define NEXUS_DIRENT_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NEXUS_NAME_MAX 255 /* Linux's NAME_MAX */

/* d_type values, Linux's */
#define DT_UNKNOWN 0
#define DT_DIR 4
#define DT_REG 8

struct dirent {
    ino_t d_ino;
    unsigned char d_type;
    char d_name[NEXUS_NAME_MAX + 1];
};

typedef struct nexus_dir DIR;

DIR *opendir(const char *path);
struct dirent *readdir(DIR *dir);
void rewinddir(DIR *dir);
int closedir(DIR *dir);

#ifdef __cplusplus
}
#endif

#endif
