#!/usr/bin/env python3
"""Boots Nexus with `selftest` in bootargs and turns its console into test results.

The kernel prints `TEST <name>: ok` or `TEST <name>: FAIL <detail>` per check and ends with
`SELFTEST DONE passed=N failed=M`, then leaves QEMU through the virt test device. This harness
prints `PASS qemu.<name>` / `FAIL qemu.<name>: ...` lines for tests/run.py, types one console
line when the kernel asks for it (the UART interrupt check), checks that the kernel's own verdict,
QEMU's exit status and the lines agree, and names the first failed check. The whole console log
is kept in build/test-logs/selftest.log.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import threading
import time

TEST_LINE = re.compile(r"^TEST (\S+): (ok|FAIL)(?: (.*))?$")
DONE_LINE = re.compile(r"^SELFTEST DONE passed=(\d+) failed=(\d+)$")
CONSOLE_COMMAND = "bus /Bus/boot\r"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--append", default="selftest watchdog=100")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--log", default="build/test-logs/selftest.log")
    args = ap.parse_args()

    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    cmd = shlex.split(args.qemu) + ["-append", args.append]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    timer = threading.Timer(args.timeout, proc.kill)
    timer.start()

    results, first_failure = [], None
    done, panicked, typed, monitor_answered = None, False, False, False
    last_line = ""
    with open(args.log, "w") as log:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            log.write(line + "\n")
            log.flush()
            if line.strip():
                last_line = line
            m = TEST_LINE.match(line)
            if m:
                name, verdict, detail = m.group(1), m.group(2), m.group(3) or ""
                results.append((name, verdict == "ok", detail))
                if verdict != "ok" and first_failure is None:
                    first_failure = name
                continue
            if line.startswith("SELFTEST INPUT") and not typed:
                proc.stdin.write(CONSOLE_COMMAND.encode())
                proc.stdin.flush()
                typed = True
            elif typed and line.strip() == "/Bus/boot/hart=0":
                monitor_answered = True
            elif line.startswith("PANIC"):
                panicked = True
            m = DONE_LINE.match(line)
            if m:
                done = (int(m.group(1)), int(m.group(2)))
    status = proc.wait()
    timer.cancel()
    elapsed = time.monotonic() - started

    for name, ok, detail in results:
        print(f"PASS qemu.{name}" if ok else f"FAIL qemu.{name}: {detail}")

    def verdict(name, ok, detail):
        nonlocal first_failure
        print(f"PASS qemu.{name}" if ok else f"FAIL qemu.{name}: {detail}")
        if not ok and first_failure is None:
            first_failure = name

    verdict("harness.completed", done is not None,
            f"no SELFTEST DONE line (QEMU status {status}, last line: {last_line!r})")
    verdict("harness.no_panic", not panicked, "the kernel panicked")
    verdict("harness.console_monitor_answers", monitor_answered,
            "no '/Bus/boot/hart=0' after typing a console command")
    expected_status = 0 if done and done[1] == 0 else 1
    verdict("harness.exit_status_agrees", done is not None and status == expected_status,
            f"QEMU exit status {status}, kernel reported {done}")
    if done:
        kernel_failed = sum(1 for r in results if not r[1])
        verdict("harness.counts_agree", kernel_failed >= done[1],
                f"kernel says {done[1]} failed, lines show {kernel_failed}")
    print(f"selftest: {len(results)} checks in {elapsed:.1f} s; log {args.log}", file=sys.stderr)
    if first_failure:
        print(f"selftest: first failed check: {first_failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
