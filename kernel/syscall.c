/*
 * The syscall gate: a table from number to handler and the promise it needs, in the OpenBSD
 * manner. A call outside the caller's pledge kills it. Calls on channels also need the channel's
 * promise (by class, below) and the right in the caller's CSpace (an error, not a kill).
 * Handlers get the raw argument registers and check everything: a user pointer is only ever
 * used through copy_from_user/copy_to_user, which refuse anything outside the caller's mapped
 * user window.
 */
#include "syscall.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "console.h"
#include "console_input.h"
#include "cspace.h"
#include "kernel.h"
#include "keyblob.h"
#include "filestore.h"
#include "heap.h"
#include "link.h"
#include "netswitch.h"
#include "pledge.h"
#include "profile.h"
#include "riscv.h"
#include "rtc.h"
#include "timer.h"
#include "unix.h"
#include "virtio_rng.h"
#include "nexus/syscall.h"

typedef long (*syscall_fn)(struct fiber *f, const uint64_t *a);

/* The promise each class of channel needs (nexus/syscall.h channel plan); 0 for links: a link
 * channel needs its own link's promise (link_channel_promise). */
static const struct {
    unsigned first, last;
    uint32_t promise;
} channel_classes[] = {
    {0, NEXUS_OWN_CHANNELS - 1, PROMISE_STDIO},
    {NEXUS_LINK_SERVER_CHANNEL(0), NEXUS_LINK_CLIENT_CHANNEL(NEXUS_LINKS_MAX - 1), 0},
    {NEXUS_PORT_CHANNEL(0), NEXUS_CONSOLE_CHANNEL - 1, PROMISE_NET},
    {NEXUS_CONSOLE_CHANNEL, NEXUS_CONSOLE_CHANNEL, PROMISE_STDIO},
    {NEXUS_UNIX_CHANNEL(0), NEXUS_UNIX_CHANNEL(NEXUS_UNIX_CHANNELS - 1), PROMISE_UNIX},
};
_Static_assert(NEXUS_LINK_SERVER_CHANNEL(NEXUS_LINKS_MAX) <= NEXUS_LINK_CLIENT_CHANNEL(0) &&
                   NEXUS_LINK_CLIENT_CHANNEL(NEXUS_LINKS_MAX) <= NEXUS_PORT_CHANNEL(0) &&
                   NEXUS_PORT_CHANNEL(NEXUS_ION_PORTS) <= NEXUS_CONSOLE_CHANNEL &&
                   NEXUS_CONSOLE_CHANNEL < NEXUS_UNIX_CHANNEL(0) &&
                   NEXUS_UNIX_CHANNEL(NEXUS_UNIX_CHANNELS) == NEXUS_CHANNELS,
               "the channel classes overlap");

static uint32_t channel_promise(unsigned ch) {
    for (unsigned i = 0; i < ARRAY_LEN(channel_classes); i++)
        if (ch >= channel_classes[i].first && ch <= channel_classes[i].last)
            return channel_classes[i].promise ? channel_classes[i].promise : link_channel_promise(ch);
    return PROMISE_ALL;
}

/* Kills f unless its pledge holds every promise in need. */
static void require_promises(struct fiber *f, const char *syscall, uint32_t need) {
    if ((f->pledge & need) != need)
        fiber_kill_pledge(syscall, need & ~f->pledge);
}

/* May f use channel ch (< NEXUS_CHANNELS) with `right`? Kills it outside its pledge;
 * 0 or -EPERM without the right. */
static long channel_use(struct fiber *f, const char *syscall, unsigned ch, unsigned right) {
    require_promises(f, syscall, channel_promise(ch));
    return cspace_rights(&f->caps, ch) & right ? 0 : -EPERM;
}

/* A wait's timeout (ns, or NEXUS_WAIT_FOREVER) as a deadline in ticks. */
static uint64_t deadline_after(uint64_t timeout_ns) {
    return timeout_ns == NEXUS_WAIT_FOREVER ? UINT64_MAX : rdtime() + timer_ticks_from_ns(timeout_ns);
}

static long sys_exit(struct fiber *f, const uint64_t *a) {
    (void)f;
    fiber_exit((int)a[0]);
}

static long sys_yield(struct fiber *f, const uint64_t *a) {
    (void)f, (void)a;
    fiber_yield();
    return 0;
}

static long sys_sleep(struct fiber *f, const uint64_t *a) {
    (void)f;
    fiber_sleep_ticks(timer_ticks_from_ns(a[0]));
    return 0;
}

