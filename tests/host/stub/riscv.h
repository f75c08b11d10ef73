/*
 * kernel/riscv.h's clock for host tests of driver code that polls against a deadline
 * (hal/virtio/virtio_rng.c): the test defines rdtime() as a simulated clock, so "a device that
 * never answers" ends in simulated time, at once. Placed ahead of kernel/ on the include path of
 * exactly those objects (Makefile).
 */
#ifndef NEXUS_RISCV_H
#define NEXUS_RISCV_H

#include <stdint.h>

uint64_t rdtime(void);

#endif
