/*
 * The self-test probe: one user image, many behaviours, chosen by argv[1]. Some modes misbehave
 * on purpose (the kernel runner checks how they die); the others check syscall behaviour from
 * U-mode and print one line per check:
 *     TEST <name>: ok            TEST <name>: FAIL <what was observed>
 * and exit with the number of failed checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nexus.h"
#include "unix_lane.h"

#define KERNEL_ADDR   0x80200000ul /* kernel text: mapped, but not for U-mode */
#define UNMAPPED_ADDR 0x50000000ul /* the heap window's start: unmapped in a probe without a heap grant */
#define ISO_CHANNEL   10
#define WAKE_CHANNEL  11
#define BUSFILL_FULL_CHANNEL    14 /* busfill -> runner: refused, keys held */
#define BUSFILL_RELEASE_CHANNEL 15 /* runner -> busfill: done looking, exit */
#define BUSFILL_KEYS_MAX        1024 /* more than /Bus holds: a kernel without limits ends it too */

static int failures;

/* Prints the check's result line; fmt describes what was observed when it failed. */
__attribute__((format(printf, 3, 4))) static void check(const char *name, int ok, const char *fmt, ...) {
    if (ok) {
        printf("TEST %s: ok\n", name);
        return;
    }
    char detail[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    failures++;
    printf("TEST %s: FAIL %s\n", name, detail);
}

#define EXPECT_EQ(name, got, want) \
    check((name), (long)(got) == (long)(want), "got %ld, want %ld", (long)(got), (long)(want))

/* ---- modes that must be killed ---- */

static volatile uint64_t sink;
static volatile uint32_t data_word = 0x00008067; /* "ret", but in a non-executable page */

static void mode_kread(void) { sink = *(volatile uint64_t *)KERNEL_ADDR; }
static void mode_kwrite(void) { *(volatile uint64_t *)KERNEL_ADDR = 0; }
static void mode_null(void) { sink = *(volatile uint64_t *)0; }
static void mode_illegal(void) { __asm__ volatile("csrw satp, zero"); }
static void mode_exec_data(void) { ((void (*)(void))(uintptr_t)&data_word)(); }
static void mode_write_text(void) { *(volatile uint32_t *)(uintptr_t)&mode_write_text = 0; }
static void mode_spin(void) {
    for (;;)
        sink++;
}

/* An atomic on a misaligned address: OpenSBI emulates misaligned plain loads and stores, but
 * not AMOs, so this one reaches the kernel as a store/AMO misaligned fault. */
static void mode_misaligned(void) {
    static uint64_t words[2];
    volatile uint32_t *p = (volatile uint32_t *)((uintptr_t)words + 2);
    uint32_t old;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(1) : "memory");
    sink = old;
}

/* The FPU: the images are built for rv64imac, so the assembler is told about the D extension
 * for these instructions only. The kernel runs U-mode with the FPU off (sstatus.FS = Off), so
 * either instruction must be killed as illegal. If one ran instead, the FP registers would be
 * shared by every fiber: fpread, started after fpwrite has ended, looks for fpwrite's value. */
#define FPU_MARKER 0x5ec12e7f00dull

static void mode_fp_write(void) {
    __asm__ volatile(".option push\n.option arch, +d\nfmv.d.x f5, %0\n.option pop" ::"r"(FPU_MARKER));
}

static void mode_fp_read(void) {
    uint64_t seen;
    __asm__ volatile(".option push\n.option arch, +d\nfmv.x.d %0, f5\n.option pop" : "=r"(seen));
    check("fpu.other_fiber_value", seen != FPU_MARKER, "read %#lx from f5, the value another fiber left there",
          (unsigned long)seen);
}

static int recurse(int depth) {
    volatile char frame[1024];
    frame[0] = (char)depth;
    if (depth > 1000000) /* never reached: the 32 KiB stack ends long before */
        return 0;
    return recurse(depth + 1) + frame[0];
}
static void mode_stack_overflow(void) { sink = (uint64_t)recurse(0); }

/* ---- modes that check and exit ---- */

static void mode_ticker(void) {
    char value[24];
    for (unsigned long n = 1;; n++) {
        snprintf(value, sizeof value, "%lu", n);
        nx_bus_set("/Bus/test/ticker/count", value);
        if (n % 5 == 0)
            printf("ticker: tick %lu\n", n);
        nx_sleep_ns(NX_MS(20));
    }
}

