/*
 * lwIP's random numbers, from the kernel's entropy syscall (virtio-rng). One syscall fills a
 * batch, so a SYN costs no trip to the kernel. A machine without an RNG device still gets a
 * working Membrane: the numbers then come from a xorshift seeded with the clock and the MAC,
 * which an attacker on the link can predict, and the console and /Bus say so.
 */
#include "random.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nexus.h"

#define BATCH_WORDS 32 /* 128 bytes: one syscall per 32 numbers */
#define SOURCE_KEY "/Bus/net/membrane/random_source"

static uint32_t batch[BATCH_WORDS];
static unsigned batch_left;
static int entropy_failed; /* the syscall failed once: the rest of this run uses the fallback */
static uint32_t fallback_state;

static uint32_t xorshift32(void) {
    uint32_t x = fallback_state ? fallback_state : (uint32_t)nx_clock_ns() | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return fallback_state = x;
}

/* Once per run, whenever the syscall first fails (at start, or later if the device stops
 * answering): from then on the numbers are predictable, and the operator is told. */
static void fall_back(long error) {
    entropy_failed = 1;
    const char *why = error == -ENODEV ? "no virtio-rng device"
                      : error < 0      ? strerror((int)-error)
                                       : "short answer";
    printf("membrane: %s: TCP initial sequence numbers and DHCP transaction ids are predictable "
           "(clock and MAC xorshift)\n", why);
    nx_bus_set(SOURCE_KEY, "clock and MAC xorshift (predictable)");
}

static void refill(void) {
    long got = nx_entropy(batch, sizeof batch);
    if (got == (long)sizeof batch)
        batch_left = BATCH_WORDS;
    else
        fall_back(got);
}

unsigned int membrane_random32(void) {
    if (!batch_left && !entropy_failed)
        refill();
    if (!batch_left)
        return xorshift32();
    uint32_t value = batch[--batch_left];
    batch[batch_left] = 0; /* a number handed out is not kept */
    return value;
}

void membrane_random_start(const uint8_t mac[6]) {
    uint64_t t = nx_clock_ns();
    fallback_state ^= (uint32_t)t ^ (uint32_t)(t >> 32) ^ (uint32_t)mac[2] << 24 ^ (uint32_t)mac[3] << 16 ^
                      (uint32_t)mac[4] << 8 ^ mac[5];
    if (!batch_left && !entropy_failed)
        refill();
    if (!entropy_failed)
        nx_bus_set(SOURCE_KEY, "virtio-rng");
}
