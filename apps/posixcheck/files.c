/*
 * posixcheck: files and the process calls, as ported programs use them. A read-only directory
 * (argv: "/etc" on Nexus, where posixcheck.conf is built into the image; a read-only bind mount
 * on the host) and the current directory, which must be writable (Nexus: the app's writable
 * area). Plain POSIX, proven on the host against glibc first, like the rest of posixcheck.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posixcheck.h"

#define CONF_NAME "posixcheck.conf"
#define CONF_FIRST_LINE "# posixcheck: a read-only file built into the image (Nexus) or on a read-only mount (the host)\n"
#define SCRATCH "posixcheck.out"
#define MOVED "posixcheck.moved"
#define LEFT_BEHIND "posixcheck.txt" /* stays, for the harness to read from the console and /Bus */
#define SCRATCH_LEN 3000

static char path_buf[4][256];

static const char *in_dir(int slot, const char *dir, const char *name) {
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
    return path_buf[slot];
}

/* -1 with the errno `want`: the error path of a call. */
static int fails_with(int r, int want) { return r == -1 && errno == want; }

static void check_read_only_file(const char *dir) {
    static char whole[4096], part[16];
    const char *conf = in_dir(0, dir, CONF_NAME);
    int fd = open(conf, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, whole, sizeof whole - 1) : -1;
    ssize_t more = fd >= 0 ? read(fd, part, sizeof part) : -1;
    check("file_open_read", fd >= 0 && n > (ssize_t)strlen(CONF_FIRST_LINE) && more == 0 &&
                                !strncmp(whole, CONF_FIRST_LINE, strlen(CONF_FIRST_LINE)),
          "%s: fd %d, read %ld then %ld (errno %d)", conf, fd, (long)n, (long)more, errno);
    struct stat st, st2;
    int fs = fd >= 0 ? fstat(fd, &st) : -1;
    int ss = stat(conf, &st2);
    check("file_fstat_stat", fs == 0 && ss == 0 && S_ISREG(st.st_mode) && st.st_size == n && st2.st_size == n &&
                                 S_ISREG(st2.st_mode),
          "fstat %d (size %ld), stat %d (size %ld), read %ld", fs, fs ? -1L : (long)st.st_size, ss,
          ss ? -1L : (long)st2.st_size, (long)n);
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    off_t at = fd >= 0 ? lseek(fd, 10, SEEK_SET) : -1;
    ssize_t got = fd >= 0 ? read(fd, part, 5) : -1;
    off_t cur = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;
    check("file_lseek", end == n && at == 10 && got == 5 && !memcmp(part, whole + 10, 5) && cur == 15,
          "end %ld, set %ld, read %ld, cur %ld", (long)end, (long)at, (long)got, (long)cur);
    check("file_lseek_negative", fd >= 0 && fails_with((int)lseek(fd, -1, SEEK_SET), EINVAL), "errno %d", errno);
    errno = 0;
    check("file_isatty_enotty", fd >= 0 && isatty(fd) == 0 && errno == ENOTTY, "errno %d", errno);
    check("file_write_ebadf", fd >= 0 && fails_with((int)write(fd, "x", 1), EBADF), "errno %d", errno);
    if (fd >= 0)
        close(fd);
    check("file_read_closed_ebadf", fails_with((int)read(fd, part, 1), EBADF), "errno %d", errno);

    FILE *f = fopen(conf, "r");
    char line[256];
    int line_ok = f && fgets(line, sizeof line, f) && !strcmp(line, CONF_FIRST_LINE);
    check("fopen_fgets", line_ok, "%s: %s", conf, f ? "first line differs" : strerror(errno));
    if (f)
        fclose(f);
    check("fopen_missing_enoent", !fopen(in_dir(1, dir, "missing.conf"), "r") && errno == ENOENT, "errno %d", errno);
}

/* Nothing in the read-only directory may change, and each refusal says EROFS. */
static void check_read_only_refusals(const char *dir) {
    const char *conf = in_dir(0, dir, CONF_NAME), *fresh = in_dir(1, dir, "new.conf");
    check("rofs_open_write", fails_with(open(conf, O_WRONLY), EROFS), "errno %d", errno);
    check("rofs_create", fails_with(open(fresh, O_WRONLY | O_CREAT, 0644), EROFS), "errno %d", errno);
    check("rofs_fopen_w", !fopen(fresh, "w") && errno == EROFS, "errno %d", errno);
    check("rofs_unlink", fails_with(unlink(conf), EROFS), "errno %d", errno);
    check("rofs_rename", fails_with(rename(conf, fresh), EROFS), "errno %d", errno);
    check("rofs_mkdir", fails_with(mkdir(in_dir(2, dir, "sub"), 0755), EROFS), "errno %d", errno);
    check("mkdir_existing_eexist", fails_with(mkdir(dir, 0755), EEXIST), "errno %d", errno);
    check("access_read", access(conf, R_OK) == 0, "errno %d", errno);
    check("access_write_erofs", fails_with(access(conf, W_OK), EROFS), "errno %d", errno);
    check("access_missing_enoent", fails_with(access(fresh, F_OK), ENOENT), "errno %d", errno);
    check("open_missing_enoent", fails_with(open(fresh, O_RDONLY), ENOENT), "errno %d", errno);
    struct stat st;
    check("stat_dir", stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "errno %d", errno);
}