static void mode_syscalls(void) {
    static const char text[] = "probe: console write\n";
    char buf[32];
    EXPECT_EQ("syscall.console_write_ok", nx_console_write(text, strlen(text)), strlen(text));
    EXPECT_EQ("syscall.kernel_pointer", nx_console_write((void *)KERNEL_ADDR, 16), -EFAULT);
    EXPECT_EQ("syscall.unmapped_pointer", nx_console_write((void *)UNMAPPED_ADDR, 16), -EFAULT);
    EXPECT_EQ("syscall.null_pointer", nx_console_write(NULL, 16), -EFAULT);
    EXPECT_EQ("syscall.absurd_length", nx_console_write(text, 1ul << 40), -EINVAL);
    EXPECT_EQ("syscall.wrapping_range", nx_console_write((void *)-16l, 256), -EFAULT);
    EXPECT_EQ("syscall.straddles_stack_top", nx_bus_get("/Bus/boot/timebase_hz", (char *)0x7ffffffcul, 16), -EFAULT);
    EXPECT_EQ("syscall.readonly_destination", nx_bus_get("/Bus/boot/hart", (char *)(uintptr_t)&mode_syscalls, 16), -EFAULT);
    EXPECT_EQ("syscall.kernel_path_pointer", nx_bus_get((const char *)KERNEL_ADDR, buf, sizeof buf), -EFAULT);
    EXPECT_EQ("syscall.identity_kernel_pointer", nx_identity((void *)KERNEL_ADDR), -EFAULT);
    EXPECT_EQ("syscall.bus_list_absurd_length", nx_bus_list("/Bus", buf, 1ul << 30), -EINVAL);
    EXPECT_EQ("syscall.unknown_number", nx_syscall(999, 0, 0, 0, 0, 0, 0), -ENOSYS);
    EXPECT_EQ("syscall.bad_channel", nx_wait(1000, 0), -EINVAL);
    char long_path[200];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    memcpy(long_path, "/Bus/", 5);
    EXPECT_EQ("syscall.path_too_long", nx_bus_set(long_path, "x"), -EINVAL);
    /* standard input, with the console not given to the probe (kernel/console_input.h) */
    EXPECT_EQ("syscall.console_read_nothing_typed", nx_console_read(buf, sizeof buf), -EAGAIN);
    EXPECT_EQ("syscall.console_read_ask_only", nx_console_read(NULL, 0), 0);
    EXPECT_EQ("syscall.console_read_kernel_pointer_takes_nothing", nx_console_read((void *)KERNEL_ADDR, 16), -EAGAIN);
    EXPECT_EQ("syscall.console_channel_wait", nx_wait(NEXUS_CONSOLE_CHANNEL, 0), -ETIMEDOUT);
    EXPECT_EQ("syscall.console_channel_not_signalled_by_apps", nx_signal(NEXUS_CONSOLE_CHANNEL), -EPERM);
    check("syscall.still_running", 1, "unreachable");
}

static void mode_bus(const char *myname) {
    char buf[128], path[64];
    EXPECT_EQ("bus.set_own_key", nx_bus_set("/Bus/test/probe/x", "42"), 0);
    EXPECT_EQ("bus.get_length", nx_bus_get("/Bus/test/probe/x", buf, sizeof buf), 2);
    check("bus.get_value", strcmp(buf, "42") == 0, "got \"%s\"", buf);
    EXPECT_EQ("bus.get_truncated_length", nx_bus_get("/Bus/test/probe/x", buf, 2), 2);
    check("bus.get_truncated_terminated", strcmp(buf, "4") == 0, "got \"%s\"", buf);
    EXPECT_EQ("bus.kernel_key_readonly", nx_bus_set("/Bus/boot/hart", "7"), -EPERM);
    nx_bus_get("/Bus/boot/hart", buf, sizeof buf);
    check("bus.kernel_key_unchanged", strcmp(buf, "7") != 0, "hart now \"%s\"", buf);
    EXPECT_EQ("bus.malformed_path", nx_bus_set("/Bus//x", "1"), -EINVAL);
    EXPECT_EQ("bus.missing_key", nx_bus_get("/Bus/test/none", buf, sizeof buf), -ENOENT);
    long n = nx_bus_list("/Bus/test/probe", buf, sizeof buf);
    check("bus.list_own_key", n > 0 && strstr(buf, "/Bus/test/probe/x=42\n") != NULL, "got %ld bytes", n);
    struct nexus_identity me;
    EXPECT_EQ("identity.call", nx_identity(&me), 0);
    check("identity.name", strcmp(me.name, myname) == 0, "got \"%s\"", me.name);
    snprintf(path, sizeof path, "/Bus/fibers/%s/id", myname);
    nx_bus_get(path, buf, sizeof buf);
    EXPECT_EQ("identity.matches_bus", strtol(buf, NULL, 10), me.id);
}

