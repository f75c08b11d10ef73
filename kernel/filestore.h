/* The apps' writable file areas: small files kept by the kernel, per app (by fiber name), so
 * that what a program wrote (curl -o) outlives it and the console (`cat APP/NAME`) and /Bus
 * (/Bus/files/<app>/<name>/size) can read it. An app may write only if its manifest entry grants
 * "files:N" (N KiB in all its files); reading its own files needs no grant. libnexus maps a
 * relative path onto this area (lib/libnexus/files.c). */
#ifndef NEXUS_FILESTORE_H
#define NEXUS_FILESTORE_H

#include <stdint.h>

struct fiber;

#define FILESTORE_FILES 32    /* files kept at once, all apps together */
#define FILESTORE_NAME_MAX 32 /* a file's name, NUL included */

/* The syscalls (nexus/syscall.h: SYS_FILE_READ, SYS_FILE_WRITE, SYS_FILE_CTL). */
long sys_file_read(struct fiber *f, const uint64_t *a);
long sys_file_write(struct fiber *f, const uint64_t *a);
long sys_file_ctl(struct fiber *f, const uint64_t *a);

/* Prints app's file `name` on the console ("APP/NAME"); -ENOENT, -EINVAL for a bad spec. */
int filestore_print(const char *spec);
/* Lists every kept file with its size on the console. */
void filestore_list(void);

#endif
