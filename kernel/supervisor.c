/*
 * Restart policies and the services under them (supervisor.h). A failure is any end but exit
 * code 0. After a failure the service restarts at once if it had run for at least stable_ms;
 * a service that fails sooner is in a crash loop and waits backoff_ms, doubled for each further
 * quick failure up to backoff_max_ms. Reaching `limit` failures within window_ms, it stays down.
 *
 * The operator (the console's start, stop and restart) overrides the policy: a stop is never a
 * failure, and a start forgets the failures before it, so a service the policy left down gets a
 * whole new window.
 */
#include "supervisor.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "cspace.h"
#include "fiber.h"
#include "kernel.h"
#include "link.h"
#include "manifest.h"
#include "restart_policy.h"
#include "riscv.h"
#include "timer.h"

#define MAX_SERVICES 32
#define CRASH_HISTORY RESTART_HISTORY_MAX

enum service_state {
    SVC_RUNNING,
    SVC_WAITING,  /* a restart is due at restart_at */
    SVC_STOPPING, /* asked to stop by the operator; `then` says what follows its end */
    SVC_DOWN,     /* left down by its policy */
    SVC_DONE,     /* exited 0 */
    SVC_STOPPED,  /* stopped by the operator */
    SVC_IDLE,     /* on demand: never started (manifest.h on_demand) */
    SVC_DEFERRED, /* after_boot: starts at the first idle moment, or at restart_at at the latest */
};

struct service {
    const struct manifest_entry *entry;
    const struct restart_policy *policy;
    enum service_state state;
    enum service_state then; /* SVC_STOPPING: SVC_STOPPED, or SVC_RUNNING for a restart */
    unsigned restarts, failures, quick_failures;
    uint64_t failed_at[CRASH_HISTORY]; /* ticks of the latest failures, a ring */
    uint64_t forgiven_until;           /* failures at or before this tick no longer count */
    uint64_t restart_at;
    char args[SUPERVISOR_ARGS_MAX]; /* the console's `run` arguments, replacing the manifest's */
    int has_args;
};

static struct service services[MAX_SERVICES];
static unsigned nservices;
static uint64_t next_due = UINT64_MAX;

static struct service *service_find(const char *name) {
    for (unsigned i = 0; i < nservices; i++)
        if (!strcmp(services[i].entry->name, name))
            return &services[i];
    return NULL;
}

static int spawn(struct service *s) {
    const struct manifest_entry *e = s->entry;
    struct fiber_spec spec = {e->name, e->image, s->has_args ? s->args : e->args, e->grants, e->pledge};
    int id = fiber_spawn(&spec);
    s->state = id > 0 ? SVC_RUNNING : SVC_DOWN;
    return id;
}

/* A new service for entry e, not started yet; NULL with *err set if there is no room. */
static struct service *service_add(const struct manifest_entry *e, int *err) {
    const struct restart_policy *p = restart_policy(e->restart);
    *err = !p || p->limit > CRASH_HISTORY ? -EINVAL : nservices == MAX_SERVICES || service_find(e->name) ? -ENOSPC : 0;
    if (*err)
        return NULL;
    struct service *s = &services[nservices];
    memset(s, 0, sizeof *s);
    s->entry = e;
    s->policy = p;
    return s;
}

static void publish_new(const struct service *s) {
    fiber_publish(s->entry->name, "policy", "%s", s->policy->name);
    fiber_publish(s->entry->name, "restarts", "0");
}

int supervisor_start(const struct manifest_entry *e) {
    int err;
    struct service *s = service_add(e, &err);
    if (!s)
        return err;
    int id = spawn(s);
    if (id < 0)
        return id;
    nservices++;
    publish_new(s);
    return id;
}

/* An entry the boot knows but does not start now, in `state`; NULL with *err if none fits. */
static struct service *register_unstarted(const struct manifest_entry *e, enum service_state state, int *err) {
    struct service *s = service_add(e, err);
    if (!s)
        return NULL;
    s->state = state;
    nservices++;
    publish_new(s);
    return s;
}