static void mode_sleep(void) {
    uint64_t t0 = nx_clock_ns();
    nx_sleep_ns(NX_MS(50));
    uint64_t dt = nx_clock_ns() - t0;
    check("sched.sleep_at_least", dt >= NX_MS(50), "slept %lu ns", (unsigned long)dt);
    check("sched.sleep_not_forever", dt < NX_MS(2000), "slept %lu ns", (unsigned long)dt);
    uint64_t r0 = 0, r1 = 0;
    __asm__ volatile("rdtime %0" : "=r"(r0));
    nx_yield();
    __asm__ volatile("rdtime %0" : "=r"(r1));
    check("sched.rdtime_from_user", r1 >= r0 && r0 != 0, "rdtime %lu -> %lu", (unsigned long)r0, (unsigned long)r1);
    /* nx_clock_ns reads the time CSR itself after its first call (lib/rt/nexus.c): it must agree
     * with the kernel's clock syscall read between two of its readings. */
    uint64_t before = nx_clock_ns();
    uint64_t kernel = (uint64_t)nx_syscall(SYS_CLOCK, 0, 0, 0, 0, 0, 0);
    uint64_t after = nx_clock_ns();
    check("sched.user_clock_agrees_with_syscall", before <= kernel && kernel <= after && after - before < NX_MS(100),
          "%lu, kernel %lu, %lu", (unsigned long)before, (unsigned long)kernel, (unsigned long)after);
}

static void mode_wait(void) {
    EXPECT_EQ("wait.signal_without_waiter", nx_signal(12), 0);
    EXPECT_EQ("wait.pending_signal_returns_at_once", nx_wait(12, NX_MS(1000)), 0);
    uint64_t t0 = nx_clock_ns();
    EXPECT_EQ("wait.timeout", nx_wait(13, NX_MS(30)), -ETIMEDOUT);
    uint64_t dt = nx_clock_ns() - t0;
    check("wait.timeout_elapsed", dt >= NX_MS(30), "waited %lu ns", (unsigned long)dt);
}

static void mode_waiter(void) {
    uint64_t t0 = nx_clock_ns();
    EXPECT_EQ("wait.woken_by_other_fiber", nx_wait(WAKE_CHANNEL, NX_MS(3000)), 0);
    check("wait.woken_before_timeout", nx_clock_ns() - t0 < NX_MS(3000), "timed out");
}

static void mode_signaller(void) {
    nx_sleep_ns(NX_MS(30)); /* let the waiter block first */
    EXPECT_EQ("wait.signal_wakes_one", nx_signal(WAKE_CHANNEL), 1);
}

/* Both instances run the same image, so `cell` has the same address in each. */
static volatile uint64_t cell;

static void mode_iso_a(void) {
    cell = 0xA11CE;
    nx_bus_set("/Bus/test/iso/a_ready", "1");
    EXPECT_EQ("isolation.partner_done", nx_wait(ISO_CHANNEL, NX_MS(3000)), 0);
    check("isolation.write_other", cell == 0xA11CE, "cell is %#lx", (unsigned long)cell);
}

static void mode_iso_b(void) {
    char buf[8];
    for (int i = 0; i < 100 && nx_bus_get("/Bus/test/iso/a_ready", buf, sizeof buf) < 0; i++)
        nx_sleep_ns(NX_MS(10));
    check("isolation.read_other", cell == 0, "saw %#lx at the same address", (unsigned long)cell);
    cell = 0xB0B;
    nx_signal(ISO_CHANNEL);
}

/* Granted chan:10:r and chan:11:w, pledged "stdio rbus wbus". Ends by using /Bus after
 * pledging it away: the kernel must kill it (the self-test checks that). */
static void mode_caps(void) {
    char buf[16];
    EXPECT_EQ("caps.wait_ungranted", nx_wait(20, 0), -EPERM);
    EXPECT_EQ("caps.signal_ungranted", nx_signal(20), -EPERM);
    EXPECT_EQ("caps.signal_read_only", nx_signal(10), -EPERM);
    EXPECT_EQ("caps.wait_write_only", nx_wait(11, 0), -EPERM);
    EXPECT_EQ("caps.wait_any_one_ungranted", nx_wait_any(1ull << 10 | 1ull << 20, 0), -EPERM);
    EXPECT_EQ("caps.wait_read", nx_wait(10, NX_MS(5)), -ETIMEDOUT);
    EXPECT_EQ("caps.signal_write", nx_signal(11), 0);
    EXPECT_EQ("pledge.widen_refused", nx_pledge("stdio rbus wbus inet"), -EPERM);
    EXPECT_EQ("pledge.unknown_name", nx_pledge("stdio root"), -EINVAL);
    EXPECT_EQ("pledge.still_reads_bus", nx_bus_get("/Bus/boot/hart", buf, sizeof buf) >= 0, 1);
    EXPECT_EQ("pledge.narrow", nx_pledge("stdio wbus"), 0);
    EXPECT_EQ("pledge.widen_back_refused", nx_pledge("stdio rbus wbus"), -EPERM);
    EXPECT_EQ("pledge.kept_promise_works", nx_bus_set("/Bus/test/probe/pledged", "1"), 0);
    printf("probe: reading /Bus without rbus now; the kernel must kill this fiber\n");
    nx_bus_get("/Bus/boot/hart", buf, sizeof buf);
    check("pledge.violation_survived", 0, "bus_get without rbus returned");
}

