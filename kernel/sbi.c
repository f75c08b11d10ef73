/*
 * SBI calls: ecall into M-mode with the extension id in a7 and the function id in a6; the
 * firmware answers with an error in a0 and a value in a1.
 */
#include "sbi.h"

#define SBI_EXT_TIME 0x54494D45 /* "TIME" */
#define SBI_EXT_SRST 0x53525354 /* "SRST" */

struct sbiret {
    long error;
    long value;
};

static struct sbiret sbi_call(uint64_t ext, uint64_t fid, uint64_t a0, uint64_t a1) {
    register uint64_t r_a0 __asm__("a0") = a0;
    register uint64_t r_a1 __asm__("a1") = a1;
    register uint64_t r_a6 __asm__("a6") = fid;
    register uint64_t r_a7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a6), "r"(r_a7) : "memory");
    return (struct sbiret){(long)r_a0, (long)r_a1};
}

void sbi_set_timer(uint64_t stime_value) { sbi_call(SBI_EXT_TIME, 0, stime_value, 0); }

void sbi_shutdown(void) { sbi_call(SBI_EXT_SRST, 0, 0 /* shutdown */, 0 /* no reason */); }
