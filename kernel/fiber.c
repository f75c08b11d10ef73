/*
 * Fiber table, scheduler and blocking. One hart, interrupts off in the kernel: the only
 * concurrency is between a fiber's kernel context and the scheduler, which hand over through
 * context_switch. Interrupts are taken in U-mode and in the idle loop.
 */
#include "fiber.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "bus.h"
#include "console_input.h"
#include "images.h"
#include "kernel.h"
#include "link.h"
#include "loader.h"
#include "mem.h"
#include "memlayout.h"
#include "netswitch.h"
#include "pledge.h"
#include "profile.h"
#include "riscv.h"
#include "supervisor.h"
#include "timer.h"
#include "trap.h"
#include "uart.h"
#include "unix.h"

#define KSTACK_CANARY 0x6e657875736b7374ull /* at the lowest word of every kernel stack */
#define ENDED_KEPT    64

uint64_t watchdog_ns = 200ull * 1000 * 1000;

static struct fiber fibers[MAX_FIBERS];
static struct fiber *current;
static struct context scheduler_ctx;
static uint32_t next_id = 1;
static unsigned rr_cursor;
static uint8_t channel_pending[NEXUS_CHANNELS];
static uint64_t kernel_tp;
static struct {
    uint32_t id;
    struct fiber_end_info info;
} ended[ENDED_KEPT];
static unsigned ended_next;

void user_return(struct trapframe *tf) __attribute__((noreturn));
void context_switch(struct context *from, struct context *to);
extern char __kernel_start[];

static const char *const state_names[] = {
    [FIBER_FREE] = "free",         [FIBER_RUNNABLE] = "runnable", [FIBER_RUNNING] = "running",
    [FIBER_SLEEPING] = "sleeping", [FIBER_WAITING] = "waiting",   [FIBER_DEAD] = "dead",
};
static const char *const end_names[] = {
    [END_NONE] = "alive", [END_EXIT] = "exited", [END_FAULT] = "fault", [END_RUNAWAY] = "runaway",
    [END_PLEDGE] = "pledge", [END_STOPPED] = "stopped",
};

const char *fiber_end_name(enum fiber_end kind) { return end_names[kind]; }

void fiber_init(void) { __asm__ volatile("mv %0, tp" : "=r"(kernel_tp)); }

struct fiber *fiber_current(void) { return current; }

struct fiber *fiber_by_id(uint32_t id) {
    for (int i = 0; i < MAX_FIBERS; i++)
        if (fibers[i].state != FIBER_FREE && fibers[i].id == id)
            return &fibers[i];
    return NULL;
}

struct fiber *fiber_by_name(const char *name) {
    for (int i = 0; i < MAX_FIBERS; i++)
        if (fibers[i].state != FIBER_FREE && fibers[i].state != FIBER_DEAD && !strcmp(fibers[i].name, name))
            return &fibers[i];
    return NULL;
}

static uint64_t kstack_top(const struct fiber *f) { return (uint64_t)f->kstack + KSTACK_PAGES * PAGE_SIZE; }

void fiber_publish(const char *name, const char *key, const char *fmt, ...) {
    char path[BUS_PATH_MAX], value[BUS_VALUE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "/Bus/fibers/%s/%s", name, key);
    bus_set(path, value, BUS_OWNER_KERNEL);
}

__attribute__((noreturn)) static void end_current(struct fiber_end_info info);

/* Back to U-mode in the current fiber, re-arming the timer for its watchdog; or, if it was asked
 * to stop, not back at all. */
__attribute__((noreturn)) static void user_resume(struct fiber *f) {
    if (f->stop_requested) {
        kprintf("fiber %s#%u stopped\n", f->name, f->id);
        end_current((struct fiber_end_info){.kind = END_STOPPED, .sepc = f->tf.sepc});
    }
    timer_arm(fiber_next_deadline());
    f->tf.kernel_sp = kstack_top(f);
    f->tf.kernel_tp = kernel_tp;
    /* U-mode never runs with the FPU on (FS = Off, docs/security.md): the FP registers are not
     * saved per fiber, so an FP instruction must trap as illegal rather than see another
     * fiber's values. entry.S turns it off at boot; clearing it here keeps every return so. */
    csr_clear(sstatus, SSTATUS_SPP | SSTATUS_FS);
    csr_set(sstatus, SSTATUS_SPIE);
    profile_user(f);
    user_return(&f->tf);
}

