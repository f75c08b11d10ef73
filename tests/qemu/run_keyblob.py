"""The key blob end to end (docs/identity.md): a key file made by build/nexus-keygen reaches the
guest through QEMU's -initrd, and the test kernel's `keyblob` manifest takes it.

    python3 -m tests.qemu.run_keyblob --qemu "QEMU COMMAND" [--keygen build/nexus-keygen]

The manifest starts `thief` (no keyblob promise: the kernel must kill it) and `taker`
(tests/qemu/probe.c, mode keyblob-take), which checks the refusals and the take from inside and
prints the blob's length and CRC-32. This harness compares those with the file, relays the
taker's TEST lines, checks the kernel's lines and /Bus/boot/keyblob before and after through the
console, and that no byte of the secret reached the console. (A boot without -initrd, where the
take is -ENOENT and /Bus says "none", is in the self-test: kernel/selftest.c.)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import zlib

from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.harness.report import Report

TAKER, THIEF = "taker", "thief"
BUS_KEY = "/Bus/boot/keyblob"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line of the test kernel, without -append")
    ap.add_argument("--keygen", default="build/nexus-keygen")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--log", default="build/test-logs/keyblob.log")
    args = ap.parse_args()
    report = Report("qemu")
    with tempfile.TemporaryDirectory() as scratch:
        key = os.path.join(scratch, "node.key")
        made = subprocess.run([args.keygen, key], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if not report("keyblob.keygen_made_a_key", made.returncode == 0, made.stdout.decode()):
            return 1
        blob = open(key, "rb").read()
        guest = Guest(f"{args.qemu} -initrd {key}", log=args.log, bootargs="manifest=keyblob",
                      timeout=args.timeout)
        try:
            ended = guest.console.wait_for(f"fiber {TAKER}#", args.timeout)
            bus_after = guest.console_bus(BUS_KEY)
        finally:
            guest.stop()
    lines = guest.console.since(0)
    report("keyblob.taker_ended", ended is not None and "exited with 0" in ended, ended or "no end line for the taker")
    for name, ok, detail in guest.console.kernel_tests(fibers=(TAKER,)):
        report(name, ok, detail)
    taken = next((m for m in map(re.compile(rf"^{re.escape(said_by(TAKER))}keyblob: (\d+) bytes crc32 ([0-9a-f]{{8}})$").match,
                                   lines) if m), None)
    want = (len(blob), f"{zlib.crc32(blob):08x}")
    report("keyblob.taker_got_the_files_bytes", taken is not None and (int(taken.group(1)), taken.group(2)) == want,
           f"taker printed {taken and taken.group(0)}, the file is {want}")
    report("keyblob.waiting_at_boot", f"{BUS_KEY}={len(blob)} bytes, waiting" in lines, "not in the end-of-boot /Bus dump")
    report("keyblob.boot_line_says_held", any(l.startswith(f"  keyblob: {len(blob)} bytes at ") for l in lines),
           "no '  keyblob: N bytes at' line")
    report("keyblob.fiber_without_promise_killed",
           any(re.match(rf"^fiber {THIEF}#\d+ killed: pledge: keyblob_take needs \"keyblob\"$", l) for l in lines),
           [l for l in lines if THIEF in l])
    report("keyblob.kernel_says_taken_once", sum(l.startswith(f"keyblob: {len(blob)} bytes taken by {TAKER}#") for l in lines) == 1,
           [l for l in lines if l.startswith("keyblob:")])
    report("keyblob.taken_on_bus_by_console", bus_after.get(BUS_KEY) == f"taken by {TAKER}", bus_after)
    secret = blob[9:41].hex()
    report("keyblob.secret_never_on_console", not any(secret[:16] in l.lower() for l in lines), "seed bytes on the console")
    report("keyblob.no_panic", not any(l.startswith("PANIC") for l in lines), "the kernel panicked")
    print(f"keyblob: log {args.log}", file=sys.stderr)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
