#include "nexus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

long nx_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
    register long r0 __asm__("a0") = a0;
    register long r1 __asm__("a1") = a1;
    register long r2 __asm__("a2") = a2;
    register long r3 __asm__("a3") = a3;
    register long r4 __asm__("a4") = a4;
    register long r5 __asm__("a5") = a5;
    register long r7 __asm__("a7") = nr;
    __asm__ volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7) : "memory");
    return r0;
}

#define SYS0(nr) nx_syscall((nr), 0, 0, 0, 0, 0, 0)

/* The clock without a syscall: U-mode may read the time CSR (kernel/trap.c), and the clock
 * syscall's first answer also gives its frequency (a1). A server asks the time around every
 * request (lwIP's timers, httpd's timeouts): 29 of the 47 syscalls of a keep-alive GET were
 * clock reads (make bench's profile). The nanoseconds are the kernel's own conversion
 * (kernel/timer.c), so both agree for every tick. A kernel that leaves a1 alone (0) keeps every
 * call a syscall. */
#define NS_PER_S 1000000000ull
static uint64_t clock_hz, clock_ns_per_tick; /* ns_per_tick: 0 unless the frequency divides 1 s */

static uint64_t clock_syscall(uint64_t *hz) {
    register long r0 __asm__("a0") = 0;
    register long r1 __asm__("a1") = 0;
    register long r7 __asm__("a7") = SYS_CLOCK;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r7) : "memory");
    *hz = (uint64_t)r1;
    return (uint64_t)r0;
}

uint64_t nx_clock_ns(void) {
    if (!clock_hz) {
        uint64_t hz, ns = clock_syscall(&hz);
        clock_ns_per_tick = hz && NS_PER_S % hz == 0 ? NS_PER_S / hz : 0;
        clock_hz = hz;
        return ns;
    }
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    if (clock_ns_per_tick)
        return t * clock_ns_per_tick;
    return t / clock_hz * NS_PER_S + t % clock_hz * NS_PER_S / clock_hz;
}
#define SYS1(nr, a) nx_syscall((nr), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(nr, a, b) nx_syscall((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(nr, a, b, c) nx_syscall((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(nr, a, b, c, d) nx_syscall((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

void nx_exit(int code) {
    fflush(stdout);
    SYS1(SYS_EXIT, code);
    __builtin_unreachable();
}

long nx_yield(void) { return SYS0(SYS_YIELD); }
long nx_sleep_ns(uint64_t ns) { return SYS1(SYS_SLEEP, ns); }
long nx_console_write(const void *buf, size_t len) { return SYS2(SYS_CONSOLE_WRITE, buf, len); }
long nx_console_read(void *buf, size_t len) { return SYS2(SYS_CONSOLE_READ, buf, len); }
long nx_wait(int channel, uint64_t timeout_ns) { return SYS2(SYS_WAIT, channel, timeout_ns); }
long nx_signal(int channel) { return SYS1(SYS_SIGNAL, channel); }
long nx_bus_get(const char *path, char *buf, size_t len) { return SYS3(SYS_BUS_GET, path, buf, len); }
long nx_bus_set(const char *path, const char *value) { return SYS2(SYS_BUS_SET, path, value); }
long nx_bus_list(const char *prefix, char *buf, size_t len) { return SYS3(SYS_BUS_LIST, prefix, buf, len); }
long nx_identity(struct nexus_identity *out) { return SYS1(SYS_IDENTITY, out); }
long nx_ion_info(struct nexus_ion_info *out) { return SYS1(SYS_ION_INFO, out); }
long nx_ion_kick(void) { return SYS0(SYS_ION_KICK); }
long nx_wait_any(uint64_t channel_mask, uint64_t timeout_ns) { return SYS2(SYS_WAIT_ANY, channel_mask, timeout_ns); }
long nx_link_info(unsigned index, struct nexus_link_info *out) { return SYS2(SYS_LINK_INFO, index, out); }
long nx_pledge(const char *promises) { return SYS1(SYS_PLEDGE, promises); }
long nx_keyblob_take(void *buf, size_t len) { return SYS2(SYS_KEYBLOB_TAKE, buf, len); }
long nx_entropy(void *buf, size_t len) { return SYS2(SYS_ENTROPY, buf, len); }
long nx_heap(long delta) { return SYS1(SYS_HEAP, delta); }
long nx_realtime_ns(void) { return SYS0(SYS_REALTIME); }
long nx_file_read(const char *name, uint64_t offset, void *buf, size_t len) {
    return nx_syscall(SYS_FILE_READ, (long)name, (long)offset, (long)buf, (long)len, 0, 0);
}
long nx_file_write(const char *name, uint64_t offset, const void *buf, size_t len) {
    return nx_syscall(SYS_FILE_WRITE, (long)name, (long)offset, (long)buf, (long)len, 0, 0);
}
long nx_file_ctl(int op, const char *name, uint64_t arg) { return SYS3(SYS_FILE_CTL, op, name, arg); }
long nx_unix_doorbell(void) { return SYS0(SYS_UNIX_DOORBELL); }
long nx_unix_bind(const char *path, int type) { return SYS2(SYS_UNIX_BIND, path, type); }
long nx_unix_listen(long name, unsigned backlog) { return SYS2(SYS_UNIX_LISTEN, name, backlog); }
long nx_unix_connect(const char *path, int type, struct nexus_unix_conn *out, long from) {
    return SYS4(SYS_UNIX_CONNECT, path, type, out, from);
}
long nx_unix_accept(long name, struct nexus_unix_conn *out) { return SYS2(SYS_UNIX_ACCEPT, name, out); }
long nx_unix_close(int kind, long id) { return SYS2(SYS_UNIX_CLOSE, kind, id); }