/* An on-demand entry: known to the console, started by `run`. */
static int supervisor_add_idle(const struct manifest_entry *e) {
    int err;
    if (!register_unstarted(e, SVC_IDLE, &err))
        return err;
    fiber_publish(e->name, "state", "idle: on demand (console: run %s ARGS)", e->name);
    return 0;
}

static void recompute_next_due(void);

/* An after_boot entry: known now, started by supervisor_idle or, if the CPU is never idle,
 * supervisor_tick at the latest. */
static int supervisor_defer(const struct manifest_entry *e) {
    int err;
    struct service *s = register_unstarted(e, SVC_DEFERRED, &err);
    if (!s)
        return err;
    s->restart_at = rdtime() + timer_ticks_from_ns((uint64_t)SUPERVISOR_DEFER_MAX_MS * 1000000);
    fiber_publish(e->name, "state", "deferred: starts when the boot's first services let the CPU idle");
    if (s->restart_at < next_due)
        next_due = s->restart_at;
    return 0;
}

/* The boot's start of a deferred service, announced as the boot announces the others. */
static void start_deferred(struct service *s) {
    const struct manifest_entry *e = s->entry;
    int id = spawn(s);
    if (id < 0) {
        kprintf("supervisor: %s: cannot start image %s (error %d)\n", e->name, e->image, -id);
        fiber_publish(e->name, "state", "down: start failed with error %d", -id);
    } else {
        kprintf("supervisor: started %s#%d after boot (image %s, pledge \"%s\", restart %s)\n", e->name, id, e->image,
                e->pledge, restart_policy(e->restart)->name);
    }
}

int supervisor_idle(void) {
    for (unsigned i = 0; i < nservices; i++) {
        if (services[i].state == SVC_DEFERRED) {
            start_deferred(&services[i]);
            recompute_next_due();
            return 1;
        }
    }
    return 0;
}

/* Links are the manifest's objects: made once, before anyone starts, so whichever end starts
 * (or restarts) first finds them. Each takes the promise its server's entry names. */
static void create_links(const struct manifest *m, const struct manifest_entry *e) {
    struct grant g[GRANTS_MAX];
    int n = grants_parse(e->grants ? e->grants : "", g, GRANTS_MAX);
    for (int i = 0; i < n; i++) {
        if (g[i].kind != GRANT_LINK)
            continue;
        uint32_t promise;
        int err = manifest_link_promise(m, g[i].server, &promise);
        if (err < 0)
            kprintf("  %s: cannot link to %s: %s\n", e->name, g[i].server,
                    err == -ENOENT ? "no such service in the manifest" : "it serves no links");
        else if ((err = link_create(e->name, g[i].server, g[i].rights, promise,
                                    manifest_link_pages(m, g[i].server, grants_name_area(g, n, g[i].server)))) < 0)
            kprintf("  %s: cannot link to %s (error %d)\n", e->name, g[i].server, -err);
    }
}

void supervisor_start_manifest(const struct manifest *m) {
    for (unsigned i = 0; i < m->count; i++)
        create_links(m, &m->entries[i]);
    for (unsigned i = 0; i < m->count; i++) {
        const struct manifest_entry *e = &m->entries[i];
        if (e->after_boot) {
            int err = supervisor_defer(e);
            if (err < 0)
                kprintf("  %s: cannot register (error %d)\n", e->name, -err);
            continue;
        }
        if (e->on_demand) {
            int err = supervisor_add_idle(e);
            if (err < 0)
                kprintf("  %s: cannot register (error %d)\n", e->name, -err);
            continue;
        }
        int id = supervisor_start(e);
        if (id < 0)
            kprintf("  %s: cannot start image %s (error %d)\n", e->name, e->image, -id);
        else
            kprintf("  started %s#%d (image %s, pledge \"%s\", restart %s)\n", e->name, id, e->image,
                    e->pledge, restart_policy(e->restart)->name);
    }
}

static void recompute_next_due(void) {
    next_due = UINT64_MAX;
    for (unsigned i = 0; i < nservices; i++)
        if ((services[i].state == SVC_WAITING || services[i].state == SVC_DEFERRED) && services[i].restart_at < next_due)
            next_due = services[i].restart_at;
}

