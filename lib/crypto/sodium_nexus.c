/*
 * The two things libsodium leaves to its host (../shared/PITFALLS.md): randomness and what to
 * do on misuse. Services link this with SODIUM_OBJS (Makefile). sodium_init() is never called:
 * the portable implementations need no set-up, and it would pull in libsodium's /dev/urandom
 * code, which a fiber does not have.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

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

void randombytes_buf(void *const buf, const size_t size) {
    for (size_t done = 0; done < size;) {
        size_t piece = size - done < NEXUS_ENTROPY_MAX ? size - done : NEXUS_ENTROPY_MAX;
        long got = nx_entropy((uint8_t *)buf + done, piece);
        if (got == -ENODEV)
            sodium_stop("randombytes_buf: no entropy (this machine has no virtio-rng device)");
        if (got < 0)
            sodium_stop("randombytes_buf: the entropy syscall failed");
        done += (size_t)got;
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
