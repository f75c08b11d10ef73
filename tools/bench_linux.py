"""`make bench-linux`: Nexus and a stock Debian Linux guest side by side, on one QEMU line.

    python3 -m tools.bench_linux --qemu "QEMU COMMAND" --linux-kernel IMAGE --linux-initrd CPIO [--rounds N]

Both guests boot the Makefile's machine (QEMU_BASE) with `-m 256M` and QEMU's user network,
restricted to a forward of their port 80 from a loopback port; the Linux guest swaps in Debian's
riscv64 kernel with `-initrd` (tools/linux_initramfs.py: busybox udhcpc and httpd) and
`console=ttyS0 quiet`. Both serve the same bytes at /bytes/1024 and /bytes/1048576, and every
figure is taken on that path from both, one after the other, the order swapped each round, so
that drift on a shared host reaches both alike. Figures:
  - boot -> first HTTP 200 for GET /bytes/1024: wall time from QEMU's launch, median of ROUNDS
    boots of each (a try starts every 50 ms while earlier ones wait, so slirp's SYN retry
    timers are not measured);
  - wrk -t1 -c8 for 3 s, keep-alive and with `Connection: close`, GET /bytes/1024, requests/s,
    median of ROUNDS runs;
  - curl GET /bytes/1048576, MB/s (bytes over curl's total time), median of ROUNDS, after one
    transfer from each that is not counted (printed below the table).
The throughput figures are taken on the last round's guests once both idle (settle()), in
ROUNDS rounds of all three figures.
Each guest's console goes to --logdir (default build/bench-linux/).
The ratio column is how many times better Nexus does (above 1: Nexus is better; for boot the
Linux time over the Nexus time). Measures; never fails on a number, only when a guest does not
serve at all.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

from tests.harness.guest import Guest
from tests.harness.http_probe import first_success
from tests.harness.net import UserNet, loopback_url

MEMORY = "256M"
SMALL_BODY = "/bytes/1024"
BULK_BODY = "/bytes/1048576"
BOOT_LIMIT = 180.0  # seconds; the Linux guest takes a few under TCG, more on a busy host
TRY_TIMEOUT = 1.0
TRY_EVERY = 0.05
WRK_SECONDS = 3
WRK_CONNECTIONS = 8
SETTLED_CPU = 0.05  # of a core
SETTLE_LIMIT = 30.0


class System:
    """One of the two guests: how to boot it."""

    def __init__(self, name, qemu, bootargs, logdir):
        self.name = name
        self.qemu = qemu
        self.bootargs = bootargs
        self.logdir = logdir
        self.boots = 0

    def boot(self):
        """A fresh guest; its console goes to LOGDIR/NAME-BOOT.log."""
        self.boots += 1
        log = os.path.join(self.logdir, f"{self.name}-{self.boots}.log")
        return Guest(self.qemu, UserNet(tcp=[80], restrict=True), log=log, mem=MEMORY, bootargs=self.bootargs)


def linux_qemu(qemu, kernel, initrd):
    """The QEMU command line `qemu` with the Linux kernel and its initramfs instead of Nexus."""
    cmd = shlex.split(qemu)
    cmd[cmd.index("-kernel") + 1] = kernel
    return shlex.join(cmd + ["-initrd", initrd])


def first_200(guest):
    """Seconds from QEMU's launch to the first 200 for the small body, or None."""
    done = first_success(guest.http_port, SMALL_BODY, BOOT_LIMIT, TRY_TIMEOUT, TRY_EVERY, guest.alive)
    return None if done is None else done - guest.started