void user_trap_return(void) { user_resume(current); }

/* First code a new fiber runs, on its own kernel stack. */
static void fiber_start(void) {
    struct fiber *f = current;
    if (f->is_kernel) {
        f->kernel_fn(f->kernel_arg);
        fiber_exit(0);
    }
    user_resume(f);
}

/* A free slot with its kernel stack, or NULL with *err: -EAGAIN when every slot is taken (one
 * frees when a fiber ends), -ENOMEM when the stack's pages are not there. */
static struct fiber *slot_alloc(const char *name, int *err) {
    *err = -EAGAIN;
    for (int i = 0; i < MAX_FIBERS; i++) {
        struct fiber *f = &fibers[i];
        if (f->state != FIBER_FREE)
            continue;
        memset(f, 0, sizeof *f);
        f->kstack = page_alloc(KSTACK_PAGES);
        if (!f->kstack) {
            *err = -ENOMEM;
            return NULL;
        }
        *(uint64_t *)f->kstack = KSTACK_CANARY;
        f->id = next_id++;
        snprintf(f->name, sizeof f->name, "%s", name);
        f->ctx.ra = (uint64_t)fiber_start;
        f->ctx.sp = kstack_top(f);
        f->wait_mask = 0;
        f->net_port = -1;
        f->started = rdtime();
        return f;
    }
    return NULL;
}

static void slot_release(struct fiber *f) {
    if (f->pt) {
        vm_use_kernel_map(); /* satp may still point at the table we are about to free */
        vm_user_destroy(f->pt);
    }
    page_free(f->kstack, KSTACK_PAGES);
    f->pt = NULL;
    f->kstack = NULL;
    f->state = FIBER_FREE;
    mem_publish();
}

static void became_runnable(struct fiber *f) {
    fiber_publish(f->name, "id", "%u", f->id);
    fiber_publish(f->name, "started_us", "%lu", timer_ns_from_ticks(f->started) / 1000);
    fiber_publish(f->name, "state", "alive");
    f->state = FIBER_RUNNABLE;
    mem_publish();
}

/* One heap grant per fiber: two would leave the bound ambiguous. */
static int grant_heap(struct fiber *f, unsigned kib) {
    if (f->heap_limit)
        return -EINVAL;
    f->heap_limit = (uint64_t)kib * 1024;
    fiber_publish(f->name, "heap_kib", "%u", kib);
    return 0;
}

/* One files grant per fiber, like the heap's. */
static int grant_files(struct fiber *f, unsigned kib) {
    if (f->files_limit)
        return -EINVAL;
    f->files_limit = (uint64_t)kib * 1024;
    fiber_publish(f->name, "files_kib", "%u", kib);
    return 0;
}

/* Fills the CSpace from the grant text: own channels and a port here, links from the link
 * table (link_attach, which also maps them). */
static int apply_grants(struct fiber *f, const char *text) {
    struct grant g[GRANTS_MAX];
    int n = grants_parse(text ? text : "", g, GRANTS_MAX);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        int err = 0;
        if (g[i].kind == GRANT_CHANNEL)
            err = cspace_grant(&f->caps, g[i].number, g[i].rights);
        else if (g[i].kind == GRANT_PORT)
            err = netswitch_bind(g[i].number, f, g[i].rights);
        else if (g[i].kind == GRANT_HEAP)
            err = grant_heap(f, g[i].number);
        else if (g[i].kind == GRANT_FILES)
            err = grant_files(f, g[i].number);
        if (err)
            return err;
    }
    return link_attach(f);
}

