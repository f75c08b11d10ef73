/*
 * posixcheck: the runtime under the sockets, what ported daemons need besides them: the malloc
 * family, the clocks, gethostbyname and h_errno, ioctl(FIONBIO), syslog. Like posixcheck.c,
 * plain POSIX, proven on the host against glibc first.
 */
#include <errno.h>
/* Before any header that includes it: only then does make's dependency file list libnexus's
 * <time.h> on Nexus (-MMD leaves out what a system header includes). */
#include <time.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <fcntl.h>
#include <unistd.h>

#include "posixcheck.h"

#define BOUND_BLOCK (64 * 1024)
#define BOUND_CAP_BLOCKS 1024 /* 64 MiB: far past a Nexus heap grant, nothing to a Linux host */
#define EPOCH_2020 1577836800 /* a realtime clock before this was never set */

/* ---- netdb: gethostbyname and h_errno ---- */

void check_gethostbyname(const char *name, const char *expected_text, const char *nxdomain_name) {
    struct in_addr expected;
    inet_pton(AF_INET, expected_text, &expected);
    struct hostent *h = gethostbyname(name);
    check("gethostbyname", h && h->h_addrtype == AF_INET && h->h_length == 4 && h->h_addr_list[0] &&
                               !memcmp(h->h_addr_list[0], &expected, 4) && h->h_name,
          "%s: %s", name, h ? "wrong address, type or length" : hstrerror(h_errno));
    h_errno = 0;
    h = gethostbyname(nxdomain_name);
    int herr = h_errno;
    check("gethostbyname_nxdomain", !h && herr == HOST_NOT_FOUND,
          "%s: %s, h_errno %d (%s)", nxdomain_name, h ? "resolved" : "failed", herr, hstrerror(herr));
    const char *text = hstrerror(HOST_NOT_FOUND);
    check("hstrerror", text && *text, "hstrerror(HOST_NOT_FOUND) is empty");
}

/* ---- ioctl(FIONBIO) ---- */

