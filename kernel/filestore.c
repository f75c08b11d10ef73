/*
 * The apps' writable file areas (filestore.h). Each file is one run of contiguous pages, grown
 * by moving it to a larger run: files here are small (a download, a log), and one run keeps
 * reads and the console's printing a plain copy. An app's quota is its "files:N" grant, checked
 * against the pages its files hold, so growth never exceeds what the manifest allowed.
 */
#include "filestore.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "fiber.h"
#include "kernel.h"
#include "mem.h"
#include "vm.h"
#include "nexus/syscall.h"

#define PAGE NEXUS_PAGE_SIZE

struct kept_file {
    char owner[FIBER_NAME_MAX]; /* "" for a free slot */
    char name[FILESTORE_NAME_MAX];
    uint8_t *data;
    size_t pages;
    uint64_t size;
};

static struct kept_file files[FILESTORE_FILES];

/* Names are single /Bus path components, so each file can be published under its own key. */
static int name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || (n <= 2 && !strncmp(name, "..", n)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static struct kept_file *find(const char *owner, const char *name) {
    for (unsigned i = 0; i < FILESTORE_FILES; i++)
        if (files[i].owner[0] && !strcmp(files[i].owner, owner) && !strcmp(files[i].name, name))
            return &files[i];
    return NULL;
}

static uint64_t bytes_held(const char *owner) {
    uint64_t total = 0;
    for (unsigned i = 0; i < FILESTORE_FILES; i++)
        if (files[i].owner[0] && !strcmp(files[i].owner, owner))
            total += files[i].pages * PAGE;
    return total;
}

static void size_key(const struct kept_file *k, char *path, size_t len) {
    snprintf(path, len, "/Bus/files/%s/%s/size", k->owner, k->name);
}

static void publish(const struct kept_file *k) {
    char path[96];
    size_key(k, path, sizeof path);
    bus_setf(0, path, "%lu", (unsigned long)k->size);
}

static void unpublish(const struct kept_file *k) {
    char path[96];
    size_key(k, path, sizeof path);
    bus_del(path, 0);
}

/* Copies the caller's name argument; 0, -EFAULT, -ENAMETOOLONG or -EINVAL (not a plain name). */
static long user_name(struct fiber *f, uint64_t uva, char name[FILESTORE_NAME_MAX]) {
    long err = copy_str_from_user(f->pt, name, uva, FILESTORE_NAME_MAX);
    if (err)
        return err;
    return name_ok(name) ? 0 : -EINVAL;
}

/* Makes room for `size` bytes in k, within the owner's quota. */
static long reserve(struct fiber *f, struct kept_file *k, uint64_t size) {
    size_t need = (size_t)((size + PAGE - 1) / PAGE);
    if (need <= k->pages)
        return 0;
    if (bytes_held(k->owner) - k->pages * PAGE + need * PAGE > f->files_limit)
        return -ENOSPC;
    uint8_t *grown = page_alloc(need);
    if (!grown)
        return -ENOSPC;
    if (k->data) {
        memcpy(grown, k->data, (size_t)k->size);
        page_free(k->data, k->pages);
    }
    k->data = grown;
    k->pages = need;
    mem_publish();
    return 0;
}

static void drop(struct kept_file *k) {
    unpublish(k);
    if (k->data)
        page_free(k->data, k->pages);
    memset(k, 0, sizeof *k);
    mem_publish();
}

long sys_file_read(struct fiber *f, const uint64_t *a) {
    char name[FILESTORE_NAME_MAX];
    long err = user_name(f, a[0], name);
    if (err)
        return err;
    const struct kept_file *k = find(f->name, name);
    if (!k)
        return -ENOENT;
    uint64_t off = a[1], len = a[3];
    if (off >= k->size)
        return 0;
    if (len > k->size - off)
        len = k->size - off;
    return copy_to_user(f->pt, a[2], k->data + off, (size_t)len) ? -EFAULT : (long)len;
}

long sys_file_write(struct fiber *f, const uint64_t *a) {
    char name[FILESTORE_NAME_MAX];
    long err = user_name(f, a[0], name);
    if (err)
        return err;
    if (!f->files_limit)
        return -EROFS; /* no writable area granted: the app's whole namespace is read-only */
    uint64_t off = a[1], len = a[3];
    if (off > f->files_limit || len > f->files_limit - off)
        return -ENOSPC;
    struct kept_file *k = find(f->name, name);
    int created = !k;
    if (!k) {
        for (unsigned i = 0; i < FILESTORE_FILES && !k; i++)
            if (!files[i].owner[0])
                k = &files[i];
        if (!k)
            return -ENFILE;
        snprintf(k->owner, sizeof k->owner, "%s", f->name);
        snprintf(k->name, sizeof k->name, "%s", name);
    }
    err = reserve(f, k, off + len);
    if (!err && copy_from_user(f->pt, k->data + off, a[2], (size_t)len))
        err = -EFAULT;
    if (err) {
        if (created)
            drop(k); /* a file this call created and could not fill */
        return err;
    }
    if (off > k->size) /* a hole reads as zeros, and pages may hold an older, longer content */
        memset(k->data + k->size, 0, (size_t)(off - k->size));
    if (off + len > k->size)
        k->size = off + len;
    publish(k);
    return (long)len;
}

static long file_truncate(struct fiber *f, struct kept_file *k, uint64_t size) {
    if (size > k->size) {
        if (!f->files_limit)
            return -EROFS;
        long err = reserve(f, k, size);
        if (err)
            return err;
        memset(k->data + k->size, 0, (size_t)(size - k->size));
    }
    k->size = size;
    publish(k);
    return 0;
}

static long file_rename(struct fiber *f, struct kept_file *k, uint64_t new_uva) {
    char to[FILESTORE_NAME_MAX];
    long err = user_name(f, new_uva, to);
    if (err)
        return err;
    if (!f->files_limit)
        return -EROFS;
    struct kept_file *old = find(f->name, to);
    if (old == k)
        return 0;
    if (old)
        drop(old); /* rename replaces its target, as POSIX says */
    unpublish(k);
    snprintf(k->name, sizeof k->name, "%s", to);
    publish(k);
    return 0;
}

/* The name of the caller's file number n, in the table's order (readdir of its area). */
static long file_nth(struct fiber *f, uint64_t name_uva, uint64_t n) {
    for (unsigned i = 0; i < FILESTORE_FILES; i++) {
        if (!files[i].owner[0] || strcmp(files[i].owner, f->name))
            continue;
        if (n-- == 0)
            return copy_to_user(f->pt, name_uva, files[i].name, strlen(files[i].name) + 1) ? -EFAULT : 0;
    }
    return -ENOENT;
}

long sys_file_ctl(struct fiber *f, const uint64_t *a) {
    if (a[0] == NEXUS_FILE_NTH)
        return file_nth(f, a[1], a[2]);
    char name[FILESTORE_NAME_MAX];
    long err = user_name(f, a[1], name);
    if (err)
        return err;
    struct kept_file *k = find(f->name, name);
    if (!k)
        return -ENOENT;
    switch (a[0]) {
    case NEXUS_FILE_STAT: return (long)k->size;
    case NEXUS_FILE_TRUNCATE: return file_truncate(f, k, a[2]);
    case NEXUS_FILE_UNLINK:
        if (!f->files_limit)
            return -EROFS;
        drop(k);
        return 0;
    case NEXUS_FILE_RENAME: return file_rename(f, k, a[2]);
    default: return -EINVAL;
    }
}

int filestore_print(const char *spec) {
    const char *slash = strchr(spec, '/');
    if (!slash || slash == spec || (size_t)(slash - spec) >= FIBER_NAME_MAX)
        return -EINVAL;
    char owner[FIBER_NAME_MAX];
    snprintf(owner, sizeof owner, "%.*s", (int)(slash - spec), spec);
    const struct kept_file *k = find(owner, slash + 1);
    if (!k)
        return -ENOENT;
    /* What an app wrote reaches the operator's terminal: no control bytes or escape sequences
     * (as console.c does for apps' own output), each shown as '?'. */
    for (uint64_t i = 0; i < k->size; i++) {
        uint8_t c = k->data[i];
        kprintf("%c", (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? c : '?');
    }
    if (k->size && k->data[k->size - 1] != '\n')
        kprintf("\n");
    return 0;
}

void filestore_list(void) {
    int any = 0;
    for (unsigned i = 0; i < FILESTORE_FILES; i++) {
        if (!files[i].owner[0])
            continue;
        kprintf("  %s/%s  %lu bytes\n", files[i].owner, files[i].name, (unsigned long)files[i].size);
        any = 1;
    }
    if (!any)
        kprintf("  no files kept\n");
}
