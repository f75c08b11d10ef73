/*
 * posixcheck: what a ported daemon asks about its system before it serves (mosquitto's start):
 * directories (its include_dir), the file mode mask, its user, the network interfaces,
 * whether a descriptor is a terminal, and its standard input before anything is typed.
 * Plain POSIX, proven on the host against glibc first (where posixcheck runs as root), like the
 * rest of posixcheck; on Nexus an app is one unprivileged user and changing identity is EPERM.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "posixcheck.h"

#define CONF_NAME "posixcheck.conf"     /* in the read-only directory (files.c) */
#define LEFT_BEHIND "posixcheck.txt"    /* in the current directory, by files.c */

struct listing {
    int entries, dot, dotdot;
    int found;              /* `want` was listed */
    unsigned char want_type; /* its d_type */
};

/* Reads dir to its end, looking for `want`. */
static void list(DIR *dir, const char *want, struct listing *l) {
    memset(l, 0, sizeof *l);
    struct dirent *e;
    errno = 0;
    while ((e = readdir(dir)) != NULL) {
        l->entries++;
        l->dot += !strcmp(e->d_name, ".");
        l->dotdot += !strcmp(e->d_name, "..");
        if (!strcmp(e->d_name, want)) {
            l->found++;
            l->want_type = e->d_type;
        }
    }
}

/* d_type may be DT_UNKNOWN on a host file system that does not keep it; never another type. */
static int type_is(unsigned char type, unsigned char want) { return type == want || type == DT_UNKNOWN; }

static void check_directories(const char *read_only_dir) {
    struct listing l, again;
    DIR *dir = opendir(read_only_dir);
    if (dir) {
        list(dir, CONF_NAME, &l);
        int end_errno = errno;
        rewinddir(dir);
        list(dir, CONF_NAME, &again);
        check("readdir_read_only", l.found == 1 && type_is(l.want_type, DT_REG) && l.dot == 1 && l.dotdot == 1 &&
                                       end_errno == 0 && again.entries == l.entries && again.found == 1,
              "%s: %d entries, %s found %d times (type %d), . %d, .. %d, errno at the end %d, after rewind %d",
              read_only_dir, l.entries, CONF_NAME, l.found, l.want_type, l.dot, l.dotdot, end_errno, again.entries);
        check("closedir", closedir(dir) == 0, "errno %d", errno);
    } else {
        check("readdir_read_only", 0, "opendir %s: errno %d", read_only_dir, errno);
    }
    dir = opendir("/");
    if (dir) {
        list(dir, "etc", &l);
        closedir(dir);
    }
    check("readdir_root_has_etc", dir && l.found == 1 && type_is(l.want_type, DT_DIR), "opendir / %s, etc found %d (type %d)",
          dir ? "ok" : "failed", dir ? l.found : -1, dir ? l.want_type : -1);
    dir = opendir(".");
    if (dir) {
        list(dir, LEFT_BEHIND, &l);
        closedir(dir);
    }
    check("readdir_writable", dir && l.found == 1 && type_is(l.want_type, DT_REG) && l.dot == 1,
          "opendir . %s, %s found %d", dir ? "ok" : "failed", LEFT_BEHIND, dir ? l.found : -1);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", read_only_dir, CONF_NAME);
    DIR *file = opendir(path);
    int file_errno = errno;
    snprintf(path, sizeof path, "%s/posixcheck-none", read_only_dir);
    DIR *none = opendir(path);
    check("opendir_errors", !file && file_errno == ENOTDIR && !none && errno == ENOENT,
          "a file: %s (errno %d), a missing name: %s (errno %d)", file ? "opened" : "refused", file_errno,
          none ? "opened" : "refused", errno);
}

static void check_umask(void) {
    mode_t first = umask(027);
    mode_t second = umask(first);
    check("umask", second == 027 && umask(first) == first, "umask gave back %o after setting 027", (unsigned)second);
}