static long sys_console_write(struct fiber *f, const uint64_t *a) {
    char buf[256];
    uint64_t uva = a[0], len = a[1];
    if (len > NEXUS_CONSOLE_WRITE_MAX)
        return -EINVAL;
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        if (copy_from_user(f->pt, buf, uva + done, n))
            return -EFAULT;
        console_write_user(f, buf, n);
        done += n;
    }
    return (long)len;
}

static long sys_console_read(struct fiber *f, const uint64_t *a) {
    char buf[NEXUS_CONSOLE_READ_MAX];
    size_t len = a[1] < sizeof buf ? (size_t)a[1] : sizeof buf;
    long n = console_input_peek(f, buf, len);
    if (len == 0)
        return n; /* only asked whether a read would wait */
    if (n > 0 && copy_to_user(f->pt, a[0], buf, (size_t)n))
        return -EFAULT;
    if (n >= 0)
        console_input_take(f, (size_t)n);
    return n;
}

static long sys_wait(struct fiber *f, const uint64_t *a) {
    if (a[0] >= NEXUS_CHANNELS)
        return -EINVAL;
    long err = channel_use(f, "wait", (unsigned)a[0], CAP_READ);
    return err ? err : fiber_wait((int)a[0], deadline_after(a[1]));
}

static long sys_wait_any(struct fiber *f, const uint64_t *a) {
    if (a[0] == 0)
        return -EINVAL;
    for (uint64_t m = a[0]; m; m &= m - 1) {
        long err = channel_use(f, "wait_any", (unsigned)__builtin_ctzll(m), CAP_READ);
        if (err)
            return err;
    }
    return fiber_wait_any(a[0], deadline_after(a[1]));
}

static long sys_signal(struct fiber *f, const uint64_t *a) {
    if (a[0] >= NEXUS_CHANNELS)
        return -EINVAL;
    long err = channel_use(f, "signal", (unsigned)a[0], CAP_WRITE);
    if (err)
        return err;
    return channel_signal((int)a[0]);
}

static long copy_path(struct fiber *f, char *path, uint64_t uva) {
    int err = copy_str_from_user(f->pt, path, uva, BUS_PATH_MAX);
    return err == -ENAMETOOLONG ? -EINVAL : err;
}

static long sys_bus_get(struct fiber *f, const uint64_t *a) {
    char path[BUS_PATH_MAX], value[BUS_VALUE_MAX];
    long err = copy_path(f, path, a[0]);
    if (err)
        return err;
    int n = bus_get(path, value, sizeof value);
    if (n < 0)
        return n;
    size_t len = a[2] < (uint64_t)n + 1 ? a[2] : (uint64_t)n + 1;
    if (len && copy_to_user(f->pt, a[1], value, len))
        return -EFAULT;
    if (len && len <= (size_t)n && copy_to_user(f->pt, a[1] + len - 1, "", 1))
        return -EFAULT;
    return n;
}

static long sys_bus_set(struct fiber *f, const uint64_t *a) {
    char path[BUS_PATH_MAX], value[BUS_VALUE_MAX];
    long err = copy_path(f, path, a[0]);
    if (err)
        return err;
    err = copy_str_from_user(f->pt, value, a[1], BUS_VALUE_MAX);
    if (err)
        return err == -ENAMETOOLONG ? -EINVAL : err;
    return bus_set(path, value, f->id);
}

static long sys_bus_list(struct fiber *f, const uint64_t *a) {
    static char listing[NEXUS_BUS_LIST_MAX]; /* one hart, interrupts off: never shared */
    char prefix[BUS_PATH_MAX];
    if (a[2] > NEXUS_BUS_LIST_MAX)
        return -EINVAL;
    long err = copy_path(f, prefix, a[0]);
    if (err)
        return err;
    int n = bus_list(prefix, listing, a[2]);
    if (n < 0)
        return n;
    if (a[2] && copy_to_user(f->pt, a[1], listing, strlen(listing) + 1))
        return -EFAULT;
    return n;
}

static long sys_identity(struct fiber *f, const uint64_t *a) {
    struct nexus_identity id = {.id = f->id};
    memcpy(id.name, f->name, sizeof id.name);
    return copy_to_user(f->pt, a[0], &id, sizeof id);
}

/* Also returns the time CSR's frequency in a1: U-mode may read that CSR itself (trap_init), so
 * a caller that knows the frequency needs no syscall for the time (lib/rt/nexus.c). */
static long sys_clock(struct fiber *f, const uint64_t *a) {
    (void)a;
    f->tf.regs[11] = timer_hz();
    return (long)timer_ns_from_ticks(rdtime());
}

static long sys_ion_info(struct fiber *f, const uint64_t *a) {
    struct nexus_ion_info info;
    int err = netswitch_info(f, &info);
    return err ? err : copy_to_user(f->pt, a[0], &info, sizeof info);
}