/* Failures of s within its window, counting the one at `now`. */
static unsigned failures_in_window(const struct service *s, uint64_t now) {
    uint64_t window = timer_ticks_from_ns((uint64_t)s->policy->window_ms * 1000000);
    unsigned n = 0;
    for (unsigned i = 0; i < CRASH_HISTORY && i < s->failures; i++)
        n += now - s->failed_at[i] <= window && s->failed_at[i] > s->forgiven_until;
    return n;
}

static int operator_stop(struct service *s, enum service_state then);

/* A new instance of `server` holds none of the old one's sockets: the services bound to it
 * (their entries' restarts_with) start again too, and set up their sockets afresh. */
static void restart_bound(const struct service *server) {
    for (unsigned i = 0; i < nservices; i++) {
        struct service *t = &services[i];
        const char *with = t->entry->restarts_with;
        if (!with || strcmp(with, server->entry->name) || t->state != SVC_RUNNING)
            continue;
        kprintf("supervisor: %s restarts with %s\n", t->entry->name, with);
        operator_stop(t, SVC_RUNNING);
    }
}

/* Counts and announces a start that the policy did not make (a restart, or an operator's). */
static int respawn(struct service *s, const char *why) {
    int id = spawn(s);
    if (id < 0) {
        kprintf("supervisor: cannot restart %s (error %d); leaving it down\n", s->entry->name, -id);
        fiber_publish(s->entry->name, "state", "down: restart failed with error %d", -id);
        return id;
    }
    s->restarts++;
    fiber_publish(s->entry->name, "restarts", "%u", s->restarts);
    kprintf("supervisor: %s %s#%d (restart %u)\n", why, s->entry->name, id, s->restarts);
    /* Whoever used the service is stalled until it is back: it runs first, not after a whole
     * round of the others (its slot is usually the one its predecessor left, just behind). */
    struct fiber *f = fiber_by_id((uint32_t)id);
    if (f)
        fiber_run_next(f);
    restart_bound(s);
    return id;
}

static void mark_stopped(struct service *s) {
    s->state = SVC_STOPPED;
    fiber_publish(s->entry->name, "state", "stopped by the operator");
    kprintf("supervisor: %s stopped\n", s->entry->name);
}

/* The end of a service the operator asked to stop: it stays stopped, or comes back at once. */
static void operator_ended(struct service *s) {
    if (s->then == SVC_RUNNING)
        respawn(s, "restarted");
    else
        mark_stopped(s);
}

void supervisor_ended(const char *name, const struct fiber_end_info *end, uint64_t ran) {
    struct service *s = service_find(name);
    if (!s)
        return;
    if (s->state == SVC_STOPPING) {
        operator_ended(s);
        return;
    }
    if (end->kind == END_EXIT && end->code == 0) {
        s->state = SVC_DONE;
        return;
    }
    char how[BUS_VALUE_MAX - 24];
    fiber_end_describe(end, how, sizeof how);
    uint64_t now = rdtime();
    s->failed_at[s->failures % CRASH_HISTORY] = now;
    s->failures++;
    fiber_publish(s->entry->name, "last_fault", "%s at %lu ms", how, timer_ns_from_ticks(now) / 1000000);
    fiber_publish(s->entry->name, "crashes", "%u", s->failures);
    const struct restart_policy *p = s->policy;
    unsigned recent = failures_in_window(s, now);
    if (p->limit == 0 || recent >= p->limit) {
        s->state = SVC_DOWN;
        if (p->limit) {
            fiber_publish(s->entry->name, "state", "down: %u failures in %u s, not restarted", recent, p->window_ms / 1000);
            kprintf("supervisor: %s failed %u times in %u s; leaving it down\n", name, recent, p->window_ms / 1000);
        }
        return;
    }
    uint64_t delay_ms = 0;
    if (timer_ns_from_ticks(ran) < (uint64_t)p->stable_ms * 1000000) {
        unsigned shift = s->quick_failures < 16 ? s->quick_failures : 16;
        delay_ms = (uint64_t)p->backoff_ms << shift;
        if (delay_ms > p->backoff_max_ms)
            delay_ms = p->backoff_max_ms;
        s->quick_failures++;
    } else {
        s->quick_failures = 0;
    }
    s->state = SVC_WAITING;
    s->restart_at = now + timer_ticks_from_ns(delay_ms * 1000000);
    fiber_publish(s->entry->name, "state", "restarting in %lu ms", delay_ms);
    recompute_next_due();
    if (delay_ms == 0)
        supervisor_tick(now);
}

