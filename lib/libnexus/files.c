/*
 * libnexus: files, behind the standard calls. An app sees two kinds:
 *   - absolute paths ("/etc/rinetd.conf") name the read-only files built into its image
 *     (nxl_embedded_files, written by tools/gen-files.sh); the directories above them exist,
 *     and anything else absolute is a read-only file system: creating fails with EROFS;
 *   - relative names ("index.html", "./index.html") are its writable area, one flat directory
 *     the kernel keeps per app (SYS_FILE_*, kernel/filestore.h), so the console and /Bus can
 *     read what it wrote after it ends. Writing there needs the manifest's "files:N" grant.
 * And /dev/null, a character device that takes every write and reads as empty (`curl -o
 * /dev/null` measures a download larger than the area).
 * File descriptors come from the same table as sockets (socket.c), so poll and select take both;
 * a file is always ready. docs/files.md has the whole story.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libnexus.h"
#include "nexus.h"

/* An image with no files of its own links this empty table; tools/gen-files.sh's replaces it. */
__attribute__((weak)) const struct nxl_embedded_file nxl_embedded_files[] = {{0, 0, 0}};

enum place {
    IMAGE_FILE, /* an embedded file */
    IMAGE_DIR,  /* "/" or a directory above an embedded file */
    ROFS_NONE,  /* absolute, nothing there: the read-only namespace */
    AREA_FILE,  /* a name in the writable area (which may or may not exist) */
    AREA_DIR,   /* the writable area itself: "." */
    AREA_SUBDIR, /* below the flat area: nothing can be there */
    DEV_NULL     /* /dev/null */
};

struct place_of {
    enum place place;
    const struct nxl_embedded_file *embedded;
    char name[NXL_AREA_NAME_MAX];
};

/* Is `dir` (no trailing slash) a directory holding some embedded file? */
static int image_dir(const char *dir, size_t len) {
    if (len == 1)
        return 1; /* "/" */
    for (const struct nxl_embedded_file *e = nxl_embedded_files; e->path; e++)
        if (!strncmp(e->path, dir, len) && e->path[len] == '/')
            return 1;
    return 0;
}

static long locate(const char *path, struct place_of *out) {
    if (!path)
        return -EFAULT;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (!*path)
        return -ENOENT;
    memset(out, 0, sizeof *out);
    if (!strcmp(path, "/dev/null")) {
        out->place = DEV_NULL;
        return 0;
    }
    if (path[0] == '/') {
        for (const struct nxl_embedded_file *e = nxl_embedded_files; e->path; e++) {
            if (!strcmp(e->path, path)) {
                out->place = IMAGE_FILE;
                out->embedded = e;
                return 0;
            }
        }
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
            len--;
        out->place = image_dir(path, len) ? IMAGE_DIR : ROFS_NONE;
        return 0;
    }
    if (!strcmp(path, ".")) {
        out->place = AREA_DIR;
        return 0;
    }
    if (strchr(path, '/')) {
        out->place = AREA_SUBDIR;
        return 0;
    }
    if (strlen(path) >= sizeof out->name)
        return -ENAMETOOLONG;
    out->place = AREA_FILE;
    strcpy(out->name, path);
    return 0;
}

/* The size of an area file, or -ENOENT. */
static long area_size(const char *name) { return nx_file_ctl(NEXUS_FILE_STAT, name, 0); }

static long open_area(const struct place_of *p, int flags) {
    long size = area_size(p->name);
    int writes = (flags & O_ACCMODE) != O_RDONLY;
    if (size >= 0 && (flags & O_CREAT) && (flags & O_EXCL))
        return -EEXIST;
    if (size == -ENOENT && !(flags & O_CREAT))
        return -ENOENT;
    if (size == -ENOENT)
        size = nx_file_write(p->name, 0, "", 0); /* creates it, or says EROFS / ENOSPC / EINVAL */
    else if (size >= 0 && writes && (flags & O_TRUNC))
        size = nx_file_ctl(NEXUS_FILE_TRUNCATE, p->name, 0);
    return size < 0 ? size : 0;
}

