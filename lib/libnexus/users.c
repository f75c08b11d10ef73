/*
 * libnexus: users. What a fiber may do is its capabilities and pledge, not a user id; to the
 * POSIX calls it is one unprivileged user, uid and gid NEXUS_APP_UID, named after the app (its
 * fiber's name), the only entry of the user database. So a program that drops root privileges
 * finds it is not root and goes on (mosquitto's drop_privileges), and one that changes its
 * identity or groups gets EPERM, as an unprivileged process on Linux (process.c says so on the
 * console once per call).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "libnexus.h"
#include "nexus.h"

#define NEXUS_APP_UID 1000 /* Debian's first ordinary user */

uid_t getuid(void) { return NEXUS_APP_UID; }
uid_t geteuid(void) { return NEXUS_APP_UID; }
gid_t getgid(void) { return NEXUS_APP_UID; }
gid_t getegid(void) { return NEXUS_APP_UID; }

/* The one entry: the app's user. Asked of the kernel once, as getpid. */
static struct passwd *app_user(void) {
    static struct passwd pw;
    static char name[sizeof ((struct nexus_identity *)0)->name];
    if (!pw.pw_name) {
        struct nexus_identity me;
        if (nx_identity(&me) != 0)
            return NULL;
        memcpy(name, me.name, sizeof name);
        name[sizeof name - 1] = 0;
        pw = (struct passwd){.pw_name = name, .pw_passwd = "*", .pw_uid = NEXUS_APP_UID, .pw_gid = NEXUS_APP_UID,
                             .pw_comment = "", .pw_gecos = name, .pw_dir = "/", .pw_shell = ""};
    }
    return &pw;
}

/* NULL with errno untouched when there is no such user, as POSIX says. */
struct passwd *getpwnam(const char *name) {
    struct passwd *pw = app_user();
    return pw && name && !strcmp(name, pw->pw_name) ? pw : NULL;
}

struct passwd *getpwuid(uid_t uid) {
    struct passwd *pw = app_user();
    return pw && uid == pw->pw_uid ? pw : NULL;
}

/* As for an unprivileged process: keeping one's own identity succeeds, changing it is EPERM. */
int setuid(uid_t uid) {
    if (uid == getuid())
        return 0;
    return (int)nxl_result(nxl_unavailable("setuid", EPERM));
}

int setgid(gid_t gid) {
    if (gid == getgid())
        return 0;
    return (int)nxl_result(nxl_unavailable("setgid", EPERM));
}

int initgroups(const char *user, gid_t group) {
    (void)user, (void)group;
    return (int)nxl_result(nxl_unavailable("initgroups", EPERM));
}

/* A fiber already leads its own session: setsid fails as for a session leader on Linux. */
pid_t setsid(void) { return (pid_t)nxl_result(nxl_unavailable("setsid", EPERM)); }
