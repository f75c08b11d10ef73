/*
 * posixcheck: signals, as one single-threaded process sees them. Handlers run for raise and
 * kill(getpid()); the mask defers them (sigpending shows them) until unblocked; SIG_IGN drops
 * them; SA_RESETHAND and the handler's own mask. SIGALRM from alarm and setitimer(ITIMER_REAL)
 * interrupts a blocked recv (EINTR), or not when the handler has SA_RESTART; poll, nanosleep
 * and pause are interrupted whatever SA_RESTART says (Linux's rule). SIGPIPE comes with EPIPE
 * from a send or write after shutdown(SHUT_WR), and not with MSG_NOSIGNAL. SIGIO comes when a
 * datagram reaches an O_ASYNC socket owned (F_SETOWN) by this process. `posixcheck
 * --die-by-sigpipe` shows SIGPIPE's default action: the harness sees the process end by it
 * (tests/e2e/run_host_posixcheck.py, run_qemu_e2e.py). Signal numbers differ
 * between glibc and picolibc: only the names are used.
 */
/* libnexus's headers first: reached through a system header (<fcntl.h> pulls in <time.h>), gcc
 * -MMD would leave them out of the dependency file. */
#include <time.h>
#include <signal.h>
#include <fcntl.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "posixcheck.h"

#define WAIT_MS 5000
#define TICK_US 50000         /* the interval timer's first expiry and period in these checks */
#define SAFETY_TIMEOUT_S 10   /* a blocked call that no signal interrupts still ends */
#define SIGNALS_MAX 65        /* above every signal number of glibc and picolibc */
#define NO_SUCH_SIGNAL 1000
#define NO_SUCH_PID 0x7ffffff0 /* above Linux's largest pid_max */

static volatile sig_atomic_t caught[SIGNALS_MAX];
static volatile sig_atomic_t blocked_in_handler;

static void count(int sig) { caught[sig]++; }

static void count_and_look_at_mask(int sig) {
    sigset_t now;
    caught[sig]++;
    blocked_in_handler = sigprocmask(SIG_BLOCK, NULL, &now) == 0 && sigismember(&now, sig);
}

static int install(int sig, void (*handler)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    caught[sig] = 0;
    return sigaction(sig, &sa, NULL);
}

static int is_pending(int sig) {
    sigset_t set;
    sigemptyset(&set);
    return sigpending(&set) == 0 && sigismember(&set, sig);
}

static int block(int how, int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return sigprocmask(how, &set, NULL);
}

/* One-shot (period 0) or periodic timer; 0 disarms. */
static int arm_timer(long first_us, long period_us) {
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = first_us / 1000000;
    t.it_value.tv_usec = first_us % 1000000;
    t.it_interval.tv_sec = period_us / 1000000;
    t.it_interval.tv_usec = period_us % 1000000;
    return setitimer(ITIMER_REAL, &t, NULL);
}

/* A UDP socket bound to 127.0.0.1 (any port); *to gets its address. -1 on failure. */
static int udp_bound(struct sockaddr_in *to) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof *to;
    *to = ipv4(INADDR_LOOPBACK, 0);
    if (s >= 0 && bind(s, (struct sockaddr *)to, sizeof *to) == 0 && getsockname(s, (struct sockaddr *)to, &len) == 0)
        return s;
    if (s >= 0)
        close(s);
    return -1;
}