void check_ioctl_fionbio(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int on = 1, off = 0;
    char byte;
    const char *what = NULL;
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        what = "socket/bind";
    else if (ioctl(s, FIONBIO, &on) != 0)
        what = "ioctl(FIONBIO, 1)";
    else if (!(fcntl(s, F_GETFL, 0) & O_NONBLOCK))
        what = "O_NONBLOCK not set by FIONBIO";
    else if (recv(s, &byte, 1, 0) != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
        what = "recv on an empty non-blocking socket did not fail with EAGAIN";
    else if (ioctl(s, FIONBIO, &off) != 0 || (fcntl(s, F_GETFL, 0) & O_NONBLOCK))
        what = "ioctl(FIONBIO, 0) left O_NONBLOCK set";
    check("ioctl_fionbio", what == NULL, "%s (errno %d)", what ? what : "", errno);
    if (s >= 0)
        close(s);
    int e = ioctl(-1, FIONBIO, &on) == -1 ? errno : 0;
    check("ioctl_ebadf", e == EBADF, "ioctl on -1: errno %d, not EBADF", e);
}

/* ---- the malloc family ---- */

static int pattern_ok(const unsigned char *p, size_t n, unsigned char seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

static void fill(unsigned char *p, size_t n, unsigned char seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

/* Allocations of many sizes, interleaved frees, realloc keeping contents while growing and
 * shrinking, calloc zeroing. */
static void check_malloc_patterns(void) {
    static const size_t sizes[] = {1, 7, 16, 100, 1000, 4096, 5000, 20000};
    enum { N = sizeof sizes / sizeof sizes[0] };
    unsigned char *p[N];
    const char *what = NULL;
    for (size_t i = 0; i < N && !what; i++) {
        p[i] = malloc(sizes[i]);
        if (!p[i])
            what = "malloc";
        else
            fill(p[i], sizes[i], (unsigned char)i);
    }
    for (size_t i = 0; i < N && !what; i += 2) { /* free every other one, then reuse the holes */
        free(p[i]);
        p[i] = malloc(sizes[i]);
        if (!p[i])
            what = "malloc after free";
        else
            fill(p[i], sizes[i], (unsigned char)i);
    }
    for (size_t i = 0; i < N && !what; i++)
        if (!pattern_ok(p[i], sizes[i], (unsigned char)i))
            what = "a block changed under another's use";
    unsigned char *r = what ? NULL : realloc(p[3], 30000);
    if (!what && (!r || !pattern_ok(r, sizes[3], 3)))
        what = "realloc growing lost the contents";
    else if (!what) {
        p[3] = r;
        r = realloc(p[3], 10);
        if (!r || !pattern_ok(r, 10, 3))
            what = "realloc shrinking lost the contents";
        else
            p[3] = r;
    }
    for (size_t i = 0; i < N; i++)
        free(what ? NULL : p[i]);
    check("malloc_realloc_free", what == NULL, "%s", what ? what : "");

    unsigned char *z = calloc(1000, 4);
    int zero = z != NULL;
    for (size_t i = 0; z && i < 4000; i++)
        zero &= z[i] == 0;
    free(z);
    check("calloc_zeroed", zero, "calloc(1000, 4) %s", z ? "not zeroed" : "failed");
    free(NULL); /* must be harmless */
}

/* Past any heap: NULL with ENOMEM, never a fault. */
static void check_malloc_huge(void) {
    volatile size_t huge = SIZE_MAX / 2; /* volatile: the compiler would refuse the constant */
    errno = 0;
    void *p = malloc(huge);
    int e = errno;
    check("malloc_huge_enomem", p == NULL && e == ENOMEM, "malloc(SIZE_MAX/2) gave %p, errno %d", p, e);
    free(p);
    errno = 0;
    p = calloc(huge / 4, 16); /* the product overflows */
    e = errno;
    check("calloc_overflow_enomem", p == NULL && e == ENOMEM, "calloc overflow gave %p, errno %d", p, e);
    free(p);
}

/* Fills the heap in 64 KiB blocks up to 64 MiB. A bounded heap (Nexus: the manifest's heap
 * grant) must refuse with ENOMEM and work again once the blocks are freed; an unbounded one (a
 * Linux host) just reaches the cap. The note says which, for the harness. */
static void check_malloc_bound(void) {
    static void *blocks[BOUND_CAP_BLOCKS];
    size_t n = 0;
    int e = 0;
    while (n < BOUND_CAP_BLOCKS) {
        errno = 0;
        blocks[n] = malloc(BOUND_BLOCK);
        if (!blocks[n]) {
            e = errno;
            break;
        }
        memset(blocks[n], 0xa5, BOUND_BLOCK); /* touch every page: a lazy map must hold up */
        n++;
    }
    int bounded = n < BOUND_CAP_BLOCKS;
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    void *again = malloc(BOUND_BLOCK);
    free(again);
    char text[96];
    if (bounded)
        snprintf(text, sizeof text, "heap bound reached after %zu KiB", n * (BOUND_BLOCK / 1024));
    else
        snprintf(text, sizeof text, "no heap bound below %d MiB", BOUND_CAP_BLOCKS * (BOUND_BLOCK / 1024) / 1024);
    note(text);
    check("malloc_bound_enomem", !bounded || (e == ENOMEM && n > 0), "stopped after %zu blocks, errno %d", n, e);
    check("malloc_after_bound", again != NULL, "malloc failed after the blocks were freed");
}

void check_heap(void) {
    check_malloc_patterns();
    check_malloc_huge();
    check_malloc_bound();
}

/* ---- clocks ---- */

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

void check_time(void) {
    struct timeval tv;
    struct timespec rt;
    int ok = gettimeofday(&tv, NULL) == 0 && clock_gettime(CLOCK_REALTIME, &rt) == 0;
    time_t t = time(NULL);
    check("realtime_set", ok && tv.tv_sec > EPOCH_2020 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
          "gettimeofday: %s, %lld s", ok ? "ok" : strerror(errno), (long long)tv.tv_sec);
    check("realtime_clocks_agree", ok && rt.tv_sec - tv.tv_sec <= 1 && rt.tv_sec >= tv.tv_sec &&
                                       t >= tv.tv_sec && t - tv.tv_sec <= 1,
          "gettimeofday %lld, clock_gettime %lld, time %lld", (long long)tv.tv_sec, (long long)rt.tv_sec,
          (long long)t);
    char text[64];
    snprintf(text, sizeof text, "realtime_s %lld", (long long)tv.tv_sec);
    note(text);

    /* The monotonic clock never goes back and does advance (10 ms, bounded by a read count so a
     * stuck clock fails rather than hangs). Realtime, derived from it, never goes back either. */
    struct timespec first, prev, now;
    struct timeval tv_prev = tv, tv_now;
    int mono_ok = clock_gettime(CLOCK_MONOTONIC, &first) == 0, backwards = 0;
    prev = first;
    long reads = 0;
    while (mono_ok && ns_of(&prev) - ns_of(&first) < 10000000 && reads++ < 50000000) {
        mono_ok = clock_gettime(CLOCK_MONOTONIC, &now) == 0 && gettimeofday(&tv_now, NULL) == 0;
        backwards |= ns_of(&now) < ns_of(&prev) ||
                     tv_now.tv_sec * 1000000 + tv_now.tv_usec < tv_prev.tv_sec * 1000000 + tv_prev.tv_usec;
        prev = now;
        tv_prev = tv_now;
    }
    check("monotonic_clock", mono_ok && !backwards && ns_of(&prev) - ns_of(&first) >= 10000000,
          "%s after %ld reads", !mono_ok ? strerror(errno) : backwards ? "went backwards" : "did not advance",
          reads);
    errno = 0;
    int bad = clock_gettime((clockid_t)99, &now);
    check("clock_gettime_einval", bad == -1 && errno == EINVAL, "clock 99: %d, errno %d", bad, errno);
}

/* ---- syslog ---- */

/* On Nexus the line reaches the console, where the harness looks for it; on a host it goes to
 * the syslog daemon (or nowhere). Either way the calls must return and keep errno. */
void check_syslog(void) {
    openlog("posixcheck", LOG_PID, LOG_USER);
    errno = ENOENT;
    syslog(LOG_NOTICE, "syslog check %d: %m", 42);
    int kept = errno == ENOENT;
    int old = setlogmask(LOG_UPTO(LOG_ERR));
    syslog(LOG_DEBUG, "this line is masked");
    setlogmask(old);
    closelog();
    check("syslog_keeps_errno", kept, "syslog changed errno to %d", errno);
}
