/*
 * Process calls. A fiber is started by the manifest, has one address space and one identity,
 * and never forks, execs, changes user or loads code: those calls fail (ENOSYS, or EPERM for a
 * change of identity, as for an unprivileged process: users.c) and say so on the console once
 * per call, under the app's name, so a ported program's fallback path is visible. daemon() is one of them:
 * the program stays in the foreground (rinetd -f, mosquitto without -d). What a fiber does
 * have: an id (getpid), a machine to name (uname), limits (sysconf, getrlimit).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libnexus.h"
#include "nexus.h"

#define SAID_MAX 16

long nxl_unavailable(const char *call, int err) {
    static const char *said[SAID_MAX];
    unsigned i = 0;
    while (i < SAID_MAX && said[i] && strcmp(said[i], call))
        i++;
    if (i < SAID_MAX && !said[i]) {
        said[i] = call;
        fprintf(stderr, "%s: not available on Nexus (%s)\n", call, err == ENOSYS ? "ENOSYS" : "EPERM");
        fflush(stderr);
    }
    return -err;
}

int daemon(int nochdir, int noclose) {
    (void)nochdir, (void)noclose;
    return (int)nxl_result(nxl_unavailable("daemon", ENOSYS));
}

pid_t fork(void) { return (pid_t)nxl_result(nxl_unavailable("fork", ENOSYS)); }
pid_t vfork(void) { return (pid_t)nxl_result(nxl_unavailable("vfork", ENOSYS)); }

/* No fork, so never a child to wait for. */
pid_t waitpid(pid_t pid, int *status, int options) {
    (void)pid, (void)status, (void)options;
    return (pid_t)nxl_result(-ECHILD);
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    (void)path, (void)argv, (void)envp;
    return (int)nxl_result(nxl_unavailable("execve", ENOSYS));
}

int execv(const char *path, char *const argv[]) {
    (void)path, (void)argv;
    return (int)nxl_result(nxl_unavailable("execv", ENOSYS));
}

int execvp(const char *file, char *const argv[]) {
    (void)file, (void)argv;
    return (int)nxl_result(nxl_unavailable("execvp", ENOSYS));
}

/* dlopen reports through dlerror, not errno. */
static const char *dl_error;

void *dlopen(const char *file, int mode) {
    (void)file, (void)mode;
    nxl_unavailable("dlopen", ENOSYS);
    dl_error = "dlopen: no dynamic loading on Nexus";
    return NULL;
}

void *dlsym(void *handle, const char *name) {
    (void)handle, (void)name;
    dl_error = "dlsym: no dynamic loading on Nexus";
    return NULL;
}

int dlclose(void *handle) {
    (void)handle;
    dl_error = "dlclose: no handle was ever opened";
    return -1;
}

char *dlerror(void) {
    const char *e = dl_error;
    dl_error = NULL;
    return (char *)e;
}

/* A fiber's id is fixed for its life: asked of the kernel once (every safe point compares an
 * O_ASYNC socket's owner with it). */
pid_t getpid(void) {
    static pid_t pid;
    struct nexus_identity me;
    if (!pid)
        pid = nx_identity(&me) == 0 ? (pid_t)me.id : 1;
    return pid;
}

int uname(struct utsname *u) {
    if (!u)
        return (int)nxl_result(-EFAULT);
    memset(u, 0, sizeof *u);
    snprintf(u->sysname, sizeof u->sysname, "Nexus");
    snprintf(u->nodename, sizeof u->nodename, "nexus");
    snprintf(u->release, sizeof u->release, "0");
    snprintf(u->version, sizeof u->version, "microkernel");
    snprintf(u->machine, sizeof u->machine, "riscv64");
    return 0;
}

/* _SC_CLK_TCK: Linux's USER_HZ, which programs that scale tick counts assume. */
#define NEXUS_CLK_TCK 100

static const struct {
    int name;
    long value;
} sysconf_values[] = {
    {_SC_OPEN_MAX, NXL_FD_FIRST + NXL_FDS},
    {_SC_PAGESIZE, NEXUS_PAGE_SIZE},
    {_SC_CLK_TCK, NEXUS_CLK_TCK},
};

long sysconf(int name) {
    for (unsigned i = 0; i < sizeof sysconf_values / sizeof sysconf_values[0]; i++)
        if (sysconf_values[i].name == name)
            return sysconf_values[i].value;
    return nxl_result(-EINVAL);
}

int getrlimit(int resource, struct rlimit *rl) {
    if (!rl)
        return (int)nxl_result(-EFAULT);
    if (resource != RLIMIT_NOFILE)
        return (int)nxl_result(-EINVAL);
    rl->rlim_cur = rl->rlim_max = NXL_FD_FIRST + NXL_FDS; /* the descriptor table's size */
    return 0;
}