/* Publishes new keys until /Bus refuses one, tells the runner (kernel/selftest.c) and holds
 * them until released, so the runner can look at a /Bus that fibers filled as far as they may.
 * The refusal must be the one the quota rules promise: -EDQUOT at exactly the owner quota, or
 * -ENOSPC (only the kernel's reserve left) below it; keys held must still take new values. */
static void mode_busfill(void) {
    char path[64], quota_text[24];
    struct nexus_identity me;
    nx_identity(&me);
    long quota = nx_bus_get("/Bus/bus/owner_quota", quota_text, sizeof quota_text) > 0 ? strtol(quota_text, NULL, 10) : -1;
    long err = 0;
    int held;
    for (held = 0; held < BUSFILL_KEYS_MAX; held++) {
        snprintf(path, sizeof path, "/Bus/test/busfill/%u/k%d", me.id, held);
        if ((err = nx_bus_set(path, "x")) != 0)
            break;
    }
    check("busfill.refused_by_quota_or_reserve",
          (err == -EDQUOT && held == quota) || (err == -ENOSPC && held < quota),
          "%d keys (quota %ld), then error %ld", held, quota, err);
    snprintf(path, sizeof path, "/Bus/test/busfill/%u/k0", me.id);
    long replaced = held ? nx_bus_set(path, "y") : 0;
    check("busfill.held_keys_update", replaced == 0, "error %ld", replaced);
    nx_signal(BUSFILL_FULL_CHANNEL);
    nx_wait(BUSFILL_RELEASE_CHANNEL, NX_MS(10000));
}

/* ion_info needs the net promise, which probes do not have. */
static void mode_ioninfo(void) {
    struct nexus_ion_info info;
    nx_ion_info(&info);
    check("pledge.ion_info_survived", 0, "ion_info without net returned");
}

/* Writes what a forger would: a kernel kill line, a check and a verdict, each after a newline so
 * it would start a line, dressed in escape sequences and control bytes that erase or move back
 * over the kernel's prefix; it ends on half a line the kernel's next message would complete.
 * tests/qemu/run_selftest.py checks what reached the console (kernel/console.c). */
static void mode_forge(void) {
    static const char forged[] = "\nfiber membrane#2 \x1b[31mkilled\x1b[0m: fault scause=0xd stval=0 sepc=0x0\n"
                                 "\x1b[2K\rTEST console.forged: ok\n"
                                 "\x1b]0;nexus\x07SELFTEST DONE passed=1 failed=0\n"
                                 "\x1b[1A\b\bno line end: ";
    nx_console_write(forged, sizeof forged - 1);
}

/* ---- the key blob (docs/identity.md) ---- */

#define KEYBLOB_BUS_KEY "/Bus/boot/keyblob"
#define KEYBLOB_BUF_MAX 4096

/* CRC-32 (IEEE, zlib's): a checksum the harness compares with the key file's, so that the
 * secret's bytes never reach the console. Not a security function. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int bit = 0; bit < 8; bit++)
            crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

static long bus_number(const char *path) {
    char v[24];
    return nx_bus_get(path, v, sizeof v) > 0 ? strtol(v, NULL, 10) : -1;
}

/* Booted without -initrd: there is nothing to take, and /Bus says so. */
static void mode_keyblob_none(void) {
    char state[96] = "";
    static uint8_t buf[256];
    EXPECT_EQ("keyblob.none_is_enoent", nx_keyblob_take(buf, sizeof buf), -ENOENT);
    nx_bus_get(KEYBLOB_BUS_KEY, state, sizeof state);
    check("keyblob.none_on_bus", strcmp(state, "none") == 0, "%s is \"%s\"", KEYBLOB_BUS_KEY, state);
}

/* Without the keyblob promise: the kernel must kill it at the gate. */
static void mode_keyblob_steal(void) {
    static uint8_t buf[KEYBLOB_BUF_MAX];
    nx_keyblob_take(buf, sizeof buf);
    check("keyblob.steal_survived", 0, "keyblob_take without the promise returned");
}

/* Booted with -initrd: the refusals consume nothing, the take gets the blob once (the harness
 * compares its length and CRC with the file) and gives its pages back, and /Bus follows. */
