/*
 * libnexus: reading directories. An app has two kinds (docs/files.md): the directories above
 * its image's files ("/", "/etc", ...), whose entries are the next path component of every
 * embedded file below them (a file, or a directory when more follows), and its writable area
 * ".", whose entries the kernel names one by one (SYS_FILE_CTL's NTH). Each listing starts
 * with "." and "..", as on Linux; the order is the image table's, or the kernel's.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libnexus.h"
#include "nexus.h"

#define DOT_ENTRIES 2 /* "." and ".." */

struct nexus_dir {
    int kind;             /* NXL_DIR_AREA or NXL_DIR_IMAGE */
    unsigned next;        /* DOT_ENTRIES + the index of the next image row or area file */
    size_t len;           /* an image directory's path: path[0..len) */
    struct dirent entry;  /* what readdir returned last */
    char path[];
};

DIR *opendir(const char *path) {
    const char *image_dir = NULL;
    size_t len = 0;
    long kind = nxl_dir_of(path, &image_dir, &len);
    if (kind < 0) {
        errno = (int)-kind;
        return NULL;
    }
    DIR *dir = calloc(1, sizeof *dir + len + 1);
    if (!dir)
        return NULL; /* malloc said ENOMEM */
    dir->kind = (int)kind;
    dir->len = len;
    if (image_dir)
        memcpy(dir->path, image_dir, len);
    return dir;
}

/* The component below dir's path of embedded file `e`, if e is below it: its length (and
 * whether more follows, i.e. it is a directory), else 0. */
static size_t component_below(const DIR *dir, const struct nxl_embedded_file *e, int *is_dir) {
    size_t prefix = dir->len == 1 ? 0 : dir->len; /* "/" is every file's parent */
    if (strncmp(e->path, dir->path, prefix) || e->path[prefix] != '/')
        return 0;
    const char *name = e->path + prefix + 1;
    const char *slash = strchr(name, '/');
    *is_dir = slash != NULL;
    return slash ? (size_t)(slash - name) : strlen(name);
}

/* Was the same component already given by an earlier row than `row`? */
static int seen_before(const DIR *dir, unsigned row, const char *name, size_t len) {
    for (unsigned i = 0; i < row; i++) {
        int is_dir;
        const struct nxl_embedded_file *e = &nxl_embedded_files[i];
        if (component_below(dir, e, &is_dir) == len &&
            !strncmp(e->path + (dir->len == 1 ? 0 : dir->len) + 1, name, len))
            return 1;
    }
    return 0;
}

static struct dirent *entry(DIR *dir, const char *name, size_t len, unsigned char type) {
    dir->entry.d_ino = dir->next;
    dir->entry.d_type = type;
    memcpy(dir->entry.d_name, name, len);
    dir->entry.d_name[len] = 0;
    return &dir->entry;
}

static struct dirent *next_image_entry(DIR *dir) {
    for (unsigned row = dir->next - DOT_ENTRIES; nxl_embedded_files[row].path; row++) {
        int is_dir;
        const struct nxl_embedded_file *e = &nxl_embedded_files[row];
        size_t len = component_below(dir, e, &is_dir);
        const char *name = e->path + (dir->len == 1 ? 0 : dir->len) + 1;
        if (len && !seen_before(dir, row, name, len)) {
            dir->next = DOT_ENTRIES + row + 1;
            return entry(dir, name, len, is_dir ? DT_DIR : DT_REG);
        }
    }
    return NULL;
}

static struct dirent *next_area_entry(DIR *dir) {
    char name[NXL_AREA_NAME_MAX] = {0}; /* the kernel writes it: nx_file_ctl takes a const name */
    long err = nx_file_ctl(NEXUS_FILE_NTH, name, dir->next - DOT_ENTRIES);
    if (err)
        return NULL; /* -ENOENT: the end */
    dir->next++;
    return entry(dir, name, strnlen(name, sizeof name - 1), DT_REG);
}

/* NULL at the end, with errno untouched, as POSIX says. */
struct dirent *readdir(DIR *dir) {
    if (!dir) {
        errno = EBADF;
        return NULL;
    }
    if (dir->next < DOT_ENTRIES) {
        dir->next++;
        return entry(dir, "..", dir->next, DT_DIR); /* "." first, then ".." */
    }
    return dir->kind == NXL_DIR_AREA ? next_area_entry(dir) : next_image_entry(dir);
}

void rewinddir(DIR *dir) {
    if (dir)
        dir->next = 0;
}

int closedir(DIR *dir) {
    if (!dir)
        return (int)nxl_result(-EBADF);
    free(dir);
    return 0;
}
