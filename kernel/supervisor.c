/*
 * Restart policies and the services under them (supervisor.h). A failure is any end but exit
 * code 0. After a failure the service restarts at once if it had run for at least stable_ms;
 * a service that fails sooner is in a crash loop and waits backoff_ms, doubled for each further
 * quick failure up to backoff_max_ms. Reaching `limit` failures within window_ms, it stays down.
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
#include "riscv.h"
#include "timer.h"

#define MAX_SERVICES 16
#define CRASH_HISTORY 32 /* the largest limit a policy may set */

struct restart_policy {
    const char *name;
    unsigned limit;          /* failures within window_ms that stop the service; 0: never restart */
    uint32_t window_ms;
    uint32_t stable_ms;      /* a run at least this long restarts without delay */
    uint32_t backoff_ms;     /* first delay in a crash loop */
    uint32_t backoff_max_ms;
};

static const struct restart_policy policies[] = {
    {"never", 0, 0, 0, 0, 0},
    /* Long-lived services (the Membrane, httpd): come back at once, up to 30 failures a minute. */
    {"service", 30, 60000, 500, 10, 2000},
    /* Services that should not keep failing: 3 failures in 10 s and they stay down. */
    {"fragile", 3, 10000, 500, 10, 2000},
};

enum service_state { SVC_RUNNING, SVC_WAITING, SVC_DOWN, SVC_DONE };

struct service {
    const struct manifest_entry *entry;
    const struct restart_policy *policy;
    enum service_state state;
    unsigned restarts, failures, quick_failures;
    uint64_t failed_at[CRASH_HISTORY]; /* ticks of the latest failures, a ring */
    uint64_t restart_at;
};

static struct service services[MAX_SERVICES];
static unsigned nservices;
static uint64_t next_due = UINT64_MAX;

static const struct restart_policy *policy_find(const char *name) {
    for (unsigned i = 0; i < ARRAY_LEN(policies); i++)
        if (!strcmp(policies[i].name, name ? name : "never"))
            return &policies[i];
    return NULL;
}

static struct service *service_find(const char *name) {
    for (unsigned i = 0; i < nservices; i++)
        if (!strcmp(services[i].entry->name, name))
            return &services[i];
    return NULL;
}

static int spawn(struct service *s) {
    const struct manifest_entry *e = s->entry;
    struct fiber_spec spec = {e->name, e->image, e->args, e->grants, e->pledge};
    int id = fiber_spawn(&spec);
    s->state = id > 0 ? SVC_RUNNING : SVC_DOWN;
    return id;
}

int supervisor_start(const struct manifest_entry *e) {
    const struct restart_policy *p = policy_find(e->restart);
    if (!p || p->limit > CRASH_HISTORY)
        return -EINVAL;
    if (nservices == MAX_SERVICES || service_find(e->name))
        return -ENOSPC;
    struct service *s = &services[nservices];
    memset(s, 0, sizeof *s);
    s->entry = e;
    s->policy = p;
    int id = spawn(s);
    if (id < 0)
        return id;
    nservices++;
    fiber_publish(s->entry->name, "policy", "%s", p->name);
    fiber_publish(s->entry->name, "restarts", "0");
    return id;
}

/* Links are the manifest's objects: made once, before anyone starts, so whichever end starts
 * (or restarts) first finds them. */
static void create_links(const struct manifest_entry *e) {
    struct grant g[GRANTS_MAX];
    int n = grants_parse(e->grants ? e->grants : "", g, GRANTS_MAX);
    for (int i = 0; i < n; i++) {
        int err = g[i].kind == GRANT_LINK ? link_create(e->name, g[i].server, g[i].rights) : 0;
        if (err < 0)
            kprintf("  %s: cannot link to %s (error %d)\n", e->name, g[i].server, -err);
    }
}

void supervisor_start_manifest(const struct manifest *m) {
    for (unsigned i = 0; i < m->count; i++)
        create_links(&m->entries[i]);
    for (unsigned i = 0; i < m->count; i++) {
        const struct manifest_entry *e = &m->entries[i];
        int id = supervisor_start(e);
        if (id < 0)
            kprintf("  %s: cannot start image %s (error %d)\n", e->name, e->image, -id);
        else
            kprintf("  started %s#%d (image %s, pledge \"%s\", restart %s)\n", e->name, id, e->image,
                    e->pledge, e->restart);
    }
}

static void recompute_next_due(void) {
    next_due = UINT64_MAX;
    for (unsigned i = 0; i < nservices; i++)
        if (services[i].state == SVC_WAITING && services[i].restart_at < next_due)
            next_due = services[i].restart_at;
}

/* Failures of s within its window, counting the one at `now`. */
static unsigned failures_in_window(const struct service *s, uint64_t now) {
    uint64_t window = timer_ticks_from_ns((uint64_t)s->policy->window_ms * 1000000);
    unsigned n = 0;
    for (unsigned i = 0; i < CRASH_HISTORY && i < s->failures; i++)
        n += now - s->failed_at[i] <= window;
    return n;
}

void supervisor_ended(const char *name, const struct fiber_end_info *end, uint64_t ran) {
    struct service *s = service_find(name);
    if (!s)
        return;
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
        if (s->state != SVC_WAITING || s->restart_at > now)
            continue;
        int id = spawn(s);
        if (id < 0) {
            kprintf("supervisor: cannot restart %s (error %d); leaving it down\n", s->entry->name, -id);
            fiber_publish(s->entry->name, "state", "down: restart failed with error %d", -id);
            continue;
        }
        s->restarts++;
        fiber_publish(s->entry->name, "restarts", "%u", s->restarts);
        kprintf("supervisor: restarted %s#%d (restart %u)\n", s->entry->name, id, s->restarts);
    }
    recompute_next_due();
}

uint64_t supervisor_next_due(void) { return next_due; }
