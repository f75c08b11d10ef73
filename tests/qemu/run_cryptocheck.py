"""libsodium and the entropy syscall inside Nexus: two boots of the test kernel.

    python3 -m tests.qemu.run_cryptocheck --qemu "QEMU COMMAND"   (from the project root)

1. The normal manifest plus `app=cryptocheck` (tests/qemu/cryptocheck.c): its known-answer
   tests, SYS_ENTROPY/getentropy/getrandom checks and per-operation guest times (INFO) are read
   from the console; the Membrane draws lwIP's numbers from virtio-rng (/Bus says so, and it
   prints no warning).
2. The same without `-device virtio-rng-device`: the kernel says it has no RNG, cryptocheck sees
   -ENODEV and ENOSYS, libsodium's randombytes_buf stops cryptocheck with its line (exit 134),
   the Membrane prints its one line about predictable ISNs and xids, and httpd still serves.

Output: PASS/FAIL lines for tests/run.py, the figures as INFO lines; console logs in --logdir.
"""
import argparse
import os
import re
import sys

from tests.harness.console import kernel_line, said_by
from tests.harness.guest import Guest
from tests.harness.net import UserNet
from tests.harness.report import Report

BOOT_TIMEOUT = 120.0
# The watchdog counts wall-clock guest time; under TCG on a loaded host one signature can stall
# for longer than the default 200 ms (as in run_qemu_containment).
WATCHDOG_MS = 1000
RNG_DEVICE = "-device virtio-rng-device"
FIGURES = re.compile(r"^INFO crypto guest us per op: (.*)$")
MEMBRANE_NO_RNG = said_by("membrane", "membrane: no virtio-rng device: TCP initial sequence numbers")
LIBSODIUM_STOP = "libsodium: randombytes_buf: no entropy"
RANDOM_SOURCE_KEY = "/Bus/net/membrane/random_source"

report = Report("crypto")


def boot(qemu, logdir, name, mode=""):
    """The test kernel (qemu names it) with cryptocheck added to the normal manifest."""
    app = "cryptocheck" + (f",{mode}" if mode else "")
    return Guest(qemu, UserNet(tcp=[80]), log=os.path.join(logdir, f"{name}.log"),
                 bootargs=f"app={app} watchdog={WATCHDOG_MS}")


def relay_cryptocheck(guest):
    """Waits for cryptocheck to finish, relays its checks; returns its lines."""
    done = guest.console.wait_for(said_by("cryptocheck", "cryptocheck: done"), BOOT_TIMEOUT)
    report("cryptocheck_finished", done is not None, "cryptocheck never reported")
    lines = guest.console.from_fiber("cryptocheck")
    report.relay(t for t in lines if t.startswith(("PASS crypto.", "FAIL crypto.")))
    return lines


def figures(lines):
    """{'sign': us, ...} from cryptocheck's INFO line; {} without one."""
    for line in lines:
        m = FIGURES.match(line)
        if m:
            words = m.group(1).split()
            return {k: int(v) for k, v in zip(words[::2], words[1::2])}
    return {}


def measure(qemu, logdir):
    """The per-operation figures of one boot with an RNG device (for make bench)."""
    with boot(qemu, logdir, "bench") as guest:
        if guest.console.wait_for(said_by("cryptocheck", "cryptocheck: done"), BOOT_TIMEOUT) is None:
            return {}
        return figures(guest.console.from_fiber("cryptocheck"))


def with_rng(qemu, logdir):
    with boot(qemu, logdir, "with-rng") as guest:
        console = guest.console
        report("kernel_found_rng", console.wait_for("  entropy: virtio-rng", BOOT_TIMEOUT) is not None,
               "no 'entropy: virtio-rng ... ready' line")
        lines = relay_cryptocheck(guest)
        ops = figures(lines)
        report("figures_printed", set(ops) == {"sign", "verify", "seal_1k", "open_1k", "x25519"}, lines[-3:])
        if ops:
            report.info("crypto guest us per op: " + ", ".join(f"{k} {v}" for k, v in ops.items()))
        listening = console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("httpd_listening", listening is not None, "no 'httpd: listening'")
        bus = guest.console_bus(RANDOM_SOURCE_KEY)
        report("membrane_random_from_rng", bus.get(RANDOM_SOURCE_KEY) == "virtio-rng", bus)
        report("membrane_no_warning", console.count(said_by("membrane", "membrane: no virtio-rng")) == 0,
               "the Membrane warned with a device present")
        killed = [l for l in console.since(0) if kernel_line(l) and l.startswith("fiber ") and " killed: " in l]
        report("with_rng_no_fiber_killed", not killed, "; ".join(killed[:3]))
        exited = console.wait_for("fiber cryptocheck#", 10)
        report("with_rng_cryptocheck_exit_0", exited is not None and exited.endswith("exited with 0"), exited)


def without_rng(qemu, logdir):
    bare = qemu.replace(RNG_DEVICE, "")
    with boot(bare, logdir, "without-rng", "nodevice") as guest:
        console = guest.console
        report("kernel_says_no_rng", console.wait_for("  entropy: no virtio-rng device", BOOT_TIMEOUT) is not None,
               "no 'entropy: no virtio-rng device' line")
        relay_cryptocheck(guest)
        stopped = console.wait_for(said_by("cryptocheck", LIBSODIUM_STOP), 30)
        report("libsodium_stops_without_entropy", stopped is not None, "no libsodium line from cryptocheck")
        exited = console.wait_for("fiber cryptocheck#", 30)
        report("libsodium_stop_exit_134", exited is not None and exited.endswith("exited with 134"), exited)
        report("keypair_never_returned",
               not any("returned without entropy" in t for t in console.from_fiber("cryptocheck")),
               "crypto_sign_keypair returned without entropy")
        listening = console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("httpd_listening_without_rng", listening is not None, "no 'httpd: listening'")
        served = guest.first_success("/", 60, 5) is not None
        report("http_served_without_rng", served, "GET / never answered 200")
        report("membrane_says_predictable_once", console.count(MEMBRANE_NO_RNG) == 1,
               [l for l in console.since(0) if l.startswith(said_by("membrane"))][:6])
        bus = guest.console_bus(RANDOM_SOURCE_KEY)
        report("membrane_random_source_on_bus", "predictable" in bus.get(RANDOM_SOURCE_KEY, ""), bus)
        killed = [l for l in console.since(0) if kernel_line(l) and l.startswith("fiber ") and " killed: " in l]
        report("without_rng_no_fiber_killed", not killed, "; ".join(killed[:3]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line (the test kernel's)")
    ap.add_argument("--logdir", default="build/test-logs/crypto")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    if RNG_DEVICE not in args.qemu:
        report("qemu_has_rng_device", False, f"the QEMU command has no '{RNG_DEVICE}'")
        return 1
    with_rng(args.qemu, args.logdir)
    without_rng(args.qemu, args.logdir)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