void supervisor_tick(uint64_t now) {
    if (now < next_due)
        return;
    for (unsigned i = 0; i < nservices; i++) {
        struct service *s = &services[i];
        if ((s->state != SVC_WAITING && s->state != SVC_DEFERRED) || s->restart_at > now)
            continue;
        if (s->state == SVC_DEFERRED)
            start_deferred(s);
        else
            respawn(s, "restarted");
    }
    recompute_next_due();
}

uint64_t supervisor_next_due(void) { return next_due; }

/* Asks a running service to stop; `then` is what follows its end (operator_ended). */
static int operator_stop(struct service *s, enum service_state then) {
    struct fiber *f = fiber_by_name(s->entry->name);
    if (!f || fiber_stop(f) < 0)
        return -ESRCH;
    s->state = SVC_STOPPING;
    s->then = then;
    fiber_publish(s->entry->name, "state", "%s", then == SVC_RUNNING ? "restarting" : "stopping");
    return 0;
}

static int operator_start(struct service *s) {
    if (s->state == SVC_DEFERRED) { /* not started yet: this is its first start, not a restart */
        start_deferred(s);
        recompute_next_due();
        return s->state == SVC_RUNNING ? 0 : -ENOEXEC;
    }
    s->forgiven_until = rdtime();
    s->quick_failures = 0;
    int id = respawn(s, "started");
    recompute_next_due(); /* a start over a pending restart replaces it */
    return id < 0 ? id : 0;
}

static int op_stop(struct service *s) {
    if (s->state == SVC_WAITING || s->state == SVC_DEFERRED) { /* cancel the (re)start due */
        mark_stopped(s);
        recompute_next_due();
        return 0;
    }
    return s->state == SVC_RUNNING ? operator_stop(s, SVC_STOPPED) : -EALREADY;
}

/* start is the manifest's program as the manifest says: arguments an earlier `run` gave (which
 * its own restarts kept) are dropped. */
static int op_start(struct service *s) {
    if (s->state == SVC_RUNNING)
        return -EALREADY;
    s->has_args = 0;
    return operator_start(s);
}

static int op_restart(struct service *s) {
    return s->state == SVC_RUNNING ? operator_stop(s, SVC_RUNNING) : operator_start(s);
}

static const struct {
    const char *verb;
    int (*run)(struct service *s);
} operator_verbs[] = {
    {"stop", op_stop},
    {"start", op_start},
    {"restart", op_restart},
};

int supervisor_command(const char *verb, const char *name) {
    struct service *s = service_find(name);
    if (!s)
        return -ENOENT;
    for (unsigned i = 0; i < ARRAY_LEN(operator_verbs); i++)
        if (!strcmp(operator_verbs[i].verb, verb))
            return s->state == SVC_STOPPING ? -EBUSY : operator_verbs[i].run(s);
    return -EINVAL;
}

int supervisor_run(const char *name, const char *args) {
    struct service *s = service_find(name);
    if (!s)
        return -ENOENT;
    if (s->state == SVC_STOPPING)
        return -EBUSY;
    if (s->state == SVC_RUNNING)
        return -EALREADY;
    size_t n = strlen(args);
    if (n >= sizeof s->args)
        return -E2BIG;
    memcpy(s->args, args, n + 1);
    s->has_args = 1;
    /* A run is a new start of a program, not a restart: its failures so far are forgiven and
     * not counted again. */
    s->forgiven_until = rdtime();
    s->quick_failures = 0;
    int id = spawn(s);
    recompute_next_due(); /* a run over a pending restart replaces it */
    if (id < 0)
        return id;
    kprintf("supervisor: started %s#%d\n", name, id);
    return 0;
}

int supervisor_names(char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < nservices && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", services[i].entry->name);
    return (int)nservices;
}
