/* The guest-time profile (profile.h). Test build only: the Makefile leaves it out of
 * build/nexus.elf, where the hooks are empty inlines. */
#include "profile.h"

#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "fiber.h"
#include "riscv.h"
#include "nexus/syscall.h"

/* One account per fiber name: a restarted fiber goes on adding to its predecessor's. */
struct account {
    char name[FIBER_NAME_MAX];
    uint64_t user, kernel, syscalls;
    int changed;
};

static struct {
    const char *name;
    uint64_t count, published;
} syscall_counts[SYS_COUNT];

static struct account accounts[MAX_FIBERS];
static uint64_t kernel_work[PROFILE_KERNEL_WORKS], kernel_published[PROFILE_KERNEL_WORKS];
static uint64_t *charged = &kernel_work[PROFILE_SCHEDULER]; /* boot is the scheduler's */
static uint64_t mark;
/* The last fiber looked up, by id: a request's many changes mostly stay with one or two fibers. */
static uint32_t cached_id;
static struct account *cached;

/* The scheduler's spans one by one: under -icount the virtual clock's jump over a wfi is not
 * always accounted before the instruction after it, and lands in whatever runs next, most often
 * the scheduler. A span's median is robust to that; their sum is not. */
#define SPAN_BIN 16
#define SPAN_BINS 1024 /* the last bin collects everything above */
static uint32_t scheduler_spans[SPAN_BINS];
static uint64_t spans_counted, spans_published;

static void count_scheduler_span(uint64_t n) {
    scheduler_spans[n / SPAN_BIN < SPAN_BINS - 1 ? n / SPAN_BIN : SPAN_BINS - 1]++;
    spans_counted++;
}

static uint64_t *charge_to(uint64_t *next) {
    uint64_t now = rdinstret(), *prev = charged;
    if (charged == &kernel_work[PROFILE_SCHEDULER] && next != charged)
        count_scheduler_span(now - mark);
    *charged += now - mark;
    mark = now;
    charged = next;
    return prev;
}

static struct account *account_of(const struct fiber *f) {
    if (cached && cached_id == f->id)
        return cached;
    struct account *free_slot = NULL;
    for (int i = 0; i < MAX_FIBERS; i++) {
        if (!strcmp(accounts[i].name, f->name)) {
            free_slot = &accounts[i];
            break;
        }
        if (!accounts[i].name[0] && !free_slot)
            free_slot = &accounts[i];
    }
    if (!free_slot) /* more names than slots: the last one takes the rest */
        free_slot = &accounts[MAX_FIBERS - 1];
    if (!free_slot->name[0])
        memcpy(free_slot->name, f->name, sizeof free_slot->name);
    cached_id = f->id;
    cached = free_slot;
    return free_slot;
}

uint64_t *profile_kernel(enum profile_kernel_work work) { return charge_to(&kernel_work[work]); }

uint64_t *profile_user(const struct fiber *f) {
    struct account *a = account_of(f);
    a->changed = 1;
    return charge_to(&a->user);
}

uint64_t *profile_syscall(const struct fiber *f) {
    struct account *a = account_of(f);
    a->changed = 1;
    return charge_to(&a->kernel);
}

void profile_resume(uint64_t *charge) { charge_to(charge); }

void profile_count_syscall(const struct fiber *f, unsigned nr, const char *name) {
    account_of(f)->syscalls++;
    syscall_counts[nr].name = name;
    syscall_counts[nr].count++;
}

void profile_publish(void) {
    static const char *const work_keys[PROFILE_KERNEL_WORKS] = {
        [PROFILE_DEVICE_IRQ] = "/Bus/kernel/instret/device_irq",
        [PROFILE_TIMER_IRQ] = "/Bus/kernel/instret/timer_irq",
        [PROFILE_SCHEDULER] = "/Bus/kernel/instret/scheduler",
        [PROFILE_IDLE] = "/Bus/kernel/instret/idle",
    };
    charge_to(charged); /* bring the running charge up to date */
    for (int w = 0; w < PROFILE_KERNEL_WORKS; w++) {
        if (kernel_work[w] == kernel_published[w])
            continue;
        kernel_published[w] = kernel_work[w];
        bus_setf(BUS_OWNER_KERNEL, work_keys[w], "%lu", kernel_work[w]);
    }
    for (int i = 0; i < MAX_FIBERS; i++) {
        struct account *a = &accounts[i];
        if (!a->changed)
            continue;
        a->changed = 0;
        fiber_publish(a->name, "instret", "user=%lu kernel=%lu syscalls=%lu", a->user, a->kernel, a->syscalls);
    }
    if (spans_counted != spans_published) {
        spans_published = spans_counted;
        uint64_t seen = 0, median = 0;
        for (unsigned b = 0; b < SPAN_BINS; b++)
            if ((seen += scheduler_spans[b]) * 2 >= spans_counted) {
                median = (uint64_t)b * SPAN_BIN + SPAN_BIN / 2;
                break;
            }
        bus_setf(BUS_OWNER_KERNEL, "/Bus/kernel/instret/scheduler_spans", "%lu", spans_counted);
        bus_setf(BUS_OWNER_KERNEL, "/Bus/kernel/instret/scheduler_span_median", "%lu", median);
    }
    char path[BUS_PATH_MAX];
    for (unsigned nr = 0; nr < SYS_COUNT; nr++) {
        if (syscall_counts[nr].count == syscall_counts[nr].published)
            continue;
        syscall_counts[nr].published = syscall_counts[nr].count;
        snprintf(path, sizeof path, "/Bus/kernel/syscalls/%s", syscall_counts[nr].name);
        bus_setf(BUS_OWNER_KERNEL, path, "%lu", syscall_counts[nr].count);
    }
}