static long sys_ion_kick(struct fiber *f, const uint64_t *a) {
    (void)a;
    return netswitch_kick(f);
}

/* Asking about a link takes the promise that link needs (inet for a socket link to the
 * Membrane): a fiber that gave it up is killed here, before it can find the link's pages. */
static long sys_link_info(struct fiber *f, const uint64_t *a) {
    struct nexus_link_info info;
    uint32_t promise;
    int err = link_info(f, a[0] > UINT32_MAX ? UINT32_MAX : (unsigned)a[0], &info, &promise);
    if (err)
        return err;
    require_promises(f, "link_info", promise);
    return copy_to_user(f->pt, a[1], &info, sizeof info);
}

/* Narrow only: asking for a promise not held is -EPERM and changes nothing. */
static long sys_pledge(struct fiber *f, const uint64_t *a) {
    char text[PLEDGE_TEXT_MAX];
    int err = copy_str_from_user(f->pt, text, a[0], sizeof text);
    if (err)
        return err == -ENAMETOOLONG ? -EINVAL : err;
    uint32_t want;
    if (pledge_parse(text, &want))
        return -EINVAL;
    if (want & ~f->pledge)
        return -EPERM;
    f->pledge = want;
    return 0;
}

static long sys_keyblob_take(struct fiber *f, const uint64_t *a) { return keyblob_take(f, a[0], a[1]); }

/* A device that keeps answering with nothing is broken, not slow: give up after this many
 * empty answers in one call. */
#define ENTROPY_EMPTY_ANSWERS_MAX 8

/* The device may answer short, so draw until the request is full. The bytes are wiped from the
 * kernel stack afterwards: a fiber's key material must not outlive the call here. */
static long sys_entropy(struct fiber *f, const uint64_t *a) {
    uint8_t buf[NEXUS_ENTROPY_MAX];
    uint64_t len = a[1];
    if (len > NEXUS_ENTROPY_MAX)
        return -EINVAL;
    if (!virtio_rng_present())
        return -ENODEV;
    long ret = (long)len;
    for (uint64_t done = 0, empty = 0; done < len && ret >= 0;) {
        int n = virtio_rng_read(buf + done, len - done);
        if (n < 0)
            ret = n == -EAGAIN ? -EIO : n;
        else if (n == 0 && ++empty > ENTROPY_EMPTY_ANSWERS_MAX)
            ret = -EIO;
        done += n > 0 ? (uint64_t)n : 0;
    }
    if (ret > 0 && copy_to_user(f->pt, a[0], buf, len))
        ret = -EFAULT;
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory"); /* keep the wipe of a dead buffer */
    return ret;
}

static long sys_heap(struct fiber *f, const uint64_t *a) { return heap_resize(f, (int64_t)a[0]); }

static long sys_realtime(struct fiber *f, const uint64_t *a) {
    (void)f, (void)a;
    uint64_t ns = rtc_realtime_ns();
    return ns ? (long)ns : -ENODEV;
}

/* AF_UNIX (kernel/unix.c): paths copied in whole (-ENAMETOOLONG past sun_path's 108 bytes), the
 * output checked writable before anything is made, so a bad pointer leaves nothing behind. */
static long copy_unix_path(struct fiber *f, char *path, uint64_t uva) {
    return copy_str_from_user(f->pt, path, uva, NEXUS_UNIX_PATH_MAX + 1);
}

static long sys_unix_doorbell(struct fiber *f, const uint64_t *a) {
    (void)a;
    return unix_doorbell(f);
}

static long sys_unix_bind(struct fiber *f, const uint64_t *a) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    long err = copy_unix_path(f, path, a[0]);
    return err ? err : unix_bind(f, path, a[1] > UINT32_MAX ? 0 : (unsigned)a[1]);
}

static long sys_unix_listen(struct fiber *f, const uint64_t *a) {
    return unix_listen(f, (long)a[0], a[1] > UINT32_MAX ? UINT32_MAX : (unsigned)a[1]);
}

/* Hands out the description of the end just made (or passes its error on). out was checked
 * writable before it was made, so the copy cannot fail; if it did, the end is closed again. */
static long unix_conn_out(struct fiber *f, uint64_t out_uva, long made, const struct nexus_unix_conn *c) {
    if (made < 0)
        return made;
    if (copy_to_user(f->pt, out_uva, c, sizeof *c)) {
        unix_close(f, NEXUS_UNIX_CONN, made);
        return -EFAULT;
    }
    return made;
}

