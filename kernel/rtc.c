#include "rtc.h"

#include "bus.h"
#include "kernel.h"
#include "riscv.h"
#include "timer.h"

/* Goldfish RTC registers. Reading TIME_LOW samples the clock and latches the upper half into
 * TIME_HIGH, so the two reads below form one consistent 64-bit value. */
#define RTC_TIME_LOW  0x00
#define RTC_TIME_HIGH 0x04

static uint64_t epoch_ns_at_tick0; /* realtime when rdtime() read 0; 0 without an RTC */

static uint32_t reg_read(uint64_t base, unsigned off) { return *(volatile uint32_t *)(base + off); }

void rtc_init(uint64_t base) {
    if (!base) {
        kprintf("  rtc: none; realtime is unknown (clock_gettime(CLOCK_REALTIME) fails)\n");
        return;
    }
    uint64_t ticks = rdtime();
    uint64_t low = reg_read(base, RTC_TIME_LOW);
    uint64_t now_ns = (uint64_t)reg_read(base, RTC_TIME_HIGH) << 32 | low;
    epoch_ns_at_tick0 = now_ns - timer_ns_from_ticks(ticks);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/boot/realtime_s", "%lu", now_ns / 1000000000ul);
    kprintf("  rtc: goldfish %#lx, boot at %lu s since the epoch (UTC)\n", base, now_ns / 1000000000ul);
}

uint64_t rtc_realtime_ns(void) {
    return epoch_ns_at_tick0 ? epoch_ns_at_tick0 + timer_ns_from_ticks(rdtime()) : 0;
}
