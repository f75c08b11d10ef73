/* Wall-clock time. QEMU virt has a Goldfish RTC (device tree compatible "google,goldfish-rtc",
 * 0x101000): a 64-bit count of nanoseconds since the Unix epoch, taken from the host's clock
 * (QEMU's default -rtc base=utc). The kernel reads it once at boot; afterwards realtime is that
 * reading plus the monotonic time since, so it never steps and costs no MMIO access. */
#ifndef NEXUS_RTC_H
#define NEXUS_RTC_H

#include <stdint.h>

/* Reads the RTC at `base` (0: the machine has none; realtime stays unknown). */
void rtc_init(uint64_t base);
/* Nanoseconds since the Unix epoch, or 0 when there is no RTC. */
uint64_t rtc_realtime_ns(void);

#endif
