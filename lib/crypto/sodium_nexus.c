/*
 * The two things libsodium leaves to its host (../shared/PITFALLS.md): randomness and what to
 * do on misuse. Services link this with SODIUM_OBJS (Makefile). sodium_init() is never called:
 * the portable implementations need no set-up, and it would pull in libsodium's /dev/urandom
 * code, which a fiber does not have.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nexus.h"
#include "sodium/randombytes.h"
#include "sodium/utils.h"

#define SODIUM_FAILURE_EXIT 134 /* as abort(): the fiber cannot go on safely */

/* A key or nonce made of anything but fresh entropy would be a silent weakness: stop instead,
 * saying why, and let the supervisor's policy decide. */
__attribute__((noreturn)) static void sodium_stop(const char *why) {
    printf("libsodium: %s; stopping this fiber\n", why);
    nx_exit(SODIUM_FAILURE_EXIT);
}

/* A busy host can stall the device past the kernel's 100 ms deadline (-EIO, the request stays
 * posted for the next call): that is slowness, not failure, so ask again for a while first. */
#define ENTROPY_RETRY_MS 5000
#define ENTROPY_RETRY_STEP_MS 20

static long entropy_draw(uint8_t *buf, size_t len) {
    long got = nx_entropy(buf, len);
    for (unsigned waited = 0; got == -EIO && waited < ENTROPY_RETRY_MS; waited += ENTROPY_RETRY_STEP_MS) {
        nx_sleep_ns(NX_MS(ENTROPY_RETRY_STEP_MS));
        got = nx_entropy(buf, len);
    }
    return got;
}

/* Drawn NEXUS_ENTROPY_MAX bytes at a time and handed out once each (a nonce per frame would
 * otherwise cost a syscall and a device round trip per frame); used bytes are wiped. */
static uint8_t pool[NEXUS_ENTROPY_MAX];
static size_t pool_left;

void randombytes_buf(void *const buf, const size_t size) {
    uint8_t *out = buf;
    for (size_t done = 0; done < size;) {
        if (pool_left == 0) {
            long got = entropy_draw(pool, sizeof pool);
            if (got == -ENODEV)
                sodium_stop("randombytes_buf: no entropy (this machine has no virtio-rng device)");
            if (got != (long)sizeof pool)
                sodium_stop("randombytes_buf: the entropy syscall failed for 5 s");
            pool_left = sizeof pool;
        }
        size_t piece = size - done < pool_left ? size - done : pool_left;
        uint8_t *from = pool + sizeof pool - pool_left;
        memcpy(out + done, from, piece);
        sodium_memzero(from, piece);
        pool_left -= piece;
        done += piece;
    }
}

uint32_t randombytes_random(void) {
    uint32_t value;
    randombytes_buf(&value, sizeof value);
    return value;
}

/* Uniform in [0, upper_bound) without modulo bias: draws below 2^32 mod upper_bound are
 * redrawn (the approach libsodium's own randombytes_uniform documents). */
uint32_t randombytes_uniform(const uint32_t upper_bound) {
    if (upper_bound < 2)
        return 0;
    uint32_t min = (uint32_t)(-upper_bound) % upper_bound, r;
    do
        r = randombytes_random();
    while (r < min);
    return r % upper_bound;
}

void sodium_misuse(void) { sodium_stop("sodium_misuse: an API was called outside its contract"); }
