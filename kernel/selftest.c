/*
 * The self-test runner: a kernel fiber that starts probe fibers (tests/qemu/probe.c) one step
 * at a time and checks how each ended, that its pages came back, and that the background
 * ticker fiber kept running through every crash. Each check prints one line
 *     TEST <name>: ok | TEST <name>: FAIL <observed>
 * only after it has observed the behaviour; probes print their own lines the same way. At the
 * end it prints "SELFTEST DONE passed=N failed=M" and leaves QEMU with the status.
 */
#include "selftest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "fdt.h"
#include "fiber.h"
#include "kernel.h"
#include "manifest.h"
#include "mem.h"
#include "monitor.h"
#include "netswitch.h"
#include "pledge.h"
#include "restart_policy.h"
#include "riscv.h"
#include "rtc.h"
#include "supervisor.h"
#include "timer.h"
#include "virtio_rng.h"

#define STEP_TIMEOUT_MS 5000
#define POLL_MS         5

static int passed, failed;
static const struct boot_info *boot;

__attribute__((format(printf, 3, 4))) static void check(const char *name, int ok, const char *fmt, ...) {
    if (ok) {
        passed++;
        kprintf("TEST %s: ok\n", name);
        return;
    }
    char detail[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    failed++;
    kprintf("TEST %s: FAIL %s\n", name, detail);
}

static void sleep_ms(uint64_t ms) { fiber_sleep_ticks(timer_ticks_from_ns(ms * 1000000)); }

/* Waits for fiber id to end; 0 with *end filled, or -ETIMEDOUT. */
static int wait_end(uint32_t id, struct fiber_end_info *end) {
    for (unsigned waited = 0; waited < STEP_TIMEOUT_MS; waited += POLL_MS) {
        if (fiber_end_of(id, end) == 1)
            return 0;
        sleep_ms(POLL_MS);
    }
    return -ETIMEDOUT;
}

static long ticker_count(void) {
    char v[24];
    return bus_get("/Bus/test/ticker/count", v, sizeof v) > 0 ? strtol(v, NULL, 10) : -1;
}

struct step {
    const char *check;
    const char *args;      /* probe mode and arguments */
    const char *partner;   /* a second probe run alongside, or NULL */
    enum fiber_end expect;
    uint64_t scause;       /* for END_FAULT */
    int code;              /* for END_EXIT */
    uint64_t scause_alt;   /* another acceptable cause for END_FAULT, or 0 */
    const char *grants;    /* NULL: the probes' usual channels */
    const char *pledge;    /* NULL: the probes' usual promises */
    uint32_t promise;      /* for END_PLEDGE: the promise it lacked */
    const char *image;     /* NULL: the probe */
};

#define PROBE_GRANTS "chan:10 chan:11 chan:12 chan:13"
#define PROBE_PLEDGE "stdio rbus wbus"

#define FAULT(name, mode, cause) {.check = name, .args = mode, .expect = END_FAULT, .scause = cause}
#define EXITS(name, mode, partner_mode, exit_code) \
    {.check = name, .args = mode, .partner = partner_mode, .expect = END_EXIT, .code = exit_code}

static const struct step steps[] = {
    FAULT("fault.kernel_read", "kread", EXC_LOAD_PAGE_FAULT),
    FAULT("fault.kernel_write", "kwrite", EXC_STORE_PAGE_FAULT),
    FAULT("fault.null_read", "null", EXC_LOAD_PAGE_FAULT),
    FAULT("fault.illegal_instruction", "illegal", EXC_ILLEGAL_INSTRUCTION),
    /* QEMU raises an AMO's misalignment as a store/AMO fault; OpenSBI 1.1, which takes it in
     * M-mode first, forwards it to S-mode as a load-misaligned fault. Either is a kill. */
    {.check = "fault.misaligned_atomic", .args = "misaligned", .expect = END_FAULT,
     .scause = EXC_LOAD_MISALIGNED, .scause_alt = EXC_STORE_MISALIGNED},
    FAULT("fault.exec_data", "execdata", EXC_INST_PAGE_FAULT),
    FAULT("fault.write_text", "writetext", EXC_STORE_PAGE_FAULT),
    FAULT("fault.stack_overflow", "stack", EXC_STORE_PAGE_FAULT),
    /* No FPU in U-mode: the first probe would leave a value in f5, the second would read it. */
    FAULT("fpu.write_traps", "fpwrite", EXC_ILLEGAL_INSTRUCTION),
    FAULT("fpu.read_traps", "fpread", EXC_ILLEGAL_INSTRUCTION),
    {.check = "watchdog.runaway", .args = "spin", .expect = END_RUNAWAY},
    EXITS("probe.syscalls", "syscalls", NULL, 0),
    EXITS("probe.bus", "bus", NULL, 0),
    EXITS("probe.sleep", "sleep", NULL, 0),
    EXITS("probe.wait", "wait", NULL, 0),
    EXITS("probe.wait_cross_fiber", "waiter", "signaller", 0),
    EXITS("probe.isolation", "iso-a", "iso-b", 0),
    EXITS("exit.code", "exit 42", NULL, 42),
    /* Capabilities and pledge: the probe checks the refusals, then uses /Bus after pledging it
     * away and must be killed for it. */
    {.check = "pledge.violation_kills", .args = "caps", .expect = END_PLEDGE, .promise = PROMISE_RBUS,
     .grants = "chan:10:r chan:11:w", .pledge = "stdio rbus wbus"},
    {.check = "pledge.net_syscall_without_net", .args = "ioninfo", .expect = END_PLEDGE, .promise = PROMISE_NET},
    /* The key blob: this boot has no -initrd (tests/qemu/run_keyblob.py boots with one). */
    {.check = "keyblob.none", .args = "keyblob-none", .expect = END_EXIT, .pledge = "stdio rbus keyblob"},
    {.check = "pledge.keyblob_without_promise", .args = "keyblob-steal", .expect = END_PLEDGE,
     .promise = PROMISE_KEYBLOB},
    /* The heap: exhausted to ENOMEM at the grant (pages_freed then says it all came back), absent
     * without a grant, and a page given back is unmapped. */
    {.check = "heap.exhaust", .args = "heap", .expect = END_EXIT, .code = 0, .grants = "heap:256"},
    {.check = "heap.no_grant", .args = "heapnone", .expect = END_EXIT, .code = 0},
    {.check = "heap.shrunk_page_unmapped", .args = "heapshrink", .expect = END_FAULT,
     .scause = EXC_STORE_PAGE_FAULT, .grants = "heap:64"},
    /* AF_UNIX (kernel/unix.c): two apps connected by name, the client exiting without closing
     * (the server reads end of file); every refused argument; the promise. pages_freed says the
     * connections' pages came back. */
    {.check = "unix.two_apps", .args = "unix-server", .partner = "unix-client", .expect = END_EXIT,
     .pledge = "stdio rbus wbus unix"},
    {.check = "unix.arguments", .args = "unix-args", .expect = END_EXIT, .pledge = "stdio rbus unix"},
    /* The same between two apps through POSIX calls only (tests/qemu/unixecho.c): 1 MiB echoed. */
    {.check = "unix.posix_two_apps", .image = "unixecho", .args = "serve", .partner = "connect",
     .expect = END_EXIT, .grants = "heap:512", .pledge = "stdio unix"},
    {.check = "pledge.unix_without_promise", .args = "unix-unpledged", .expect = END_PLEDGE,
     .promise = PROMISE_UNIX},
};

static int ended_as_expected(const struct step *s, const struct fiber_end_info *e) {
    if (e->kind != s->expect)
        return 0;
    if (s->expect == END_FAULT)
        return e->scause == s->scause || (s->scause_alt && e->scause == s->scause_alt);
    if (s->expect == END_EXIT)
        return e->code == s->code;
    if (s->expect == END_PLEDGE)
        return e->promise == s->promise;
    return 1;
}

static void check_end(const char *name, const struct step *s, int err, const struct fiber_end_info *e) {
    if (err)
        check(name, 0, "did not end within %d ms", STEP_TIMEOUT_MS);
    else
        check(name, ended_as_expected(s, e), "ended %s code=%d scause=%#lx stval=%#lx sepc=%#lx",
              fiber_end_name(e->kind), e->code, e->scause, e->stval, e->sepc);
}

static void run_step(const struct step *s) {
    char name[80];
    size_t free_before = mem_free_pages();
    long ticks_before = ticker_count();
    const char *image = s->image ? s->image : "probe";
    struct fiber_spec probe = {"probe", image, s->args, s->grants ? s->grants : PROBE_GRANTS,
                               s->pledge ? s->pledge : PROBE_PLEDGE};
    struct fiber_spec partner_spec = {"partner", image, s->partner, s->grants ? s->grants : PROBE_GRANTS,
                                      s->pledge ? s->pledge : PROBE_PLEDGE};
    int id = fiber_spawn(&probe);
    int partner = s->partner ? fiber_spawn(&partner_spec) : 0;
    if (id < 0 || partner < 0) {
        check(s->check, 0, "spawn failed: %d/%d", id, partner);
        return;
    }
    struct fiber_end_info end;
    check_end(s->check, s, wait_end((uint32_t)id, &end), &end);
    if (partner) {
        snprintf(name, sizeof name, "%s.partner", s->check);
        static const struct step partner_step = {.expect = END_EXIT};
        check_end(name, &partner_step, wait_end((uint32_t)partner, &end), &end);
    }
    snprintf(name, sizeof name, "%s.pages_freed", s->check);
    check(name, mem_free_pages() == free_before, "free pages %zu before, %zu after", free_before,
          mem_free_pages());
    if (s->expect != END_EXIT) {
        /* The ticker must have gone on across the crash: give it a few periods. */
        sleep_ms(100);
        snprintf(name, sizeof name, "%s.others_unaffected", s->check);
        long after = ticker_count();
        check(name, after > ticks_before && ticks_before > 0, "ticker %ld -> %ld", ticks_before, after);
    }
}

static void check_boot(void) {
    check("boot.fdt_memory", boot->mem.size >= (16ul << 20), "memory %#lx bytes", boot->mem.size);
    check("boot.fdt_devices", boot->has_uart && boot->has_plic && boot->plic_s_context >= 0 && boot->nvirtio > 0,
          "uart %d plic %d ctx %d virtio %d", boot->has_uart, boot->has_plic, boot->plic_s_context, boot->nvirtio);
    check("boot.timebase", boot->timebase_hz > 0, "timebase %lu", boot->timebase_hz);
    uint64_t status = csr_read(sstatus);
    check("boot.fpu_off", (status & SSTATUS_FS) == 0, "sstatus %#lx has FS on", status);
    char v[BUS_VALUE_MAX];
    check("boot.bus_facts", bus_get("/Bus/mem/pages_total", v, sizeof v) > 0 &&
                                bus_get("/Bus/boot/bootargs", v, sizeof v) >= 0 && strstr(v, "selftest"),
          "missing /Bus boot keys");
    /* QEMU keeps 16 identifier bits: fewer read back means the probe broke, and every switch
     * would flush again (kernel/vm.c). */
    check("vm.asids_probed", bus_get("/Bus/mem/asid_max", v, sizeof v) > 0 && !strcmp(v, "65535"),
          "/Bus/mem/asid_max is %s", v);
    uint8_t a[32], b[32], zero[32] = {0};
    int na = virtio_rng_read(a, sizeof a), nb = virtio_rng_read(b, sizeof b);
    check("entropy.virtio_rng", na == 32 && nb == 32 && memcmp(a, b, 32) != 0 && memcmp(a, zero, 32) != 0,
          "read %d and %d bytes%s", na, nb, na == 32 && nb == 32 ? ", equal or zero" : "");
    uint64_t epoch_s = rtc_realtime_ns() / 1000000000ull;
    check("rtc.realtime", boot->has_rtc && epoch_s > 1577836800ull, "rtc %d, %lu s since the epoch (before 2020)",
          boot->has_rtc, epoch_s);
    uint64_t t0 = rdtime();
    sleep_ms(20);
    uint64_t dt = timer_ns_from_ticks(rdtime() - t0);
    check("timer.kernel_sleep", dt >= 20000000 && dt < 2000000000ull, "slept %lu ns", dt);
}

static void check_spawn_errors(void) {
    size_t before = mem_free_pages();
    static const struct fiber_spec unknown = {"x", "no-such-image", "", "", "stdio"};
    static const struct fiber_spec corrupt = {"x", "probe-truncated", "", "", "stdio"};
    static const struct fiber_spec bad_grant = {"x", "probe", "", "chan:99", "stdio"};
    static const struct fiber_spec bad_pledge = {"x", "probe", "", "", "stdio root"};
    static const struct fiber_spec port_taken = {"x", "probe", "", "port:0 port:0", "stdio"};
    check("spawn.unknown_image", fiber_spawn(&unknown) == -ENOENT, "not -ENOENT");
    check("spawn.corrupt_image", fiber_spawn(&corrupt) == -ENOEXEC, "not -ENOEXEC");
    check("spawn.bad_grant", fiber_spawn(&bad_grant) == -EINVAL, "not -EINVAL");
    check("spawn.bad_pledge", fiber_spawn(&bad_pledge) == -EINVAL, "not -EINVAL");
    int twice = fiber_spawn(&port_taken);
    check("spawn.port_granted_twice", twice == -EBUSY || (twice == -ENODEV && !netswitch_up()), "got %d", twice);
    check("spawn.corrupt_image_pages_freed", mem_free_pages() == before, "leaked %ld pages",
          (long)before - (long)mem_free_pages());
}

/* ---- /Bus quotas: fibers fill all they may; the kernel can still publish ---- */

/* enough for the fibers' share of the table at any boot, each holding its quota */
#define BUSFILL_FILLERS_MAX     ((BUS_MAX_KEYS - BUS_KERNEL_RESERVE) / BUS_OWNER_QUOTA + 1)
#define BUSFILL_FULL_CHANNEL    14 /* tests/qemu/probe.c, mode busfill */
#define BUSFILL_RELEASE_CHANNEL 15

/* Starts busfill probes, each holding what it may, until one meets the kernel's reserve.
 * Returns how many it started; ids[] gets their ids. */
static unsigned fill_bus(uint32_t *ids, uint64_t reserve_refusals_before) {
    static const struct fiber_spec filler = {"probe", "probe", "busfill", "chan:14:w chan:15:r", PROBE_PLEDGE};
    unsigned n = 0;
    while (n < BUSFILL_FILLERS_MAX && bus_stats()->refused_reserve == reserve_refusals_before) {
        int id = fiber_spawn(&filler);
        if (id < 0)
            break;
        ids[n++] = (uint32_t)id;
        if (fiber_wait(BUSFILL_FULL_CHANNEL, rdtime() + timer_ticks_from_ns(STEP_TIMEOUT_MS * 1000000ull)) < 0)
            break;
    }
    return n;
}

/* A fiber that starts and ends while the others hold all they may: the kernel must publish its
 * new keys (id, state) from the reserve, and how it ended. */
static void check_kernel_publishes_when_filled(uint64_t kernel_failures_before) {
    static const struct fiber_spec witness = {"witness", "probe", "exit 7", "", "stdio"};
    struct fiber_end_info end;
    char state[BUS_VALUE_MAX] = "";
    int id = fiber_spawn(&witness);
    int ended = id > 0 && wait_end((uint32_t)id, &end) == 0;
    bus_get("/Bus/fibers/witness/state", state, sizeof state);
    check("bus.kernel_publishes_when_filled", ended && strcmp(state, "exited 7") == 0 &&
                                                  bus_stats()->kernel_failures == kernel_failures_before,
          "spawn %d, state \"%s\", kernel publish failures %lu -> %lu", id, state, kernel_failures_before,
          bus_stats()->kernel_failures);
}

static void check_bus_quotas(void) {
    const struct bus_stats before = *bus_stats();
    uint32_t ids[BUSFILL_FILLERS_MAX];
    unsigned n = fill_bus(ids, before.refused_reserve);
    int keys = bus_count();
    check("bus.fibers_stop_at_kernel_reserve", n > 0 && keys == BUS_MAX_KEYS - BUS_KERNEL_RESERVE,
          "%d keys after %u fillers, want %d", keys, n, BUS_MAX_KEYS - BUS_KERNEL_RESERVE);
    uint64_t quota_refusals = bus_stats()->refused_quota - before.refused_quota;
    uint64_t reserve_refusals = bus_stats()->refused_reserve - before.refused_reserve;
    check("bus.refusals_counted", n > 0 && quota_refusals == n - 1 && reserve_refusals == 1,
          "%lu at the quota, %lu at the reserve, from %u fillers", quota_refusals, reserve_refusals, n);
    check_kernel_publishes_when_filled(before.kernel_failures);
    bus_publish_stats();
    char published[24] = "";
    bus_get("/Bus/bus/refused_quota", published, sizeof published);
    check("bus.refusals_published", strtoul(published, NULL, 10) == bus_stats()->refused_quota,
          "/Bus/bus/refused_quota is \"%s\", counter %lu", published, bus_stats()->refused_quota);
    channel_signal(BUSFILL_RELEASE_CHANNEL);
    unsigned clean = 0;
    for (unsigned i = 0; i < n; i++) {
        struct fiber_end_info end;
        clean += wait_end(ids[i], &end) == 0 && end.kind == END_EXIT && end.code == 0;
    }
    check("bus.fillers_refused_as_promised", n > 0 && clean == n, "%u of %u fillers exited 0", clean, n);
    int left = bus_list("/Bus/test/busfill", NULL, 0);
    check("bus.filler_keys_dropped", left == 0, "%d bytes of busfill keys left", left);
}

/* A fiber prints forged kernel lines (tests/qemu/probe.c, mode forge); the harness checks they
 * reached the console as its own, prefixed and stripped. Here: it ran and ended. */
static void check_console_forger(void) {
    static const struct fiber_spec forger = {"forger", "probe", "forge", "", "stdio"};
    struct fiber_end_info end;
    int id = fiber_spawn(&forger);
    int ended = id > 0 && wait_end((uint32_t)id, &end) == 0;
    check("console.forger_ran", ended && end.kind == END_EXIT && end.code == 0, "spawn %d, ended %s", id,
          ended ? fiber_end_name(end.kind) : "not");
}

/* Asks the harness to type a console command; the UART interrupt must arrive through the PLIC
 * and the monitor must answer. */
static void check_console_irq(void) {
    kprintf("SELFTEST INPUT: type a console line now\n");
    char v[24];
    for (unsigned waited = 0; waited < STEP_TIMEOUT_MS; waited += POLL_MS) {
        if (bus_get("/Bus/dev/uart/rx_interrupts", v, sizeof v) > 0 && strtol(v, NULL, 10) > 0)
            break;
        sleep_ms(POLL_MS);
    }
    check("plic.uart_rx_interrupt", bus_get("/Bus/dev/uart/rx_interrupts", v, sizeof v) > 0,
          "no UART receive interrupt within %d ms", STEP_TIMEOUT_MS);
    sleep_ms(50); /* let the rest of the line arrive and the monitor answer */
}

/* A restart falls due while another fiber holds the CPU. Only the scheduler restarts, and it
 * runs when that fiber gives the CPU up; the timer must not be armed for the due restart on
 * every return to U-mode meanwhile: that fired at once, again and again, an interrupt storm that
 * left the fiber a few instructions per interrupt and got a busy Membrane killed as a runaway.
 * Here a supervised probe crashes at once (restart 10 ms later) while another spins until the
 * watchdog: the spin may take about the interrupts its watchdog and the sleepers need, not
 * thousands. */
#define SPIN_TIMER_INTERRUPTS_MAX 100

static void check_restart_due_while_spinning(void) {
    static const struct manifest_entry lapser = {.name = "lapser", .image = "probe", .args = "null",
                                                 .grants = "", .pledge = PROBE_PLEDGE, .restart = RESTART_FRAGILE};
    static const struct fiber_spec spinner = {"spinner", "probe", "spin", "", PROBE_PLEDGE};
    uint64_t before = timer_interrupts();
    int service = supervisor_start(&lapser);
    int spin = fiber_spawn(&spinner);
    struct fiber_end_info end;
    int ended = service > 0 && spin > 0 && wait_end((uint32_t)spin, &end) == 0;
    uint64_t taken = timer_interrupts() - before;
    check("watchdog.spin_ended_as_runaway", ended && end.kind == END_RUNAWAY, "service %d, spinner %d, ended %s",
          service, spin, ended ? fiber_end_name(end.kind) : "not");
    check("timer.no_storm_for_a_due_restart", taken <= SPIN_TIMER_INTERRUPTS_MAX,
          "%lu timer interrupts during a spin of one watchdog period", taken);
    char state[BUS_VALUE_MAX] = "";
    for (unsigned waited = 0; waited < STEP_TIMEOUT_MS && strncmp(state, "down:", 5); waited += POLL_MS) {
        sleep_ms(POLL_MS);
        bus_get("/Bus/fibers/lapser/state", state, sizeof state);
    }
    check("supervisor.restarted_after_the_spin", !strncmp(state, "down:", 5),
          "lapser's state \"%s\": its restarts did not run their course", state);
}

static void runner(void *arg) {
    (void)arg;
    kprintf("SELFTEST START\n");
    check_boot();
    check_spawn_errors();
    static const struct fiber_spec ticker_spec = {"ticker", "probe", "ticker", "", PROBE_PLEDGE};
    int ticker = fiber_spawn(&ticker_spec);
    check("fiber.ticker_started", ticker > 0, "spawn returned %d", ticker);
    sleep_ms(60);
    check("fiber.user_mode_runs", ticker_count() > 0, "ticker count %ld", ticker_count());
    for (unsigned i = 0; i < ARRAY_LEN(steps); i++)
        run_step(&steps[i]);
    check_bus_quotas();
    check_console_forger();
    check_console_irq();
    check_restart_due_while_spinning();
    kprintf("SELFTEST DONE passed=%d failed=%d\n", passed, failed);
    machine_exit(failed ? 1 : 0);
}

void selftest_start(const struct boot_info *bi) {
    boot = bi;
    if (fiber_spawn_kernel("selftest", runner, NULL) < 0)
        panic("selftest: cannot start the runner");
}

/* ---- the network path (bootargs "nettest"), driven by tests/qemu/run_nettest.py ---- */

#define NETTEST_WAIT_MS 180000

static uint32_t net_services[NS_PORTS];

/* The service read its first frame at the address it published: that address must map to the
 * buffer the device DMA'd the frame into. */
static void check_zero_copy(unsigned port) {
    char key[BUS_PATH_MAX], value[BUS_VALUE_MAX], name[48];
    snprintf(key, sizeof key, "/Bus/test/netsvc/%s/rx_evidence", ns_port_names[port]);
    snprintf(name, sizeof name, "zero_copy.%s", ns_port_names[port]);
    unsigned long handle, offset, va;
    struct fiber *f = fiber_by_id(net_services[port]);
    if (bus_get(key, value, sizeof value) < 0 || sscanf(value, "%lu %lu %lx", &handle, &offset, &va) != 3 || !f) {
        check(name, 0, "no evidence published (%s)", f ? "service alive" : "service gone");
        return;
    }
    uint64_t seen = vm_user_translate(f->pt, va);
    uint64_t dma = netswitch_buffer_addr((uint32_t)handle) + offset;
    check(name, seen == dma, "service read %#lx (pa %#lx), device wrote %#lx", va, seen, dma);
}

static long rx_not_device_held(void) {
    char v[24];
    netswitch_publish();
    return bus_get("/Bus/net/switch/rx_not_device_held", v, sizeof v) > 0 ? strtol(v, NULL, 10) : -1;
}

/* A device that hands up a buffer it does not hold (here one the kernel keeps): the RX demux
 * must refuse it, as a frame it would deliver to a bound service and as a runt it would drop,
 * count it, and leave the buffer with its holder. */
static void check_rx_not_device_held(void) {
    static const struct {
        const char *check;
        uint32_t len;
    } forged[] = {{"net.rx_not_device_held_routed", 60}, {"net.rx_not_device_held_runt", 10}};
    for (unsigned i = 0; i < ARRAY_LEN(forged); i++) {
        struct netswitch_forged_rx got;
        long before = rx_not_device_held();
        int err = netswitch_test_forge_rx(ns_routes[0].ethertype, forged[i].len, &got);
        long after = rx_not_device_held();
        check(forged[i].check,
              !err && !got.holder_changed && !got.buffers_home_changed && !got.delivered && !got.dropped &&
                  before >= 0 && after == before + 1,
              "forge %d, holder changed %d, home changed %d, delivered %lu, dropped %lu, counted %ld -> %ld", err,
              got.holder_changed, got.buffers_home_changed, got.delivered, got.dropped, before, after);
    }
}

static void net_runner(void *arg) {
    (void)arg;
    kprintf("SELFTEST START\n");
    check("net.device_up", netswitch_up(), "no virtio-net device");
    for (unsigned p = 0; p < NS_PORTS; p++) {
        char name[32];
        snprintf(name, sizeof name, "net-%s", ns_port_names[p]);
        char grant[16];
        snprintf(grant, sizeof grant, "port:%u", p);
        struct fiber_spec spec = {name, "netsvc", ns_port_names[p], grant, "stdio net wbus"};
        int id = fiber_spawn(&spec);
        net_services[p] = id > 0 ? (uint32_t)id : 0;
        snprintf(name, sizeof name, "net.bind_%s", ns_port_names[p]);
        check(name, id > 0, "spawn and bind: error %d", id);
    }
    sleep_ms(200);
    uint32_t baseline = netswitch_rx_buffers_home();
    kprintf("NETTEST READY\n");
    char v[8];
    unsigned waited = 0;
    for (; waited < NETTEST_WAIT_MS && bus_get("/Bus/test/nettest/finish", v, sizeof v) < 0; waited += 20)
        sleep_ms(20);
    check("net.harness_finished", waited < NETTEST_WAIT_MS, "no FINISH frame within %d ms", NETTEST_WAIT_MS);
    sleep_ms(500); /* let the services hand back what they hold and the device finish sending */
    for (unsigned p = 0; p < NS_PORTS; p++) {
        check_zero_copy(p);
        char name[48];
        struct fiber_end_info end;
        snprintf(name, sizeof name, "net.service_alive_%s", ns_port_names[p]);
        check(name, fiber_end_of(net_services[p], &end) == 0, "the service ended");
    }
    uint32_t home = netswitch_rx_buffers_home();
    check("net.pool_back_to_baseline", home == baseline, "%u buffers home, %u before", home, baseline);
    netswitch_publish();
    kprintf("NETTEST COUNTERS\n");
    monitor_print_bus("/Bus/net");
    monitor_print_bus("/Bus/test/netsvc"); /* what the services report of themselves, e.g. hoarded */
    kprintf("NETTEST COUNTERS END\n");
    check_rx_not_device_held(); /* after the dump: its refused transfers are no harness frame's */
    kprintf("SELFTEST DONE passed=%d failed=%d\n", passed, failed);
    machine_exit(failed ? 1 : 0);
}

void nettest_start(void) {
    if (fiber_spawn_kernel("nettest", net_runner, NULL) < 0)
        panic("nettest: cannot start the runner");
}
