"""Boots Nexus with `selftest` in bootargs and turns its console into test results.

    python3 -m tests.qemu.run_selftest --qemu "QEMU COMMAND"   (from the project root)

The kernel prints `TEST <name>: ok` or `TEST <name>: FAIL <detail>` per check and ends with
`SELFTEST DONE passed=N failed=M`, then leaves QEMU through the virt test device. This harness
prints `PASS qemu.<name>` / `FAIL qemu.<name>: ...` lines for tests/run.py, types one console
line when the kernel asks for it (the UART interrupt check), checks that the kernel's own verdict,
QEMU's exit status and the lines agree, and names the first failed check. The whole console log
is kept in build/test-logs/selftest.log.
"""
import argparse
import re
import sys
import time

from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.harness.report import Report

DONE_LINE = re.compile(r"^SELFTEST DONE passed=(\d+) failed=(\d+)$")
CONSOLE_COMMAND = "bus /Bus/boot"
MONITOR_ANSWER = "/Bus/boot/hart=0"
PROBES = ("probe", "partner")  # the fibers whose TEST lines count (kernel/selftest.c)
# What the forger (tests/qemu/probe.c, mode forge) must be seen to have written: its lines, with
# its name before them and its escape sequences and control bytes gone.
FORGER = "forger"
FORGED_LINES = ("fiber membrane#2 killed: fault scause=0xd stval=0 sepc=0x0", "TEST console.forged: ok",
                "SELFTEST DONE passed=1 failed=0", "no line end: ")


def report_console_forger(report, lines, results):
    """The forger's lines reached the console as its own, and no check took them as the kernel's."""
    report("console.forged_lines_prefixed_and_stripped",
           all(said_by(FORGER, text) in lines for text in FORGED_LINES),
           [l for l in lines if l.startswith(said_by(FORGER))])
    report("console.no_control_bytes", not any(c in l for l in lines for c in "\x1b\x07\x08\r"),
           [l for l in lines if any(c in l for c in "\x1b\x07\x08\r")])
    report("console.forged_kill_not_a_kernel_line",
           not any(l.startswith("fiber membrane#") for l in lines), "a fiber printed a kernel kill line")
    report("console.forged_check_not_counted", not any(r[0] == "console.forged" for r in results),
           "the forger's TEST line was counted")
    report("console.forged_verdict_not_taken", sum(bool(DONE_LINE.match(l)) for l in lines) <= 1,
           "more than one SELFTEST DONE line")
    half = said_by(FORGER, FORGED_LINES[-1])
    after = lines[lines.index(half) + 1] if half in lines[:-1] else ""
    report("console.kernel_starts_fresh_line", after.startswith(f"fiber {FORGER}#") and "exited with 0" in after,
           f"after the forger's half line: {after!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--append", default="selftest watchdog=100")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--log", default="build/test-logs/selftest.log")
    args = ap.parse_args()

    guest = Guest(args.qemu, log=args.log, bootargs=args.append, timeout=args.timeout)
    typed_at = None
    if guest.console.wait_for("SELFTEST INPUT", args.timeout) is not None:
        typed_at = guest.console.mark()
        guest.type_line(CONSOLE_COMMAND)
    status = guest.wait_exit()
    guest.stop()
    elapsed = time.monotonic() - guest.started
    lines = guest.console.since(0)

    report = Report("qemu")
    results = guest.console.kernel_tests(fibers=PROBES)
    for name, ok, detail in results:
        report(name, ok, detail)
    report_console_forger(report, lines, results)
    done = next(((int(m.group(1)), int(m.group(2))) for m in map(DONE_LINE.match, lines) if m), None)
    last_line = next((l for l in reversed(lines) if l.strip()), "")
    report("harness.completed", done is not None,
           f"no SELFTEST DONE line (QEMU status {status}, last line: {last_line!r})")
    report("harness.no_panic", not any(l.startswith("PANIC") for l in lines), "the kernel panicked")
    report("harness.console_monitor_answers",
           typed_at is not None and any(l.strip() == MONITOR_ANSWER for l in lines[typed_at:]),
           f"no '{MONITOR_ANSWER}' after typing a console command")
    expected_status = 0 if done and done[1] == 0 else 1
    report("harness.exit_status_agrees", done is not None and status == expected_status,
           f"QEMU exit status {status}, kernel reported {done}")
    if done:
        kernel_failed = sum(1 for r in results if not r[1])
        report("harness.counts_agree", kernel_failed >= done[1],
               f"kernel says {done[1]} failed, lines show {kernel_failed}")
    print(f"selftest: {len(results)} checks in {elapsed:.1f} s; log {args.log}", file=sys.stderr)
    if report.failed:
        print(f"selftest: first failed check: {report.failed[0]}", file=sys.stderr)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