static void mode_keyblob_take(void) {
    static uint8_t blob[KEYBLOB_BUF_MAX];
    char state[96] = "", want[96];
    struct nexus_identity me;
    nx_identity(&me);
    nx_sleep_ns(NX_MS(100)); /* a fiber started with it that lacks the promise has been killed by now */
    nx_bus_get(KEYBLOB_BUS_KEY, state, sizeof state);
    char *rest;
    long len = strtol(state, &rest, 10);
    check("keyblob.waiting_on_bus", len > 0 && strcmp(rest, " bytes, waiting") == 0, "\"%s\"", state);
    EXPECT_EQ("keyblob.kernel_pointer", nx_keyblob_take((void *)KERNEL_ADDR, sizeof blob), -EFAULT);
    EXPECT_EQ("keyblob.readonly_buffer", nx_keyblob_take((void *)(uintptr_t)&mode_keyblob_take, sizeof blob), -EFAULT);
    EXPECT_EQ("keyblob.short_buffer", nx_keyblob_take(blob, (size_t)len - 1), -EINVAL);
    char again[96] = "";
    nx_bus_get(KEYBLOB_BUS_KEY, again, sizeof again);
    check("keyblob.refusals_consume_nothing", strcmp(again, state) == 0, "\"%s\"", again);
    long free_before = bus_number("/Bus/mem/pages_free");
    long got = nx_keyblob_take(blob, sizeof blob);
    long free_after = bus_number("/Bus/mem/pages_free");
    EXPECT_EQ("keyblob.take_length", got, len);
    check("keyblob.pages_returned", free_after > free_before, "free pages %ld -> %ld", free_before, free_after);
    if (got > 0)
        printf("keyblob: %ld bytes crc32 %08lx\n", got, (unsigned long)crc32_ieee(blob, (size_t)got));
    memset(blob, 0, sizeof blob);
    EXPECT_EQ("keyblob.second_take_enoent", nx_keyblob_take(blob, sizeof blob), -ENOENT);
    nx_bus_get(KEYBLOB_BUS_KEY, state, sizeof state);
    snprintf(want, sizeof want, "taken by %s", me.name);
    check("keyblob.taken_on_bus", strcmp(state, want) == 0, "\"%s\"", state);
}

/* ---- the heap (granted heap:256 by the runner) ---- */

#define HEAP_GRANT (256 * 1024)
#define HEAP_BLOCK (16 * 1024)

/* malloc until it refuses: ENOMEM, near the grant, every byte usable; the break cannot pass
 * the grant nor go below the heap's start. The runner then checks every page came back. */
static void mode_heap(void) {
    static unsigned char *blocks[HEAP_GRANT / HEAP_BLOCK + 1];
    size_t n = 0;
    errno = 0;
    while (n < sizeof blocks / sizeof blocks[0] && (blocks[n] = malloc(HEAP_BLOCK)) != NULL) {
        memset(blocks[n], (int)n, HEAP_BLOCK);
        n++;
    }
    int e = errno;
    check("heap.malloc_enomem_at_grant", blocks[n] == NULL && e == ENOMEM, "block %zu: %p, errno %d", n,
          (void *)blocks[n], e);
    check("heap.most_of_grant_used", n * HEAP_BLOCK > HEAP_GRANT * 3 / 4 && n * HEAP_BLOCK <= HEAP_GRANT,
          "%zu KiB of %d KiB", n * HEAP_BLOCK / 1024, HEAP_GRANT / 1024);
    int intact = 1;
    for (size_t i = 0; i < n; i++)
        intact &= blocks[i][0] == (unsigned char)i && blocks[i][HEAP_BLOCK - 1] == (unsigned char)i;
    check("heap.blocks_intact", intact, "a block was overwritten");
    long brk = nx_heap(0);
    EXPECT_EQ("heap.break_past_grant", nx_heap(HEAP_GRANT), -ENOMEM);
    EXPECT_EQ("heap.break_below_start", nx_heap(-(long)HEAP_GRANT - 1), -EINVAL);
    EXPECT_EQ("heap.break_unchanged_by_refusals", nx_heap(0), brk);
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    void *again = malloc(HEAP_BLOCK);
    check("heap.malloc_after_free", again != NULL, "errno %d", errno);
}

/* Without a heap grant: no heap at all, refused cleanly. */
static void mode_heap_none(void) {
    EXPECT_EQ("heap.none_refused", nx_heap(4096), -ENOMEM);
    errno = 0;
    void *p = malloc(16);
    check("heap.none_malloc_enomem", p == NULL && errno == ENOMEM, "%p, errno %d", p, errno);
}

/* Grows the heap by two pages, gives one back, then writes to it: the page is unmapped, so the
 * store must fault (the runner expects the kill). */
static void mode_heap_shrink(void) {
    long start = nx_heap(2 * 4096);
    if (start < 0 || nx_heap(-4096) < 0) {
        printf("probe: heap grow/shrink failed\n");
        return;
    }
    *(volatile unsigned char *)(start + 4096) = 1;
}

/* ---- AF_UNIX through the syscalls (kernel/unix.c), below libnexus ---- */

#define UNIX_PATH "/run/probe.sock"
#define UNIX_WAIT_NS NX_MS(5000)
static const char unix_hello[] = "hello from the client", unix_reply[] = "hello from the server";

/* Sleeps on the doorbell until got() holds, at most UNIX_WAIT_NS: 1 if it came. The ring's
 * wake flag is set first, so the peer rings (ion_ring.h's protocol). */
static int unix_wait(long bell, struct ion_ring *ring, int (*got)(void *), void *arg) {
    uint64_t t0 = nx_clock_ns();
    while (!got(arg)) {
        if (nx_clock_ns() - t0 > UNIX_WAIT_NS)
            return 0;
        if (ion_ring_consumer_sleep_prepare(ring) && !got(arg))
            nx_wait((int)bell, NX_MS(200));
    }
    return 1;
}