static void check_writable_area(void) {
    static char out[SCRATCH_LEN], back[SCRATCH_LEN + 16];
    for (int i = 0; i < SCRATCH_LEN; i++)
        out[i] = (char)('a' + i % 26);
    unlink(SCRATCH), unlink(MOVED);
    int fd = open(SCRATCH, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ssize_t w = fd >= 0 ? write(fd, out, SCRATCH_LEN) : -1;
    off_t at = fd >= 0 ? lseek(fd, 0, SEEK_SET) : -1;
    ssize_t r = fd >= 0 ? read(fd, back, sizeof back) : -1;
    check("area_write_read_back", w == SCRATCH_LEN && at == 0 && r == SCRATCH_LEN && !memcmp(out, back, SCRATCH_LEN),
          "fd %d, write %ld, seek %ld, read %ld (errno %d)", fd, (long)w, (long)at, (long)r, errno);
    /* A write past the end leaves a hole that reads as zeros. */
    off_t far = fd >= 0 ? lseek(fd, SCRATCH_LEN + 8, SEEK_SET) : -1;
    ssize_t w2 = fd >= 0 ? write(fd, "Z", 1) : -1;
    lseek(fd, SCRATCH_LEN, SEEK_SET);
    ssize_t r2 = fd >= 0 ? read(fd, back, 16) : -1;
    check("area_hole_zeros", far == SCRATCH_LEN + 8 && w2 == 1 && r2 == 9 && !memcmp(back, "\0\0\0\0\0\0\0\0Z", 9),
          "seek %ld, write %ld, read %ld", (long)far, (long)w2, (long)r2);
    check("area_ftruncate", fd >= 0 && ftruncate(fd, 100) == 0 && lseek(fd, 0, SEEK_END) == 100, "errno %d", errno);
    if (fd >= 0)
        close(fd);
    fd = open(SCRATCH, O_WRONLY | O_APPEND);
    ssize_t wa = fd >= 0 ? write(fd, "tail", 4) : -1;
    struct stat st;
    int fs = fd >= 0 ? fstat(fd, &st) : -1;
    check("area_append", wa == 4 && fs == 0 && st.st_size == 104 && S_ISREG(st.st_mode),
          "write %ld, fstat %d size %ld", (long)wa, fs, fs ? -1L : (long)st.st_size);
    check("area_read_on_wronly_ebadf", fd >= 0 && fails_with((int)read(fd, back, 1), EBADF), "errno %d", errno);
    if (fd >= 0)
        close(fd);
    check("area_create_excl_eexist", fails_with(open(SCRATCH, O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST), "errno %d", errno);
    check("area_rename", rename(SCRATCH, MOVED) == 0 && fails_with(stat(SCRATCH, &st), ENOENT) &&
                             stat(MOVED, &st) == 0 && st.st_size == 104,
          "errno %d", errno);
    check("area_unlink", unlink(MOVED) == 0 && fails_with(stat(MOVED, &st), ENOENT), "errno %d", errno);
    check("area_unlink_missing_enoent", fails_with(unlink(MOVED), ENOENT), "errno %d", errno);
    check("area_rename_missing_enoent", fails_with(rename(MOVED, SCRATCH), ENOENT), "errno %d", errno);

    FILE *f = fopen(LEFT_BEHIND, "w");
    int wrote = f && fprintf(f, "posixcheck wrote this line %d\n", 42) > 0;
    int closed = f && fclose(f) == 0;
    f = fopen(LEFT_BEHIND, "r");
    char line[64] = "";
    int read_ok = f && fgets(line, sizeof line, f) && !strcmp(line, "posixcheck wrote this line 42\n");
    if (f)
        fclose(f);
    check("area_fopen_fprintf", wrote && closed && read_ok, "wrote %d, closed %d, read \"%s\"", wrote, closed, line);
}

/* One descriptor space: a file and a socket in one poll and one select; a file is always ready. */
static void check_poll_files_and_sockets(const char *dir) {
    int fd = open(in_dir(0, dir, CONF_NAME), O_RDONLY);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct pollfd p[2] = {{fd, POLLIN, 0}, {s, POLLIN, 0}};
    int n = fd >= 0 && s >= 0 ? poll(p, 2, 0) : -1;
    check("poll_file_and_socket", n == 1 && (p[0].revents & POLLIN) && p[1].revents == 0,
          "poll %d, file revents %#x, idle socket revents %#x", n, p[0].revents, p[1].revents);
    fd_set rd;
    FD_ZERO(&rd);
    if (fd >= 0 && s >= 0)
        FD_SET(fd, &rd), FD_SET(s, &rd);
    struct timeval tv = {0, 0};
    int sel = fd >= 0 && s >= 0 ? select((fd > s ? fd : s) + 1, &rd, NULL, NULL, &tv) : -1;
    check("select_file_and_socket", sel == 1 && FD_ISSET(fd, &rd) && !FD_ISSET(s, &rd), "select %d", sel);
    check("lseek_socket_espipe", s >= 0 && fails_with((int)lseek(s, 0, SEEK_SET), ESPIPE), "errno %d", errno);
    check("socket_call_on_file_enotsock", fd >= 0 && fails_with(listen(fd, 1), ENOTSOCK), "errno %d", errno);
    if (fd >= 0)
        close(fd);
    if (s >= 0)
        close(s);
}

/* /dev/null as `curl -o /dev/null` opens it (stdio's "wb"): more than the writable area holds
 * goes in, nothing comes out, and it is a character device. */
static void check_dev_null(void) {
    static char block[64 * 1024];
    int fd = open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    long total = 0;
    for (int i = 0; fd >= 0 && i < 64; i++) { /* 4 MiB: past the 1 MiB area of curl, 64 KiB here */
        ssize_t n = write(fd, block, sizeof block);
        total += n > 0 ? n : 0;
    }
    struct stat st, st2;
    int fs = fd >= 0 ? fstat(fd, &st) : -1;
    int ss = stat("/dev/null", &st2);
    check("dev_null_takes_writes", fd >= 0 && total == 64L * (long)sizeof block && fs == 0 && S_ISCHR(st.st_mode) &&
                                       ss == 0 && S_ISCHR(st2.st_mode),
          "fd %d (errno %d), wrote %ld, fstat %d mode %o, stat %d mode %o", fd, errno, total, fs,
          fs ? 0u : (unsigned)st.st_mode, ss, ss ? 0u : (unsigned)st2.st_mode);
    if (fd >= 0)
        close(fd);
    fd = open("/dev/null", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, block, sizeof block) : -1;
    check("dev_null_reads_end", fd >= 0 && got == 0, "fd %d, read %ld (errno %d)", fd, (long)got, errno);
    if (fd >= 0)
        close(fd);
}

void check_files(const char *read_only_dir) {
    check_read_only_file(read_only_dir);
    check_read_only_refusals(read_only_dir);
    check_writable_area();
    check_poll_files_and_sockets(read_only_dir);
    check_dev_null();
}

/* ---- the process: identity, limits, and the calls a fiber cannot make ---- */

void check_process(void) {
    check("getpid", getpid() > 0, "getpid %ld", (long)getpid());
    struct utsname u;
    check("uname", uname(&u) == 0 && u.sysname[0] && u.machine[0], "errno %d", errno);
    long open_max = sysconf(_SC_OPEN_MAX), page = sysconf(_SC_PAGESIZE), tck = sysconf(_SC_CLK_TCK);
    check("sysconf", open_max >= 20 && page == 4096 && tck > 0, "open_max %ld, pagesize %ld, clk_tck %ld",
          open_max, page, tck);
    check("sysconf_bad_einval", sysconf(-1) == -1 && errno == EINVAL, "errno %d", errno);
    struct rlimit rl;
    check("getrlimit_nofile", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 20 && rl.rlim_cur <= rl.rlim_max,
          "errno %d", errno);
    check("getrlimit_bad_einval", fails_with(getrlimit(-1, &rl), EINVAL), "errno %d", errno);

    /* fork works on a host and cannot exist on Nexus: either is right, half-way is not. */
    pid_t child = fork();
    int status = -1;
    if (child == 0)
        _exit(7);
    if (child > 0)
        waitpid(child, &status, 0);
    check("fork_or_enosys", (child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 7) ||
                                (child == -1 && errno == ENOSYS),
          "fork %ld, errno %d", (long)child, errno);
    char *argv[] = {"posixcheck-none", NULL};
    int e = execv("/posixcheck-none/none", argv);
    check("execv_fails", e == -1 && (errno == ENOENT || errno == ENOSYS), "execv %d, errno %d", e, errno);
    void *lib = dlopen("libposixcheck-none.so", RTLD_NOW);
    const char *why = lib ? NULL : dlerror();
    check("dlopen_fails", !lib && why && *why, "dlopen %p, dlerror %s", lib, why ? why : "(none)");
}
