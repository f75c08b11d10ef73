/*
 * tee (POSIX): copies its standard input to its standard output and to each FILE, until the end
 * of its input; -a appends instead of truncating. On Nexus its input is what the operator types
 * once the console is given to it (`run tee notes.txt`, then `attach tee`; Ctrl-D ends it), and
 * a relative FILE lands in its writable file area (`cat tee/notes.txt`).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILES_MAX 8

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w, n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    int flags = O_WRONLY | O_CREAT | O_TRUNC, first = 1, status = 0;
    if (argc > 1 && strcmp(argv[1], "-a") == 0)
        flags = O_WRONLY | O_CREAT | O_APPEND, first = 2;
    int out[FILES_MAX];
    const char *name[FILES_MAX];
    int files = 0;
    for (int i = first; i < argc; i++) {
        if (files == FILES_MAX) {
            fprintf(stderr, "tee: at most %d files; %s left out\n", FILES_MAX, argv[i]);
            status = 1;
            continue;
        }
        int fd = open(argv[i], flags, 0644);
        if (fd < 0) {
            fprintf(stderr, "tee: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        name[files] = argv[i];
        out[files++] = fd;
    }
    char buf[512];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "tee: reading standard input: %s\n", strerror(errno));
            status = 1;
        }
        if (n <= 0)
            break;
        if (write_all(STDOUT_FILENO, buf, (size_t)n))
            status = 1;
        for (int i = 0; i < files; i++) {
            if (out[i] >= 0 && write_all(out[i], buf, (size_t)n)) {
                fprintf(stderr, "tee: %s: %s\n", name[i], strerror(errno));
                close(out[i]);
                out[i] = -1;
                status = 1;
            }
        }
    }
    for (int i = 0; i < files; i++)
        if (out[i] >= 0 && close(out[i]))
            status = 1;
    return status;
}