def wrk_rate(port, close):
    cmd = ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s"] + (["-H", "Connection: close"] if close else [])
    out = subprocess.run(cmd + [loopback_url(port, SMALL_BODY)], capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    # A run whose answers were not all 200s measured something else: no figure.
    return float(rate.group(1)) if rate and not bad else None


def cpu_seconds(pid):
    """User plus system CPU time a process has used (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(guest):
    """Waits until the guest's QEMU idles (under SETTLED_CPU of a core for a second), at most
    SETTLE_LIMIT seconds. After its first 200 the Linux guest was measured busy for seconds
    more (40 %, then 14 %, of a core), which made a figure taken at once a third of the next
    one; Nexus idles at 1-2 %."""
    start = time.monotonic()
    while time.monotonic() < start + SETTLE_LIMIT:
        before = cpu_seconds(guest.proc.pid)
        time.sleep(1.0)
        if cpu_seconds(guest.proc.pid) - before < SETTLED_CPU:
            return "idle after %.0f s" % (time.monotonic() - start)
    return "still busy after %.0f s" % SETTLE_LIMIT


def bulk_mb_s(port):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "120", "-w", "%{http_code} %{size_download} %{time_total}",
                          loopback_url(port, BULK_BODY)], capture_output=True, text=True).stdout.split()
    if len(out) != 3 or out[0] != "200" or int(out[1]) != 1 << 20:
        return None
    return int(out[1]) / float(out[2]) / 1e6


def interleaved(systems, rounds, measures):
    """{figure: {system name: [value per round]}}: each round takes every figure of
    measures ({figure: function of a system}) from each system in turn, the systems' order
    swapped every round; a None (no answer) is left out."""
    got = {figure: {s.name: [] for s in systems} for figure in measures}
    for r in range(rounds):
        for figure, measure in measures.items():
            for s in (systems if r % 2 == 0 else systems[::-1]):
                value = measure(s)
                if value is not None:
                    got[figure][s.name].append(value)
    return got


def median(values):
    return statistics.median(values) if values else None


def row(label, unit, linux, nexus, lower_is_better=False):
    def show(v):
        return "no figure" if v is None else ("%.3f" if unit == "s" else "%.1f") % v + " " + unit

    ratio = "-"
    if linux and nexus:
        ratio = "%.2f" % (linux / nexus if lower_is_better else nexus / linux)
    return label, show(linux), show(nexus), ratio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="the Makefile's QEMU_BASE (boots Nexus)")
    ap.add_argument("--linux-kernel", required=True)
    ap.add_argument("--linux-initrd", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--logdir", default="build/bench-linux")
    args = ap.parse_args()
    systems = [System("linux", linux_qemu(args.qemu, args.linux_kernel, args.linux_initrd), "console=ttyS0 quiet",
                      args.logdir),
               System("nexus", args.qemu, "", args.logdir)]

    # The boots of the last round stay up for the throughput figures.
    running = {}

    def boot_once(system):
        old = running.pop(system.name, None)
        if old:
            old.stop()
        guest = system.boot()
        seconds = first_200(guest)
        if seconds is None:
            guest.stop()
        else:
            running[system.name] = guest
        return seconds

    try:
        boots = interleaved(systems, args.rounds, {"boot": boot_once})["boot"]
        missing = [s.name for s in systems if s.name not in running]
        if missing:
            print(f"bench-linux: {' and '.join(missing)} never answered {SMALL_BODY}", file=sys.stderr)
            return 1
        settled = {name: settle(guest) for name, guest in running.items()}
        ports = {name: g.http_port for name, g in running.items()}
        # Each guest's first 1 MiB is not counted: it times QEMU translating the bulk path's code
        # for the first time as much as the transfer (Nexus: ~26 MB/s, then 35-48).
        first_bulk = {s.name: bulk_mb_s(ports[s.name]) for s in systems}
        figures = interleaved(systems, args.rounds, {
            "keep_alive": lambda s: wrk_rate(ports[s.name], close=False),
            "close": lambda s: wrk_rate(ports[s.name], close=True),
            "bulk": lambda s: bulk_mb_s(ports[s.name])})
    finally:
        for guest in running.values():
            guest.stop()

    rows = [("figure", "Linux guest", "Nexus", "Nexus better by (x)"),
            row(f"boot -> first HTTP 200, median of {args.rounds}", "s",
                median(boots["linux"]), median(boots["nexus"]), lower_is_better=True),
            row(f"wrk -t1 -c{WRK_CONNECTIONS} keep-alive, 1 KiB, median of {args.rounds} x {WRK_SECONDS} s", "req/s",
                *(median(figures["keep_alive"][n]) for n in ("linux", "nexus"))),
            row(f"wrk -t1 -c{WRK_CONNECTIONS} Connection: close, 1 KiB, median of {args.rounds} x {WRK_SECONDS} s", "req/s",
                *(median(figures["close"][n]) for n in ("linux", "nexus"))),
            row(f"bulk 1 MiB, curl, median of {args.rounds}", "MB/s",
                *(median(figures["bulk"][n]) for n in ("linux", "nexus")))]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"Nexus and Linux side by side (qemu -m {MEMORY}, user network; GET {SMALL_BODY}, {BULK_BODY})")
    for r in rows:
        print("  " + "  ".join(f"{cell:<{w}}" for cell, w in zip(r, widths)).rstrip())
    print("Before the throughput figures: " + ", ".join(f"{name} {state}" for name, state in settled.items()))
    print("Each guest's first bulk 1 MiB, not counted: " +
          ", ".join(f"{name} " + ("no figure" if mb is None else "%.1f MB/s" % mb) for name, mb in first_bulk.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