int fiber_spawn(const struct fiber_spec *spec) {
    const struct embedded_image *img = image_find(spec->image);
    if (!img)
        return -ENOENT;
    uint32_t pledge;
    if (pledge_parse(spec->pledge ? spec->pledge : "", &pledge))
        return -EINVAL;
    size_t free_before = mem_free_pages();
    int err;
    struct fiber *f = slot_alloc(spec->name, &err);
    if (!f)
        return err;
    f->pledge = pledge;
    f->pt = vm_user_create();
    if (!f->pt) {
        slot_release(f);
        return -ENOMEM;
    }
    err = loader_load(f->pt, img->data, img->size, &f->tf.sepc);
    if (!err)
        err = loader_setup_stack(f->pt, spec->name, spec->args ? spec->args : "", &f->tf);
    if (!err)
        err = apply_grants(f, spec->grants);
    if (!err) /* every program may wait for its standard input (console_input.h) */
        err = cspace_grant(&f->caps, NEXUS_CONSOLE_CHANNEL, CAP_READ);
    if (err) {
        netswitch_fiber_gone(f);
        slot_release(f);
        return err;
    }
    /* What this start cost: kernel stack, page tables, data and bss, user stack (make bench's
     * memory table; the heap grows later, by sbrk). */
    fiber_publish(f->name, "pages_at_start", "%zu", free_before - mem_free_pages());
    became_runnable(f);
    return (int)f->id;
}

int fiber_spawn_kernel(const char *name, void (*fn)(void *), void *arg) {
    int err;
    struct fiber *f = slot_alloc(name, &err);
    if (!f)
        return err;
    f->is_kernel = 1;
    f->kernel_fn = fn;
    f->kernel_arg = arg;
    became_runnable(f);
    return (int)f->id;
}

/* Gives the CPU back to the scheduler; returns when this fiber is dispatched again. */
static void sched(void) {
    struct fiber *f = current;
    if (*(uint64_t *)f->kstack != KSTACK_CANARY)
        panic("fiber %s#%u overflowed its kernel stack", f->name, f->id);
    profile_kernel(PROFILE_SCHEDULER);
    context_switch(&f->ctx, &scheduler_ctx);
    profile_syscall(f); /* back in its syscall (or its kernel function) */
}

void fiber_yield(void) {
    netswitch_giving_up_cpu(current);
    current->state = FIBER_RUNNABLE;
    sched();
}

/* The earliest wake_at of the sleeping and waiting fibers, as last computed: fiber_next_deadline
 * runs at every return to U-mode, and a walk over every slot each time was 8 % of a keep-alive
 * request's guest instructions. A fiber that gets a deadline lowers it (so the cached one is
 * never later than the true one); the timer marks it stale when it has woken fibers. A fiber
 * woken early by a signal leaves it early, which costs one timer interrupt that finds nothing
 * due and then computes it afresh. Marking it stale at every wait instead walked every slot
 * again at the next return to U-mode: 600 guest instructions per keep-alive request. */
static uint64_t sleepers_next = UINT64_MAX;
static int sleepers_stale = 1;

static void sleepers_note(uint64_t wake_at) {
    if (wake_at < sleepers_next)
        sleepers_next = wake_at; /* also right when stale: the walk will start over anyway */
}

void fiber_sleep_ticks(uint64_t ticks) {
    if (current->stop_requested)
        return;
    netswitch_giving_up_cpu(current);
    current->wake_at = rdtime() + ticks;
    sleepers_note(current->wake_at);
    current->state = FIBER_SLEEPING;
    sched();
}

long fiber_wait_any(uint64_t mask, uint64_t deadline) {
    if (current->stop_requested)
        return -EINTR;
    netswitch_giving_up_cpu(current);
    for (int ch = 0; ch < NEXUS_CHANNELS; ch++) {
        if ((mask >> ch & 1) && channel_pending[ch]) {
            channel_pending[ch] = 0;
            return ch;
        }
    }
    current->wait_mask = mask;
    current->wake_at = deadline;
    sleepers_note(deadline);
    current->state = FIBER_WAITING;
    sched();
    current->wait_mask = 0;
    return current->wake_result;
}