static int unix_has_data(void *r) {
    uint32_t len;
    return unix_lane_piece(r, 0, &len) != NULL;
}

static int unix_at_end(void *r) { return unix_lane_at_end(r); }

/* Sends text on w and rings the peer if it sleeps. */
static int unix_send(struct unix_lane_writer *w, const char *text, const struct nexus_unix_conn *c) {
    uint8_t *buf = unix_lane_claim(w);
    if (!buf)
        return 0;
    memcpy(buf, text, strlen(text));
    if (unix_lane_post(w, (uint32_t)strlen(text)))
        return 0;
    if (ion_ring_producer_should_wake(&w->active))
        nx_signal((int)c->peer_doorbell);
    return 1;
}

static int unix_got(struct unix_lane_reader *r, const char *text) {
    uint32_t len;
    const uint8_t *p = unix_lane_piece(r, 0, &len);
    int ok = p && len == strlen(text) && !memcmp(p, text, len);
    unix_lane_drop_first(r);
    return ok;
}

static void unix_lanes(const struct nexus_unix_conn *c, struct unix_lane_writer *w, struct unix_lane_reader *r) {
    uint8_t *base = (uint8_t *)(uintptr_t)c->va;
    unix_lane_writer_attach(w, base + (size_t)c->end * UNIX_LANE_BYTES);
    unix_lane_reader_attach(r, base + (size_t)(1 - c->end) * UNIX_LANE_BYTES);
}

/* Binds, listens, accepts the partner's connection, answers its message, then reads end of
 * file once the partner has exited without closing: the kernel shut its end. */
static void mode_unix_server(void) {
    long name = nx_unix_bind(UNIX_PATH, NEXUS_UNIX_STREAM), bell = nx_unix_doorbell();
    check("unix.bind", name >= 0 && bell >= 0, "bind %ld, doorbell %ld", name, bell);
    EXPECT_EQ("unix.listen", nx_unix_listen(name, 2), 0);
    struct nexus_unix_conn c;
    long conn = -EAGAIN;
    uint64_t t0 = nx_clock_ns();
    while ((conn = nx_unix_accept(name, &c)) == -EAGAIN && nx_clock_ns() - t0 < UNIX_WAIT_NS)
        nx_wait((int)bell, NX_MS(200)); /* a connection rings the listener's doorbell */
    check("unix.accept", conn >= 0 && c.end == 1 && c.doorbell == (uint32_t)bell && c.peer_doorbell != c.doorbell,
          "accept %ld, end %u, doorbells %u/%u", conn, c.end, c.doorbell, c.peer_doorbell);
    if (conn < 0)
        return;
    struct unix_lane_writer w;
    struct unix_lane_reader r;
    unix_lanes(&c, &w, &r);
    check("unix.server_got_message", unix_wait(bell, &r.active, unix_has_data, &r) && unix_got(&r, unix_hello),
          "no \"%s\" from the partner", unix_hello);
    check("unix.server_replied", unix_send(&w, unix_reply, &c), "no free buffer");
    check("unix.end_of_file_after_peer_exit", unix_wait(bell, &r.active, unix_at_end, &r), "no end of file");
    check("unix.peer_gone_reads_no_more", unix_lane_reader_shut(&w), "the dead peer's reader is not shut");
    EXPECT_EQ("unix.close_connection", nx_unix_close(NEXUS_UNIX_CONN, conn), 0);
    EXPECT_EQ("unix.close_name", nx_unix_close(NEXUS_UNIX_NAME, name), 0);
}

/* Connects (retrying while the server starts), sends, reads the answer, exits without closing. */
static void mode_unix_client(void) {
    struct nexus_unix_conn c;
    long conn = -ENOENT;
    uint64_t t0 = nx_clock_ns();
    while ((conn = nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &c, -1)) < 0 && nx_clock_ns() - t0 < UNIX_WAIT_NS &&
           (conn == -ENOENT || conn == -ECONNREFUSED))
        nx_sleep_ns(NX_MS(10));
    check("unix.connect", conn >= 0 && c.end == 0, "connect %ld", conn);
    if (conn < 0)
        return;
    struct unix_lane_writer w;
    struct unix_lane_reader r;
    unix_lanes(&c, &w, &r);
    check("unix.client_sent", unix_send(&w, unix_hello, &c), "no free buffer");
    check("unix.client_got_reply", unix_wait(c.doorbell, &r.active, unix_has_data, &r) && unix_got(&r, unix_reply),
          "no \"%s\" from the server", unix_reply);
}

/* A count the kernel publishes under /Bus/unix, or -1. */
static long unix_bus(const char *what) {
    char path[48], v[24];
    snprintf(path, sizeof path, "/Bus/unix/%s", what);
    return nx_bus_get(path, v, sizeof v) > 0 ? strtol(v, NULL, 10) : -1;
}

