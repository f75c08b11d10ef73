/*
 * Kernel command line (/chosen/bootargs): space-separated words, each a flag ("selftest") or
 * key=value ("watchdog=200"). Known options are a table in bootargs.c; unknown words and bad
 * values are counted and reported, never fatal. Portable C (host tests, fuzz target).
 */
#ifndef NEXUS_BOOTARGS_H
#define NEXUS_BOOTARGS_H

#include <stdint.h>

#define BOOTARGS_WATCHDOG_MS_MIN 10
#define BOOTARGS_WATCHDOG_MS_MAX 60000
#define BOOTARGS_TEXT_MAX 96
#define BOOTARGS_NAME_MAX 16

struct bootargs {
    int selftest;          /* run the in-QEMU self-tests instead of the boot manifest */
    int nettest;           /* run the network-path tests (driven from the host) */
    uint32_t watchdog_ms;  /* runaway limit; 0 = keep the kernel default */
    char app[BOOTARGS_TEXT_MAX]; /* "image,arg,arg": one more app, linked to the Membrane */
    char manifest[BOOTARGS_NAME_MAX]; /* which boot manifest (kernel/manifest.c); "" = default */
    int errors;            /* words that were unknown or had a bad value */
    char first_error[32];  /* the first such word, truncated, for the log */
};

void bootargs_parse(const char *cmdline, struct bootargs *out);

#endif
