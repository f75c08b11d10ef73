/* In-QEMU self-tests, run when bootargs contain "selftest" (tests/qemu/run_selftest.py). */
#ifndef NEXUS_SELFTEST_H
#define NEXUS_SELFTEST_H

struct boot_info;

/* Starts the runner as a kernel fiber; it ends QEMU through the test device with the result. */
void selftest_start(const struct boot_info *bi);
/* The network-path tests: binds a test service to every NetSwitch port and waits for the host
 * harness (tests/qemu/run_nettest.py) to drive frames through them. */
void nettest_start(void);

#endif