/* Every argument the AF_UNIX syscalls refuse, and a connection of the probe to itself. */
static void mode_unix_args(void) {
    char longest[NEXUS_UNIX_PATH_MAX + 2];
    memset(longest, 'p', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0'; /* 109 bytes before the NUL: one too many */
    struct nexus_unix_conn c;
    EXPECT_EQ("unix.bind_null", nx_unix_bind(NULL, NEXUS_UNIX_STREAM), -EFAULT);
    EXPECT_EQ("unix.bind_kernel_pointer", nx_unix_bind((const char *)KERNEL_ADDR, NEXUS_UNIX_STREAM), -EFAULT);
    EXPECT_EQ("unix.bind_empty", nx_unix_bind("", NEXUS_UNIX_STREAM), -EINVAL);
    EXPECT_EQ("unix.bind_too_long", nx_unix_bind(longest, NEXUS_UNIX_STREAM), -ENAMETOOLONG);
    longest[NEXUS_UNIX_PATH_MAX] = '\0';
    long longest_name = nx_unix_bind(longest, NEXUS_UNIX_STREAM);
    check("unix.bind_longest", longest_name >= 0, "a %d-byte path: %ld", NEXUS_UNIX_PATH_MAX, longest_name);
    EXPECT_EQ("unix.bind_bad_type", nx_unix_bind(UNIX_PATH, 7), -EINVAL);
    long name = nx_unix_bind(UNIX_PATH, NEXUS_UNIX_STREAM);
    check("unix.bind", name >= 0, "bind %ld", name);
    EXPECT_EQ("unix.bind_in_use", nx_unix_bind(UNIX_PATH, NEXUS_UNIX_STREAM), -EADDRINUSE);
    EXPECT_EQ("unix.listen_bad_name", nx_unix_listen(999, 1), -EBADF);
    EXPECT_EQ("unix.listen_negative_name", nx_unix_listen(-1, 1), -EBADF);
    EXPECT_EQ("unix.accept_not_listening", nx_unix_accept(name, &c), -EINVAL);
    EXPECT_EQ("unix.connect_unbound", nx_unix_connect("/run/nobody.sock", NEXUS_UNIX_STREAM, &c, -1), -ENOENT);
    EXPECT_EQ("unix.connect_from_not_own_name", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &c, 999), -EBADF);
    EXPECT_EQ("unix.connect_not_listening", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &c, -1), -ECONNREFUSED);
    EXPECT_EQ("unix.listen", nx_unix_listen(name, 1), 0);
    EXPECT_EQ("unix.connect_other_type", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_DGRAM, &c, -1), -EPROTOTYPE);
    EXPECT_EQ("unix.connect_bad_out", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, (void *)KERNEL_ADDR, -1), -EFAULT);
    EXPECT_EQ("unix.connect_readonly_out", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, (void *)(uintptr_t)&mode_unix_args, -1), -EFAULT);
    EXPECT_EQ("unix.bad_out_left_nothing", nx_unix_accept(name, &c), -EAGAIN);
    struct nexus_unix_conn mine, theirs;
    long end0 = nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &mine, -1);
    EXPECT_EQ("unix.backlog_full", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &c, -1), -EAGAIN);
    EXPECT_EQ("unix.accept_bad_out", nx_unix_accept(name, NULL), -EFAULT);
    long end1 = nx_unix_accept(name, &theirs);
    check("unix.connect_to_itself", end0 >= 0 && end1 >= 0 && mine.va != theirs.va && mine.end == 0 && theirs.end == 1 &&
                                        !strcmp(mine.peer_path, UNIX_PATH) && theirs.peer_path[0] == '\0',
          "ends %ld/%ld at %#lx/%#lx", end0, end1, (unsigned long)mine.va, (unsigned long)theirs.va);
    if (end0 >= 0 && end1 >= 0) {
        struct unix_lane_writer w;
        struct unix_lane_reader r, r0;
        struct unix_lane_writer w1;
        unix_lanes(&mine, &w, &r0);
        unix_lanes(&theirs, &w1, &r);
        check("unix.lanes_shared", unix_send(&w, unix_hello, &mine) && unix_got(&r, unix_hello), "not across");
        check("unix.bus_counts_connection", unix_bus("connections") == 1, "/Bus/unix/connections %ld",
              unix_bus("connections"));
    }
    EXPECT_EQ("unix.close_bad_kind", nx_unix_close(7, 0), -EBADF);
    EXPECT_EQ("unix.close_bad_id", nx_unix_close(NEXUS_UNIX_CONN, 12345), -EBADF);
    EXPECT_EQ("unix.close_negative_id", nx_unix_close(NEXUS_UNIX_CONN, -3), -EBADF);
    EXPECT_EQ("unix.close_end0", nx_unix_close(NEXUS_UNIX_CONN, end0), 0);
    EXPECT_EQ("unix.close_twice", nx_unix_close(NEXUS_UNIX_CONN, end0), -EBADF);
    EXPECT_EQ("unix.close_end1", nx_unix_close(NEXUS_UNIX_CONN, end1), 0);
    /* A connection whose connecting end sent and left before the accept is still accepted: the
     * bytes, then end of file. */
    long gone = nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &mine, -1);
    struct unix_lane_writer gw;
    struct unix_lane_reader gr;
    if (gone >= 0) {
        unix_lanes(&mine, &gw, &gr);
        unix_send(&gw, unix_hello, &mine);
    }
    EXPECT_EQ("unix.close_before_accept", nx_unix_close(NEXUS_UNIX_CONN, gone), 0);
    long late = nx_unix_accept(name, &theirs);
    int got_it = 0, at_end = 0;
    if (late >= 0) {
        unix_lanes(&theirs, &gw, &gr);
        got_it = unix_got(&gr, unix_hello);
        at_end = unix_lane_at_end(&gr);
    }
    check("unix.accepted_after_connector_left", late >= 0 && theirs.peer_doorbell == NEXUS_UNIX_NO_PEER && got_it && at_end,
          "accept %ld, peer doorbell %u, message %d, end %d", late, theirs.peer_doorbell, got_it, at_end);
    if (late >= 0)
        nx_unix_close(NEXUS_UNIX_CONN, late);
    EXPECT_EQ("unix.close_name", nx_unix_close(NEXUS_UNIX_NAME, name), 0);
    EXPECT_EQ("unix.close_name_twice", nx_unix_close(NEXUS_UNIX_NAME, name), -EBADF);
    EXPECT_EQ("unix.connect_after_close", nx_unix_connect(UNIX_PATH, NEXUS_UNIX_STREAM, &c, -1), -ENOENT);
    check("unix.bus_counts_back", unix_bus("connections") == 0 && unix_bus("names") == 1, "/Bus/unix: %ld connections, %ld names",
          unix_bus("connections"), unix_bus("names")); /* the longest path's name is still bound */
    long names[32];
    int held = 0;
    char path[32];
    do {
        snprintf(path, sizeof path, "/run/fill%d", held);
        names[held] = nx_unix_bind(path, NEXUS_UNIX_STREAM);
    } while (names[held] >= 0 && ++held < 32);
    check("unix.names_run_out", held > 0 && held < 32 && names[held] == -ENOSPC, "%d names, then %ld", held,
          held < 32 ? names[held] : 0);
    while (held)
        nx_unix_close(NEXUS_UNIX_NAME, names[--held]);
    nx_unix_close(NEXUS_UNIX_NAME, longest_name);
}