long fiber_wait(int ch, uint64_t deadline) {
    long r = fiber_wait_any(1ull << ch, deadline);
    return r < 0 ? r : 0;
}

int channel_signal(int ch) {
    int woken = 0;
    for (int i = 0; i < MAX_FIBERS; i++) {
        struct fiber *f = &fibers[i];
        if (f->state == FIBER_WAITING && (f->wait_mask >> ch & 1)) {
            f->wake_result = ch;
            f->state = FIBER_RUNNABLE;
            woken++;
        }
    }
    if (!woken)
        channel_pending[ch] = 1; /* an event flag: the next wait returns at once */
    return woken;
}

static void end_current(struct fiber_end_info info) {
    struct fiber *f = current;
    f->end = info;
    f->end.at = rdtime();
    f->state = FIBER_DEAD;
    sched();
    panic("dead fiber %s#%u resumed", f->name, f->id);
}

void fiber_exit(int code) {
    kprintf("fiber %s#%u exited with %d\n", current->name, current->id, code);
    end_current((struct fiber_end_info){.kind = END_EXIT, .code = code});
    __builtin_unreachable();
}

void fiber_kill_current(enum fiber_end kind, uint64_t scause, uint64_t stval, uint64_t sepc) {
    kprintf("fiber %s#%u killed: %s scause=%#lx stval=%#lx sepc=%#lx\n", current->name, current->id,
            end_names[kind], scause, stval, sepc);
    end_current((struct fiber_end_info){.kind = kind, .scause = scause, .stval = stval, .sepc = sepc});
    __builtin_unreachable();
}

void fiber_kill_pledge(const char *syscall, uint32_t promise) {
    kprintf("fiber %s#%u killed: pledge: %s needs \"%s\"\n", current->name, current->id, syscall,
            promise_name(promise));
    end_current((struct fiber_end_info){.kind = END_PLEDGE, .syscall = syscall, .promise = promise,
                                        .sepc = current->tf.sepc});
    __builtin_unreachable();
}

void fiber_end_describe(const struct fiber_end_info *e, char *buf, size_t len) {
    if (e->kind == END_EXIT)
        snprintf(buf, len, "exited %d", e->code);
    else if (e->kind == END_STOPPED)
        snprintf(buf, len, "stopped by the operator");
    else if (e->kind == END_PLEDGE)
        snprintf(buf, len, "pledge: %s needs %s", e->syscall, promise_name(e->promise));
    else
        snprintf(buf, len, "%s scause=%#lx stval=%#lx sepc=%#lx", end_names[e->kind], e->scause, e->stval,
                 e->sepc);
}

/* Frees a dead fiber's resources (from the scheduler's stack, never its own), then lets the
 * supervisor decide whether it comes back. */
static void reap(struct fiber *f) {
    char how[BUS_VALUE_MAX - 8];
    fiber_end_describe(&f->end, how, sizeof how);
    int by_itself = f->end.kind == END_EXIT || f->end.kind == END_STOPPED;
    fiber_publish(f->name, "state", "%s%s", by_itself ? "" : "killed ", how);
    fiber_publish(f->name, "ended_us", "%lu", timer_ns_from_ticks(f->end.at) / 1000);
    bus_drop_owner(f->id);
    netswitch_fiber_gone(f);
    unix_fiber_gone(f);
    console_input_fiber_gone(f);
    ended[ended_next % ENDED_KEPT].id = f->id;
    ended[ended_next % ENDED_KEPT].info = f->end;
    ended_next++;
    char name[FIBER_NAME_MAX];
    memcpy(name, f->name, sizeof name);
    struct fiber_end_info end = f->end;
    uint64_t ran = rdtime() - f->started;
    slot_release(f);
    supervisor_ended(name, &end, ran);
}