static void check_handlers(void) {
    int r = install(SIGUSR1, count_and_look_at_mask, 0) == 0 ? raise(SIGUSR1) : -1;
    check("signal_raise_runs_handler", r == 0 && caught[SIGUSR1] == 1 && blocked_in_handler,
          "raise: %d, handler ran %d times, signal blocked inside: %d", r, caught[SIGUSR1], blocked_in_handler);
    r = install(SIGUSR2, count, 0) == 0 ? kill(getpid(), SIGUSR2) : -1;
    int probe = kill(getpid(), 0);
    check("signal_kill_self", r == 0 && caught[SIGUSR2] == 1 && probe == 0,
          "kill(getpid(), SIGUSR2): %d, handler ran %d times; kill(getpid(), 0): %d", r, caught[SIGUSR2], probe);

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count;
    int bad_sig = kill(getpid(), NO_SUCH_SIGNAL) == -1 && errno == EINVAL;
    int bad_pid = kill(NO_SUCH_PID, SIGUSR1) == -1 && errno == ESRCH;
    int bad_kill = sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL;
    check("signal_errors", bad_sig && bad_pid && bad_kill,
          "EINVAL for signal %d: %d, ESRCH for pid %d: %d, EINVAL for a SIGKILL handler: %d", NO_SUCH_SIGNAL, bad_sig,
          NO_SUCH_PID, bad_pid, bad_kill);

    install(SIGUSR1, count, 0);
    int deferred = block(SIG_BLOCK, SIGUSR1) == 0 && raise(SIGUSR1) == 0 && caught[SIGUSR1] == 0 && is_pending(SIGUSR1);
    int ran = block(SIG_UNBLOCK, SIGUSR1) == 0 && caught[SIGUSR1] == 1 && !is_pending(SIGUSR1);
    check("signal_mask_defers", deferred && ran, "blocked: pending and not run %d; unblocked: ran once %d", deferred, ran);

    void (*previous)(int) = signal(SIGUSR1, SIG_IGN);
    int ignored = previous == count && raise(SIGUSR1) == 0 && caught[SIGUSR1] == 1 && !is_pending(SIGUSR1);
    memset(&old, 0, sizeof old);
    ignored = ignored && sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
    check("signal_ign", ignored, "signal() gave back the old handler, raise was dropped, sigaction reads SIG_IGN: %d",
          ignored);

    install(SIGUSR2, count, SA_RESETHAND);
    raise(SIGUSR2);
    memset(&old, 0, sizeof old);
    int reset = caught[SIGUSR2] == 1 && sigaction(SIGUSR2, NULL, &old) == 0 && old.sa_handler == SIG_DFL;
    check("signal_sa_resethand", reset, "handler ran %d times, then the action is SIG_DFL: %d", caught[SIGUSR2], reset);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

/* For the SA_RESTART check: the second expiry sends the datagram the blocked recv waits for. */
static int restart_sender = -1;
static struct sockaddr_in restart_to;

static void count_then_send(int sig) {
    if (++caught[sig] == 2)
        sendto(restart_sender, "r", 1, 0, (struct sockaddr *)&restart_to, sizeof restart_to);
}

static void check_alarm(void) {
    struct sockaddr_in to;
    int u = udp_bound(&to);
    char byte = 0;
    struct timeval safety = {SAFETY_TIMEOUT_S, 0};
    install(SIGALRM, count, 0);
    ssize_t n = -1;
    int e = 0;
    if (u >= 0 && setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &safety, sizeof safety) == 0) {
        alarm(1);
        n = recv(u, &byte, 1, 0);
        e = errno;
    }
    check("alarm_interrupts_recv", n == -1 && e == EINTR && caught[SIGALRM] == 1,
          "recv: %ld, errno %d (EINTR %d), handler ran %d times", (long)n, e, EINTR, caught[SIGALRM]);

    alarm(10);
    unsigned left = alarm(0);
    check("alarm_returns_left", left == 10 || left == 9, "alarm(0) after alarm(10) said %u", left);

    int v = udp_bound(&restart_to);
    restart_sender = socket(AF_INET, SOCK_DGRAM, 0);
    install(SIGALRM, count_then_send, SA_RESTART);
    n = -1;
    if (v >= 0 && restart_sender >= 0 && arm_timer(TICK_US, TICK_US) == 0) {
        n = recv(v, &byte, 1, 0);
        e = errno;
    }
    arm_timer(0, 0);
    check("sa_restart_recv", n == 1 && byte == 'r' && caught[SIGALRM] >= 2,
          "recv across SA_RESTART handlers: %ld, errno %d, handler ran %d times", (long)n, e, caught[SIGALRM]);
    close(restart_sender);
    if (v >= 0)
        close(v);

    install(SIGALRM, count, SA_RESTART);
    struct pollfd p = {.fd = u, .events = POLLIN, .revents = 0};
    int r = arm_timer(TICK_US, 0) == 0 ? poll(&p, 1, SAFETY_TIMEOUT_S * 1000) : 0;
    e = errno;
    check("poll_eintr_despite_sa_restart", r == -1 && e == EINTR && caught[SIGALRM] == 1,
          "poll: %d, errno %d, handler ran %d times", r, e, caught[SIGALRM]);

    struct timespec req = {SAFETY_TIMEOUT_S, 0}, rem = {0, 0};
    caught[SIGALRM] = 0;
    r = arm_timer(TICK_US, 0) == 0 ? nanosleep(&req, &rem) : 0;
    e = errno;
    check("nanosleep_eintr_rem", r == -1 && e == EINTR && caught[SIGALRM] == 1 && rem.tv_sec < SAFETY_TIMEOUT_S &&
          (rem.tv_sec > 0 || rem.tv_nsec > 0), "nanosleep: %d, errno %d, %ld.%09ld s left, handler ran %d times", r, e,
          (long)rem.tv_sec, rem.tv_nsec, caught[SIGALRM]);

    caught[SIGALRM] = 0;
    r = arm_timer(TICK_US, 0) == 0 ? pause() : 0;
    e = errno;
    check("pause_eintr", r == -1 && e == EINTR && caught[SIGALRM] == 1, "pause: %d, errno %d, handler ran %d times", r,
          e, caught[SIGALRM]);

    /* Blocked, the expiry waits: a sleep runs its length, and unblocking runs the handler. */
    caught[SIGALRM] = 0;
    struct timespec nap = {0, 4 * TICK_US * 1000L};
    struct itimerval t;
    int deferred = block(SIG_BLOCK, SIGALRM) == 0 && arm_timer(TICK_US, 0) == 0 && nanosleep(&nap, NULL) == 0 &&
                   caught[SIGALRM] == 0 && is_pending(SIGALRM) && getitimer(ITIMER_REAL, &t) == 0 &&
                   t.it_value.tv_sec == 0 && t.it_value.tv_usec == 0;
    int ran = block(SIG_UNBLOCK, SIGALRM) == 0 && caught[SIGALRM] == 1;
    check("setitimer_masked_then_delivered", deferred && ran,
          "blocked: slept through, pending, timer spent %d; unblocked: ran once %d", deferred, ran);

    struct itimerval bad = {{0, 0}, {0, 1000000}};
    r = setitimer(ITIMER_REAL, &bad, NULL);
    e = errno;
    check("setitimer_einval", r == -1 && e == EINVAL, "tv_usec 1000000: %d, errno %d", r, e);
    signal(SIGALRM, SIG_DFL);
    if (u >= 0)
        close(u);
}