/* picolibc calls this from exit() after running atexit handlers. */
void _exit(int code) {
    SYS1(SYS_EXIT, code);
    __builtin_unreachable();
}

/* picolibc's abort() raises SIGABRT through kill(getpid()), which a fiber does not have: end the
 * fiber with the shell's "killed by SIGABRT" status instead. */
void abort(void) {
    static const char msg[] = "abort() called\n";
    fflush(stdout);
    nx_console_write(msg, sizeof msg - 1);
    SYS1(SYS_EXIT, 134);
    __builtin_unreachable();
}

/* Line-buffered console stream: one syscall per line instead of per byte. */
static char line_buf[256];
static size_t line_len;

static int console_flush(FILE *f) {
    (void)f;
    if (line_len)
        nx_console_write(line_buf, line_len);
    line_len = 0;
    return 0;
}

static int console_putc(char c, FILE *f) {
    line_buf[line_len++] = c;
    if (c == '\n' || line_len == sizeof line_buf)
        console_flush(f);
    return (unsigned char)c;
}

/* stdin: typed lines, a read at a time; it waits while nothing is typed. The channel is every
 * reader's, so another program may take a wake meant for this one: look again now and then. */
#define CONSOLE_RECHECK_NS 1000000000ull
static char in_buf[NEXUS_CONSOLE_READ_MAX];
static size_t in_len, in_next;

static int console_getc(FILE *f) {
    (void)f;
    while (in_next == in_len) {
        fflush(stdout); /* a prompt shows before the program waits for its answer */
        long n = nx_console_read(in_buf, sizeof in_buf);
        if (n == 0)
            return _FDEV_EOF;
        if (n == -EAGAIN) {
            nx_wait(NEXUS_CONSOLE_CHANNEL, CONSOLE_RECHECK_NS);
            continue;
        }
        if (n < 0)
            return _FDEV_ERR;
        in_len = (size_t)n, in_next = 0;
    }
    return (unsigned char)in_buf[in_next++];
}

static FILE console_stream = FDEV_SETUP_STREAM(console_putc, NULL, console_flush, _FDEV_SETUP_WRITE);
static FILE console_input = FDEV_SETUP_STREAM(NULL, console_getc, NULL, _FDEV_SETUP_READ);
FILE *const stdout = &console_stream;
FILE *const stderr = &console_stream;
FILE *const stdin = &console_input;