int fiber_end_of(uint32_t id, struct fiber_end_info *out) {
    for (int i = 0; i < MAX_FIBERS; i++)
        if (fibers[i].state != FIBER_FREE && fibers[i].id == id)
            return 0;
    for (unsigned i = 0; i < ENDED_KEPT; i++) {
        if (ended[i].id == id && id != 0) {
            *out = ended[i].info;
            return 1;
        }
    }
    return -ENOENT;
}

int fiber_stop(struct fiber *f) {
    if (f->is_kernel)
        return -EPERM;
    f->stop_requested = 1;
    if (f->state == FIBER_SLEEPING || f->state == FIBER_WAITING) {
        f->wake_result = -EINTR;
        f->state = FIBER_RUNNABLE;
    }
    return 0;
}

/* The watchdog looks at the running fiber WATCHDOG_LOOKS times per watchdog_ns and kills it when
 * every look found it still in U-mode since it last gave the CPU up (yield, sleep, or a wait that
 * blocked): a syscall that returns at once (a clock read, a wait on a channel already pending) is
 * work like any other. It counts looks, not elapsed time, because under QEMU's TCG a busy host
 * can stop the guest for hundreds of milliseconds: guest time jumps, but the next look comes once
 * and counts once, so a stall is not a runaway (a signer was killed mid-signature so, with no
 * syscall and no interrupt in 241 ms). Each look is a check interval after the previous one, and
 * interrupt time taken in its U-mode moves the next look on: that time is not the fiber's. */
#define WATCHDOG_LOOKS 20

static uint64_t watchdog_interval(void) { return timer_ticks_from_ns(watchdog_ns / WATCHDOG_LOOKS); }

void fiber_interrupted(int timer, uint64_t ticks) {
    if (!current)
        return;
    current->irq_ticks += ticks;
    current->dog_next += ticks;
    if (timer)
        current->timer_irqs++;
    else
        current->device_irqs++;
}

void fiber_timer_tick(int from_user) {
    uint64_t now = rdtime();
    sleepers_stale = 1;
    for (int i = 0; i < MAX_FIBERS; i++) {
        struct fiber *f = &fibers[i];
        if ((f->state == FIBER_SLEEPING || f->state == FIBER_WAITING) && f->wake_at <= now) {
            f->wake_result = f->state == FIBER_WAITING ? -ETIMEDOUT : 0;
            f->state = FIBER_RUNNABLE;
        }
    }
    if (!from_user || !current || now < current->dog_next)
        return;
    current->dog_next = now + watchdog_interval();
    if (++current->dog_looks >= WATCHDOG_LOOKS) {
        kprintf("watchdog: %s#%u held the CPU for %u looks %lu ms apart (%lu ms) without yielding or blocking "
                "(%u syscalls; %lu ms of interrupts not counted: %u timer, %u device)\n", current->name,
                current->id, current->dog_looks, watchdog_ns / WATCHDOG_LOOKS / 1000000,
                timer_ns_from_ticks(now - current->dispatched - current->irq_ticks) / 1000000, current->syscalls,
                timer_ns_from_ticks(current->irq_ticks) / 1000000, current->timer_irqs, current->device_irqs);
        fiber_kill_current(END_RUNAWAY, csr_read(scause), 0, current->tf.sepc);
    }
}

uint64_t fiber_next_deadline(void) {
    if (sleepers_stale) {
        sleepers_stale = 0;
        sleepers_next = UINT64_MAX;
        for (int i = 0; i < MAX_FIBERS; i++) {
            const struct fiber *f = &fibers[i];
            if ((f->state == FIBER_SLEEPING || f->state == FIBER_WAITING) && f->wake_at < sleepers_next)
                sleepers_next = f->wake_at;
        }
    }
    uint64_t next = sleepers_next;
    /* A restart is the scheduler's work, and the scheduler runs only when the current fiber
     * gives the CPU up: until then its time is no deadline. Armed anyway, a restart due while a
     * fiber ran was re-armed, already passed, on each return to U-mode: a timer interrupt at
     * once, every time, that left the fiber a few instructions between them and the watchdog
     * the rest (4,913 interrupts in one 100 ms spin, selftest timer.no_storm_for_a_due_restart). */
    uint64_t restart = current ? UINT64_MAX : supervisor_next_due();
    if (restart < next)
        next = restart;
    if (current && !current->is_kernel && current->dog_next < next)
        next = current->dog_next;
    return next;
}