int open(const char *path, int flags, ...) {
    struct place_of p;
    long err = locate(path, &p);
    if (err)
        return (int)nxl_result(err);
    int writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    switch (p.place) {
    case IMAGE_FILE:
        if ((flags & O_CREAT) && (flags & O_EXCL))
            return (int)nxl_result(-EEXIST);
        err = writes ? -EROFS : 0;
        break;
    case IMAGE_DIR:
    case AREA_DIR: err = -EISDIR; break;
    case ROFS_NONE: err = flags & O_CREAT ? -EROFS : -ENOENT; break;
    case AREA_SUBDIR: err = -ENOENT; break;
    case AREA_FILE: err = open_area(&p, flags); break;
    case DEV_NULL: err = (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST : 0; break;
    }
    if (err)
        return (int)nxl_result(err);
    struct nxl_open_file file = {.embedded = p.embedded, .flags = flags & (O_ACCMODE | O_APPEND),
                                 .null_device = p.place == DEV_NULL};
    memcpy(file.name, p.name, sizeof file.name);
    int fd = nxl_fd_alloc_file(&file);
    return (int)nxl_result(fd);
}

int creat(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

static long file_size(const struct nxl_open_file *file) {
    if (file->null_device)
        return 0;
    return file->embedded ? (long)file->embedded->size : area_size(file->name);
}

long nxl_file_read(struct nxl_fd *f, void *buf, size_t len) {
    struct nxl_open_file *file = &f->file;
    if ((file->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (len && !buf)
        return -EFAULT;
    if (file->null_device)
        return 0;
    long n;
    if (file->embedded) {
        uint64_t size = file->embedded->size;
        n = file->offset >= size ? 0 : (long)(size - file->offset < len ? size - file->offset : len);
        memcpy(buf, file->embedded->data + file->offset, (size_t)n);
    } else {
        n = nx_file_read(file->name, file->offset, buf, len);
    }
    if (n > 0)
        file->offset += (uint64_t)n;
    return n;
}

long nxl_file_readable(struct nxl_fd *f) {
    long size = file_size(&f->file);
    if (size < 0)
        return size;
    return (uint64_t)size > f->file.offset ? size - (long)f->file.offset : 0;
}

long nxl_file_write(struct nxl_fd *f, const void *buf, size_t len) {
    struct nxl_open_file *file = &f->file;
    if ((file->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (len && !buf)
        return -EFAULT;
    if (file->null_device)
        return (long)len;
    if (file->flags & O_APPEND) {
        long size = area_size(file->name);
        if (size < 0)
            return size;
        file->offset = (uint64_t)size;
    }
    long n = nx_file_write(file->name, file->offset, buf, len);
    if (n > 0)
        file->offset += (uint64_t)n;
    return n;
}

off_t lseek(int fd, off_t offset, int whence) {
    struct nxl_fd *f = fd < NXL_FD_FIRST ? NULL : nxl_fd_any(fd);
    if (fd >= 0 && fd < NXL_FD_FIRST)
        return (off_t)nxl_result(-ESPIPE); /* the console */
    if (!f)
        return (off_t)nxl_result(-EBADF);
    if (!f->is_file)
        return (off_t)nxl_result(-ESPIPE);
    long base = 0;
    if (whence == SEEK_CUR)
        base = (long)f->file.offset;
    else if (whence == SEEK_END)
        base = file_size(&f->file);
    else if (whence != SEEK_SET)
        return (off_t)nxl_result(-EINVAL);
    if (base < 0)
        return (off_t)nxl_result(base);
    if (offset < 0 && -offset > base)
        return (off_t)nxl_result(-EINVAL);
    f->file.offset = (uint64_t)(base + offset);
    return (off_t)f->file.offset;
}

static void fill_stat(struct stat *st, mode_t mode, long size) {
    memset(st, 0, sizeof *st);
    st->st_mode = mode;
    st->st_nlink = 1;
    st->st_size = size;
    st->st_blksize = NEXUS_PAGE_SIZE;
    st->st_blocks = (size + 511) / 512;
}

int fstat(int fd, struct stat *st) {
    if (!st)
        return (int)nxl_result(-EFAULT);
    if (fd >= 0 && fd < NXL_FD_FIRST) {
        fill_stat(st, S_IFCHR | 0620, 0); /* the console, a terminal */
        return 0;
    }
    struct nxl_fd *f = nxl_fd_any(fd);
    if (!f)
        return -1;
    if (!f->is_file) {
        fill_stat(st, f->pipe_end ? S_IFIFO | 0600 : S_IFSOCK | 0777, 0);
        return 0;
    }
    long size = file_size(&f->file);
    if (size < 0)
        return (int)nxl_result(size);
    if (f->file.null_device)
        fill_stat(st, S_IFCHR | 0666, 0);
    else
        fill_stat(st, S_IFREG | (f->file.embedded ? 0444 : 0644), size);
    return 0;
}

int stat(const char *restrict path, struct stat *restrict st) {
    struct place_of p;
    long err = locate(path, &p);
    if (!err && !st)
        err = -EFAULT;
    if (err)
        return (int)nxl_result(err);
    long size;
    switch (p.place) {
    case IMAGE_FILE: fill_stat(st, S_IFREG | 0444, (long)p.embedded->size); return 0;
    case IMAGE_DIR: fill_stat(st, S_IFDIR | 0555, 0); return 0;
    case AREA_DIR: fill_stat(st, S_IFDIR | 0755, 0); return 0;
    case DEV_NULL: fill_stat(st, S_IFCHR | 0666, 0); return 0;
    case AREA_FILE:
        size = area_size(p.name);
        if (size < 0)
            return (int)nxl_result(size);
        fill_stat(st, S_IFREG | 0644, size);
        return 0;
    default: return (int)nxl_result(-ENOENT);
    }
}

long nxl_dir_of(const char *path, const char **image_dir, size_t *len) {
    struct place_of p;
    long err = locate(path, &p);
    if (err)
        return err;
    switch (p.place) {
    case AREA_DIR: return NXL_DIR_AREA;
    case IMAGE_DIR:
        while (*path == '.' && path[1] == '/')
            path += 2;
        *len = strlen(path);
        while (*len > 1 && path[*len - 1] == '/')
            (*len)--;
        *image_dir = path;
        return NXL_DIR_IMAGE;
    case IMAGE_FILE:
    case DEV_NULL:
        return -ENOTDIR;
    case AREA_FILE:
        return area_size(p.name) < 0 ? -ENOENT : -ENOTDIR;
    default: return -ENOENT;
    }
}

/* No symbolic links exist here. */
int lstat(const char *restrict path, struct stat *restrict st) { return stat(path, st); }

int isatty(int fd) {
    if (fd >= 0 && fd < NXL_FD_FIRST)
        return 1;
    if (nxl_fd_any(fd))
        errno = ENOTTY;
    return 0;
}

int access(const char *path, int mode) {
    struct stat st;
    if (stat(path, &st))
        return -1;
    if ((mode & W_OK) && !(st.st_mode & S_IWUSR))
        return (int)nxl_result(-EROFS);
    if ((mode & X_OK) && !S_ISDIR(st.st_mode))
        return (int)nxl_result(-EACCES);
    return 0;
}

/* The error of changing what is at p in the read-only part, where nothing may change. */
static long read_only_change(const struct place_of *p, long missing) {
    int fixed = p->place == ROFS_NONE || p->place == IMAGE_FILE || p->place == IMAGE_DIR || p->place == DEV_NULL;
    return fixed ? -EROFS : missing;
}

int unlink(const char *path) {
    struct place_of p;
    long err = locate(path, &p);
    if (!err && p.place == AREA_FILE)
        err = nx_file_ctl(NEXUS_FILE_UNLINK, p.name, 0);
    else if (!err)
        err = p.place == AREA_DIR ? -EISDIR : read_only_change(&p, -ENOENT);
    return (int)nxl_result(err);
}

int rename(const char *from, const char *to) {
    struct place_of a, b;
    long err = locate(from, &a);
    if (!err)
        err = locate(to, &b);
    if (!err && a.place == AREA_FILE && b.place == AREA_FILE)
        err = nx_file_ctl(NEXUS_FILE_RENAME, a.name, (uint64_t)(uintptr_t)b.name);
    else if (!err)
        err = read_only_change(&a, read_only_change(&b, a.place == AREA_FILE ? -ENOENT : -EINVAL));
    return (int)nxl_result(err);
}

/* The writable area is one flat directory: a new directory is refused (EPERM: this file
 * system does not make them), an existing one is EEXIST as anywhere. */
int mkdir(const char *path, mode_t mode) {
    (void)mode;
    struct stat st;
    if (stat(path, &st) == 0)
        return (int)nxl_result(-EEXIST);
    struct place_of p;
    long err = locate(path, &p);
    if (!err)
        err = read_only_change(&p, p.place == AREA_FILE ? -EPERM : -ENOENT);
    return (int)nxl_result(err);
}

int ftruncate(int fd, off_t length) {
    struct nxl_fd *f = nxl_fd_any(fd);
    if (!f)
        return -1;
    if (!f->is_file || f->file.embedded || f->file.null_device || (f->file.flags & O_ACCMODE) == O_RDONLY || length < 0)
        return (int)nxl_result(-EINVAL);
    return (int)nxl_result(nx_file_ctl(NEXUS_FILE_TRUNCATE, f->file.name, (uint64_t)length));
}

/* The mask is kept and given back, as POSIX says; it changes nothing here, where an image's
 * files are 0444 and the area's 0644 whatever the mode asked. */
mode_t umask(mode_t mask) {
    static mode_t current = 022;
    mode_t old = current;
    current = mask & 0777;
    return old;
}

/* Every write is already in the kernel's store. */
int fsync(int fd) { return nxl_fd_any(fd) || (fd >= 0 && fd < NXL_FD_FIRST) ? 0 : -1; }
