/*
 * Fibers: the unit of isolation. A user fiber is one ELF image in its own Sv39 address space,
 * running in U-mode, with a kernel stack for its syscalls and traps. A kernel fiber (the
 * selftest runner) runs a kernel function on its own stack. Scheduling is cooperative: a fiber
 * runs until it yields, sleeps, waits, exits or faults; the watchdog kills one that keeps the
 * CPU longer than watchdog_ns since it last gave it up (yield, sleep, or a wait that blocked),
 * not counting the interrupts the kernel handled meanwhile (docs/security.md, "Runaways").
 */
#ifndef NEXUS_FIBER_H
#define NEXUS_FIBER_H

#include <stddef.h>
#include <stdint.h>

#include "cspace.h"
#include "nexus/syscall.h"
#include "vm.h"

#define MAX_FIBERS     32
#define FIBER_NAME_MAX 16

struct trapframe {
    uint64_t regs[32]; /* x0..x31; regs[0] unused */
    uint64_t sepc;
    uint64_t kernel_sp;
    uint64_t kernel_tp;
};

struct context {
    uint64_t ra, sp, s[12];
};

enum fiber_state { FIBER_FREE, FIBER_RUNNABLE, FIBER_RUNNING, FIBER_SLEEPING, FIBER_WAITING, FIBER_DEAD };

enum fiber_end {
    END_NONE,    /* still alive */
    END_EXIT,    /* called exit(code) */
    END_FAULT,   /* killed by a trap it caused */
    END_RUNAWAY, /* killed by the watchdog */
    END_PLEDGE,  /* killed for a syscall outside its pledge */
    END_STOPPED, /* stopped on request (the console's stop and restart) */
};

/* How a fiber ended; kept after its slot is freed so a waiter can read it. */
struct fiber_end_info {
    enum fiber_end kind;
    int code;
    uint64_t scause, stval, sepc;
    const char *syscall; /* END_PLEDGE: the syscall refused */
    uint32_t promise;    /* END_PLEDGE: the promise it needed */
    uint64_t at;         /* ticks when it ended (the fault, the exit) */
};

/* What to start: an embedded image under a fiber name, with its arguments, the channels and
 * objects it is granted (cspace.h grant text) and its promises (pledge.h names). */
struct fiber_spec {
    const char *name;
    const char *image;
    const char *args;   /* argv[1..], space separated */
    const char *grants;
    const char *pledge;
};

struct fiber {
    enum fiber_state state;
    uint32_t id; /* unique for the whole boot, never reused; also the /Bus owner id */
    char name[FIBER_NAME_MAX];
    int is_kernel;
    struct trapframe tf;
    struct context ctx;
    void *kstack; /* KSTACK_PAGES pages */
    pagetable_t pt;
    uint64_t wake_at;     /* timer ticks; for SLEEPING and timed WAITING */
    uint64_t wait_mask;   /* for WAITING: the channels that wake it */
    long wake_result;     /* returned by the blocking syscall */
    uint64_t dispatched;  /* ticks when it last got the CPU: the watchdog's reference */
    uint64_t irq_ticks;   /* since then, ticks spent on interrupts taken in its U-mode: not its time */
    uint64_t dog_next;    /* when the watchdog next looks at it (a check interval after the last look) */
    uint32_t dog_looks;   /* looks since it got the CPU that found it still running in U-mode */
    uint32_t syscalls;    /* since then, syscalls it made (the watchdog's kill report) */
    uint32_t timer_irqs;  /* since then, timer and device interrupts taken in its U-mode (the same */
    uint32_t device_irqs; /* report: a storm of either shows there, a stalled host shows neither) */
    int net_port;         /* NetSwitch port this fiber holds, -1 for none */
    struct cspace caps;   /* the channels it may wait on (READ) or signal (WRITE) */
    /* The links attached at its start (link_attach), by id in creation order: those it serves,
     * those it is a client of. link_info answers from here. */
    uint8_t served_links[NEXUS_LINKS_MAX], client_links[NEXUS_CLIENT_LINKS_MAX];
    uint8_t nserved_links, nclient_links;
    uint32_t pledge;      /* promise bits (pledge.h); only ever narrowed */
    uint64_t started;     /* ticks at spawn */
    int stop_requested;   /* fiber_stop: end at the next return to U-mode */
    unsigned char console_escape; /* console.c: where it is in an escape sequence it wrote */
    void (*kernel_fn)(void *);
    void *kernel_arg;
    struct fiber_end_info end;
    uint64_t heap_limit;  /* bytes its heap grant allows (kernel/heap.h) */
    uint64_t heap_used;   /* bytes between USER_HEAP_BASE and its break */
    uint64_t files_limit; /* bytes its files grant allows in its writable area (filestore.h) */
};