void fiber_run_next(struct fiber *f) { rr_cursor = (unsigned)(f - fibers); }

static struct fiber *pick_next(void) {
    for (unsigned n = 0; n < MAX_FIBERS; n++) {
        struct fiber *f = &fibers[(rr_cursor + n) % MAX_FIBERS];
        if (f->state == FIBER_RUNNABLE) {
            rr_cursor = (unsigned)(f - fibers) + 1;
            return f;
        }
    }
    return NULL;
}

/* Console bytes written out per idle pass: a pass with interrupts off costs ~0.1 ms under QEMU
 * (a trip out of the guest per byte), so a frame that arrives meanwhile waits no longer. */
#define CONSOLE_DRAIN_BYTES 256
/* On a machine busy without pause the console is written out between fibers once its oldest
 * byte has waited this long, so that an operator (or a test harness reading the console) still
 * gets answers under load. */
#define CONSOLE_WAIT_MAX_MS 20

/* Nothing to run: sleep until an interrupt (timer for sleepers, devices) makes work.
 * wfi runs with interrupts globally disabled: it still wakes on a pending enabled interrupt,
 * which is then taken in the short enabled window. Enabling before wfi would lose a wakeup
 * whose interrupt arrives between the enable and the wfi. */
static void idle(void) {
    if (supervisor_idle())
        return; /* a service the boot deferred has just been started: run it */
    netswitch_idle();
    bus_publish_stats();
    timer_arm(fiber_next_deadline());
    if (uart_drain(CONSOLE_DRAIN_BYTES) || mem_zero_idle()) {
        /* Writing out the console and zeroing pages ahead of the next spawn are work, not
         * sleep: take the interrupts that came meanwhile, then look for a fiber to run before
         * the next batch. */
        irq_enable();
        irq_disable();
        return;
    }
    if (!netswitch_sleep_prepare())
        return;
    uint64_t *was = profile_kernel(PROFILE_IDLE);
    __asm__ volatile("wfi");
    profile_resume(was);
    irq_enable();
    irq_disable();
}

void scheduler(void) {
    for (;;) {
        supervisor_tick(rdtime());
        trap_publish_interrupts(); /* here, not in idle: a busy system may not be idle for long */
        if (uart_overdue(rdtime(), timer_ticks_from_ns(CONSOLE_WAIT_MAX_MS * 1000000ull)))
            uart_drain(CONSOLE_DRAIN_BYTES);
        netswitch_poll(); /* what the device finished while the last fiber ran */
        struct fiber *f = pick_next();
        if (!f) {
            idle();
            continue;
        }
        netswitch_fibers_run();
        f->state = FIBER_RUNNING;
        f->dispatched = rdtime();
        f->dog_next = f->dispatched + watchdog_interval();
        f->dog_looks = 0;
        f->irq_ticks = 0;
        f->syscalls = 0;
        f->timer_irqs = f->device_irqs = 0;
        current = f;
        if (f->pt)
            vm_activate(f->pt, (uint64_t)(f - fibers) + 1);
        context_switch(&scheduler_ctx, &f->ctx);
        current = NULL;
        if (f->state == FIBER_DEAD)
            reap(f);
    }
}

void fiber_dump(void) {
    for (int i = 0; i < MAX_FIBERS; i++) {
        const struct fiber *f = &fibers[i];
        if (f->state != FIBER_FREE)
            kprintf("  %-15s #%-3u %-8s %s\n", f->name, f->id, state_names[f->state],
                    f->is_kernel ? "kernel" : "user");
    }
}