static void check_user(void) {
    uid_t uid = getuid();
    gid_t gid = getgid();
    struct passwd *pw = getpwuid(uid);
    char name[64] = "";
    if (pw)
        snprintf(name, sizeof name, "%s", pw->pw_name);
    check("getuid_getpwuid", geteuid() == uid && getegid() == gid && pw && pw->pw_uid == uid && name[0],
          "uid %ld euid %ld, gid %ld egid %ld, getpwuid %s", (long)uid, (long)geteuid(), (long)gid, (long)getegid(),
          pw ? "found" : "NULL");
    struct passwd *by_name = name[0] ? getpwnam(name) : NULL;
    check("getpwnam", by_name && by_name->pw_uid == uid, "getpwnam(%s) %s", name,
          by_name ? "has another uid" : "NULL");
    errno = 0;
    check("getpwnam_unknown", getpwnam("posixcheck-no-such-user") == NULL, "found a user that does not exist");
    /* Anyone may keep its own identity; only root (the host run, not asked to leave it) may take
     * another (Nexus: one unprivileged user, EPERM). */
    int same = setuid(uid) == 0 && setgid(gid) == 0;
    errno = 0;
    int other = uid == 0 ? -1 : setuid(uid + 1);
    int other_errno = errno;
    check("setuid_setgid_own_only", same && (uid == 0 || (other == -1 && other_errno == EPERM)),
          "uid %ld: to itself %d, to another %d errno %d", (long)uid, same, other, other_errno);
    /* Root (the host run) may set its groups; anyone else may not (Nexus: one unprivileged user). */
    int groups = initgroups(name, gid);
    check("initgroups_root_only", uid == 0 ? groups == 0 : groups == -1 && errno == EPERM,
          "uid %ld: initgroups %d, errno %d", (long)uid, groups, errno);
    /* A host process that leads no group starts a session (its id is the new session's); a
     * fiber already leads its own: EPERM. Half-way is not right. */
    pid_t session = setsid();
    check("setsid_or_eperm", session == getpid() || (session == -1 && errno == EPERM), "setsid %ld, errno %d",
          (long)session, errno);
}

static void check_interfaces(void) {
    struct ifaddrs *list = NULL;
    int r = getifaddrs(&list);
    int loopback = 0, unnamed = 0;
    for (struct ifaddrs *i = r == 0 ? list : NULL; i; i = i->ifa_next) {
        unnamed += !i->ifa_name || !i->ifa_name[0];
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_LOOPBACK) &&
            (i->ifa_flags & IFF_UP) &&
            ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
            loopback++;
    }
    check("getifaddrs_loopback", r == 0 && loopback == 1 && unnamed == 0,
          "getifaddrs %d (errno %d), loopback 127.0.0.1 entries %d, unnamed %d", r, errno, loopback, unnamed);
    if (r == 0)
        freeifaddrs(list);
}

static void check_terminal(void) {
    struct termios t;
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    int on_socket = tcgetattr(sock, &t);
    int socket_errno = errno;
    close(sock);
    /* stdin is a terminal on the Nexus console, /dev/null or a pipe under the host's harness */
    int on_stdin = tcgetattr(0, &t);
    int same = on_stdin == 0 && tcsetattr(0, TCSANOW, &t) == 0;
    check("tcgetattr", sock >= 0 && on_socket == -1 && socket_errno == ENOTTY &&
                           (isatty(0) ? same : on_stdin == -1 && errno == ENOTTY),
          "on a socket %d (errno %d); on stdin (isatty %d) %d, set back %d, errno %d", on_socket, socket_errno,
          isatty(0), on_stdin, same, errno);
}

/* Standard input with nothing typed yet (on Nexus, a program the console is not given to; under
 * the host's harness, an empty pipe held open): a non-blocking read says EAGAIN, poll says not
 * readable, and fcntl shows and clears the flag. */
static void check_stdin_waiting(void) {
    int flags = fcntl(0, F_GETFL);
    int set = flags >= 0 && fcntl(0, F_SETFL, flags | O_NONBLOCK) == 0;
    int shown = fcntl(0, F_GETFL);
    char c;
    errno = 0;
    ssize_t n = read(0, &c, 1);
    int read_errno = errno;
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int ready = poll(&p, 1, 0);
    int cleared = flags >= 0 && fcntl(0, F_SETFL, flags) == 0 && !(fcntl(0, F_GETFL) & O_NONBLOCK);
    check("stdin_nonblocking_nothing_typed",
          set && shown >= 0 && (shown & O_NONBLOCK) && (shown & O_ACCMODE) != O_WRONLY && n == -1 &&
              read_errno == EAGAIN && ready == 0 && cleared,
          "flags %#x, set %d, shown %#x, read %zd errno %d, poll %d, cleared %d", (unsigned)flags, set,
          (unsigned)shown, n, read_errno, ready, cleared);
}

void check_system(const char *read_only_dir) {
    if (read_only_dir)
        check_directories(read_only_dir);
    else
        note("directories skipped");
    check_umask();
    check_user();
    check_interfaces();
    check_terminal();
    check_stdin_waiting();
}