static void check_sigpipe(void) {
    int fds[3];
    install(SIGPIPE, count, 0);
    int ok = tcp_pair(fds) && shutdown(fds[1], SHUT_WR) == 0;
    ssize_t s = ok ? send(fds[1], "x", 1, 0) : 0;
    int e = errno;
    check("sigpipe_handler_and_epipe", s == -1 && e == EPIPE && caught[SIGPIPE] == 1,
          "send after SHUT_WR: %ld, errno %d, SIGPIPE handler ran %d times", (long)s, e, caught[SIGPIPE]);
    ssize_t w = ok ? write(fds[1], "x", 1) : 0;
    e = errno;
    check("sigpipe_on_write", w == -1 && e == EPIPE && caught[SIGPIPE] == 2,
          "write after SHUT_WR: %ld, errno %d, SIGPIPE handler ran %d times in all", (long)w, e, caught[SIGPIPE]);
    s = ok ? send(fds[1], "x", 1, MSG_NOSIGNAL) : 0;
    e = errno;
    check("sigpipe_not_with_msg_nosignal", s == -1 && e == EPIPE && caught[SIGPIPE] == 2,
          "send(MSG_NOSIGNAL): %ld, errno %d, SIGPIPE handler ran %d times in all", (long)s, e, caught[SIGPIPE]);
    signal(SIGPIPE, SIG_IGN);
    s = ok ? send(fds[1], "x", 1, 0) : 0;
    e = errno;
    check("sigpipe_ignored", s == -1 && e == EPIPE && caught[SIGPIPE] == 2, "send with SIGPIPE ignored: %ld, errno %d",
          (long)s, e);
    signal(SIGPIPE, SIG_DFL);
    close_all(fds, 3);
}

static void check_sigio(void) {
    struct sockaddr_in to;
    int u = udp_bound(&to), sender = socket(AF_INET, SOCK_DGRAM, 0);
    install(SIGIO, count, 0);
    int flags = u >= 0 ? fcntl(u, F_GETFL, 0) : -1;
    int armed = flags >= 0 && fcntl(u, F_SETOWN, getpid()) == 0 && fcntl(u, F_SETFL, flags | O_ASYNC) == 0 &&
                fcntl(u, F_GETOWN) == getpid() && (fcntl(u, F_GETFL, 0) & O_ASYNC);
    int quiet = armed && caught[SIGIO] == 0;
    if (armed && sender >= 0 && sendto(sender, "io", 2, 0, (struct sockaddr *)&to, sizeof to) == 2)
        for (int waited = 0; caught[SIGIO] == 0 && waited < WAIT_MS; waited += 10)
            usleep(10000); /* a handler ends the sleep early (EINTR) */
    char buf[4];
    ssize_t n = caught[SIGIO] ? recv(u, buf, sizeof buf, MSG_DONTWAIT) : -1;
    check("sigio_on_datagram", armed && quiet && caught[SIGIO] >= 1 && n == 2,
          "F_SETOWN/O_ASYNC set and read back %d, no signal before a datagram %d, SIGIO handler ran %d times, recv %ld",
          armed, quiet, caught[SIGIO], (long)n);
    signal(SIGIO, SIG_DFL);
    if (u >= 0)
        close(u);
    if (sender >= 0)
        close(sender);
}

int die_by_sigpipe(void) {
    int fds[3];
    signal(SIGPIPE, SIG_DFL);
    if (!tcp_pair(fds) || shutdown(fds[1], SHUT_WR) != 0) {
        printf("FAIL posix.sigpipe_default_terminates: no connection to send on\n");
        return 1;
    }
    ssize_t s = send(fds[1], "x", 1, 0);
    printf("FAIL posix.sigpipe_default_terminates: send after SHUT_WR returned %ld (errno %d) and the process lives\n",
           (long)s, errno);
    return 1;
}

void check_signals(void) {
    check_handlers();
    check_alarm();
    check_sigpipe();
    check_sigio();
}