extern uint64_t watchdog_ns;

void fiber_init(void);
/* Loads spec->image as a new user fiber: its address space, its CSpace filled from the grants
 * (a port is bound, links are mapped) and its pledge. Returns the fiber id (> 0) or -errno:
 * -ENOENT unknown image, -ENOEXEC bad image, -EINVAL bad grant or pledge text, -EBUSY port
 * taken, -ENOMEM, -EAGAIN no fiber slot. */
int fiber_spawn(const struct fiber_spec *spec);
int fiber_spawn_kernel(const char *name, void (*fn)(void *), void *arg);
struct fiber *fiber_current(void);
/* The live fiber with this id, or NULL. */
struct fiber *fiber_by_id(uint32_t id);
/* The live (not dead) fiber called name, or NULL. */
struct fiber *fiber_by_name(const char *name);
/* Runs fibers forever; idles with wfi when none is runnable. */
__attribute__((noreturn)) void scheduler(void);

/* Calls from the running fiber's kernel context. */
void fiber_yield(void);
void fiber_sleep_ticks(uint64_t ticks);
/* Blocks until channel ch is signalled (0) or the deadline passes (-ETIMEDOUT). deadline is in
 * ticks, UINT64_MAX for none. */
long fiber_wait(int ch, uint64_t deadline);
/* Blocks until any channel in mask is signalled (returns its number) or the deadline passes
 * (-ETIMEDOUT). A channel already pending returns at once, lowest number first. */
long fiber_wait_any(uint64_t mask, uint64_t deadline);
int channel_signal(int ch);
__attribute__((noreturn)) void fiber_exit(int code);
/* Kills the current fiber for the trap it caused (or the watchdog) and logs why. */
__attribute__((noreturn)) void fiber_kill_current(enum fiber_end kind, uint64_t scause,
                                                  uint64_t stval, uint64_t sepc);

/* Kills the current fiber for calling `syscall` without `promise` in its pledge, and logs it. */
__attribute__((noreturn)) void fiber_kill_pledge(const char *syscall, uint32_t promise);

/* Asks user fiber f to end (END_STOPPED) the next time it would return to U-mode, which for a
 * fiber blocked in a syscall is at once: the call is cut short with -EINTR. A safe point because
 * the fiber then holds no half-done kernel work. 0, or -EPERM for a kernel fiber. */
int fiber_stop(struct fiber *f);
/* Makes f the scheduler's next pick, once (the round robin then goes on from it). */
void fiber_run_next(struct fiber *f);

/* Charges `ticks` of handling one interrupt (a timer one if `timer`), taken while the current
 * fiber ran in U-mode, to the kernel rather than to that fiber's watchdog. */
void fiber_interrupted(int timer, uint64_t ticks);

/* For the timer: wakes sleepers whose time has come; kills a runaway current fiber. */
void fiber_timer_tick(int from_user);
/* The earliest tick at which the timer must fire (sleepers, watchdog), UINT64_MAX if none. */
uint64_t fiber_next_deadline(void);

/* 1 and *out filled once fiber `id` has ended; 0 while it lives; -ENOENT if never seen. */
int fiber_end_of(uint32_t id, struct fiber_end_info *out);
/* Sets /Bus/fibers/<name>/<key> (a kernel key) to the formatted value. */
void fiber_publish(const char *name, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes one line per live fiber (for the console and /Bus). */
void fiber_dump(void);
const char *fiber_end_name(enum fiber_end kind);
/* One line on how a fiber ended ("fault scause=0xd stval=0 sepc=0x1024", "pledge: signal needs
 * inet", "exited 3"). */
void fiber_end_describe(const struct fiber_end_info *end, char *buf, size_t len);

#endif