static long sys_unix_connect(struct fiber *f, const uint64_t *a) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    struct nexus_unix_conn c = {0};
    long err = copy_unix_path(f, path, a[0]);
    if (!err)
        err = copy_to_user(f->pt, a[2], &c, sizeof c);
    if (err)
        return err;
    return unix_conn_out(f, a[2], unix_connect(f, path, a[1] > UINT32_MAX ? 0 : (unsigned)a[1], (long)a[3], &c), &c);
}

static long sys_unix_accept(struct fiber *f, const uint64_t *a) {
    struct nexus_unix_conn c = {0};
    long err = copy_to_user(f->pt, a[1], &c, sizeof c);
    return err ? err : unix_conn_out(f, a[1], unix_accept(f, (long)a[0], &c), &c);
}

static long sys_unix_close(struct fiber *f, const uint64_t *a) { return unix_close(f, (long)a[0], (long)a[1]); }

/* exit and pledge need no promise: a fiber can always end or give up more. The channel calls
 * need the channel's promise (channel_use), link_info the link's. entropy is stdio, as
 * OpenBSD's getentropy: every program may need randomness. */
static const struct {
    const char *name;
    syscall_fn fn;
    uint32_t promise;
} syscall_table[SYS_COUNT] = {
    [SYS_EXIT] = {"exit", sys_exit, 0},
    [SYS_YIELD] = {"yield", sys_yield, PROMISE_STDIO},
    [SYS_SLEEP] = {"sleep", sys_sleep, PROMISE_STDIO},
    [SYS_CONSOLE_WRITE] = {"console_write", sys_console_write, PROMISE_STDIO},
    [SYS_WAIT] = {"wait", sys_wait, 0},
    [SYS_SIGNAL] = {"signal", sys_signal, 0},
    [SYS_BUS_GET] = {"bus_get", sys_bus_get, PROMISE_RBUS},
    [SYS_BUS_SET] = {"bus_set", sys_bus_set, PROMISE_WBUS},
    [SYS_BUS_LIST] = {"bus_list", sys_bus_list, PROMISE_RBUS},
    [SYS_IDENTITY] = {"identity", sys_identity, PROMISE_STDIO},
    [SYS_CLOCK] = {"clock", sys_clock, PROMISE_STDIO},
    [SYS_ION_INFO] = {"ion_info", sys_ion_info, PROMISE_NET},
    [SYS_ION_KICK] = {"ion_kick", sys_ion_kick, PROMISE_NET},
    [SYS_WAIT_ANY] = {"wait_any", sys_wait_any, 0},
    [SYS_LINK_INFO] = {"link_info", sys_link_info, 0},
    [SYS_PLEDGE] = {"pledge", sys_pledge, 0},
    [SYS_KEYBLOB_TAKE] = {"keyblob_take", sys_keyblob_take, PROMISE_KEYBLOB},
    [SYS_ENTROPY] = {"entropy", sys_entropy, PROMISE_STDIO},
    [SYS_HEAP] = {"heap", sys_heap, PROMISE_STDIO},
    [SYS_REALTIME] = {"realtime", sys_realtime, PROMISE_STDIO},
    [SYS_FILE_READ] = {"file_read", sys_file_read, PROMISE_STDIO},
    [SYS_FILE_WRITE] = {"file_write", sys_file_write, PROMISE_STDIO},
    [SYS_FILE_CTL] = {"file_ctl", sys_file_ctl, PROMISE_STDIO},
    [SYS_UNIX_DOORBELL] = {"unix_doorbell", sys_unix_doorbell, PROMISE_UNIX},
    [SYS_UNIX_BIND] = {"unix_bind", sys_unix_bind, PROMISE_UNIX},
    [SYS_UNIX_LISTEN] = {"unix_listen", sys_unix_listen, PROMISE_UNIX},
    [SYS_UNIX_CONNECT] = {"unix_connect", sys_unix_connect, PROMISE_UNIX},
    [SYS_UNIX_ACCEPT] = {"unix_accept", sys_unix_accept, PROMISE_UNIX},
    [SYS_UNIX_CLOSE] = {"unix_close", sys_unix_close, PROMISE_UNIX},
    [SYS_CONSOLE_READ] = {"console_read", sys_console_read, PROMISE_STDIO},
};

void syscall_dispatch(struct fiber *f) {
    uint64_t nr = f->tf.regs[17];
    const uint64_t *args = &f->tf.regs[10];
    long ret = -ENOSYS;
    f->syscalls++;
    if (nr < SYS_COUNT && syscall_table[nr].fn) {
        require_promises(f, syscall_table[nr].name, syscall_table[nr].promise);
        profile_count_syscall(f, (unsigned)nr, syscall_table[nr].name);
        ret = syscall_table[nr].fn(f, args);
    }
    f->tf.regs[10] = (uint64_t)ret;
}