/* Without the unix promise: the first AF_UNIX call kills it. */
static void mode_unix_unpledged(void) {
    printf("probe: unix_bind without the unix promise; the kernel must kill this fiber\n");
    nx_unix_bind(UNIX_PATH, NEXUS_UNIX_STREAM);
}

static const struct {
    const char *mode;
    void (*run)(void);
} modes[] = {
    {"caps", mode_caps},             {"ioninfo", mode_ioninfo},
    {"kread", mode_kread},           {"kwrite", mode_kwrite},
    {"null", mode_null},             {"illegal", mode_illegal},
    {"execdata", mode_exec_data},    {"writetext", mode_write_text},
    {"spin", mode_spin},             {"misaligned", mode_misaligned},
    {"stack", mode_stack_overflow},  {"ticker", mode_ticker},
    {"syscalls", mode_syscalls},     {"sleep", mode_sleep},
    {"wait", mode_wait},             {"waiter", mode_waiter},
    {"signaller", mode_signaller},   {"iso-a", mode_iso_a},
    {"iso-b", mode_iso_b},           {"fpwrite", mode_fp_write},
    {"fpread", mode_fp_read},        {"busfill", mode_busfill},
    {"forge", mode_forge},
    {"keyblob-none", mode_keyblob_none}, {"keyblob-steal", mode_keyblob_steal},
    {"keyblob-take", mode_keyblob_take}, {"heap", mode_heap},
    {"heapnone", mode_heap_none},    {"heapshrink", mode_heap_shrink},
    {"unix-server", mode_unix_server}, {"unix-client", mode_unix_client},
    {"unix-args", mode_unix_args},   {"unix-unpledged", mode_unix_unpledged},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        printf("probe: no mode\n");
        return 100;
    }
    if (strcmp(argv[1], "bus") == 0)
        mode_bus(argv[0]);
    else if (strcmp(argv[1], "exit") == 0 && argc > 2)
        return atoi(argv[2]);
    else {
        unsigned i;
        for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
            if (strcmp(argv[1], modes[i].mode) == 0) {
                modes[i].run();
                break;
            }
        }
        if (i == sizeof modes / sizeof modes[0]) {
            printf("probe: unknown mode %s\n", argv[1]);
            return 100;
        }
    }
    return failures;
}
