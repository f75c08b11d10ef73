/* Kernel-wide helpers: logging and panic. */
#ifndef NEXUS_KERNEL_H
#define NEXUS_KERNEL_H

#include <stdint.h>
#include <stdio.h>

#define kprintf printf

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* Leaves QEMU through the sifive,test0 device (0 = pass); falls back to SBI shutdown. */
__attribute__((noreturn)) void machine_exit(int status);
void machine_exit_init(uint64_t test_dev_base);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
