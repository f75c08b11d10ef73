"""Runs apps/posixcheck (built for the host against glibc) against a local UDP echo server.

This proves the checks themselves: every one must pass on Linux before its failure on Nexus can
be blamed on Nexus. The echo server listens on 127.0.0.1 with a port chosen by the kernel; DNS is
checked with `localhost` -> 127.0.0.1. posixcheck's PASS/FAIL lines are relayed unchanged and
its exit status becomes ours. Builds nothing.

    python3 -m tests.e2e.run_host_posixcheck --binary build/host/posixcheck_host   (from the project root)
"""
import argparse
import os
import subprocess
import sys

from tests.harness.net import UdpEcho
from tests.harness.report import Report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/host/posixcheck_host")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    report = Report("posix")
    if not os.path.exists(args.binary):
        report("binary", False, f"{args.binary} does not exist (build it first)")
        return 1

    echo = UdpEcho()
    try:
        cmd = [args.binary, "127.0.0.1", str(echo.port), "localhost", "127.0.0.1"]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=args.timeout)
        except subprocess.TimeoutExpired as e:
            sys.stdout.write((e.stdout or b"").decode("utf-8", "replace"))
            report("timeout", False, f"posixcheck ran longer than {args.timeout:.0f} s")
            return 1
    finally:
        echo.close()

    out = proc.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    if proc.returncode == 0 and "posixcheck: done" not in out:
        report("summary", False, "exited 0 without its closing line")
        return 1
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
