#!/usr/bin/env python3
"""`make bench`: prints Nexus's figures as a table. Measures; never fails on a number.

Figures so far:
  - boot to first fiber: wall time from QEMU's launch until the first U-mode fiber prints
    (the `hello` service), median of 5 boots;
  - kernel image size: loadable bytes of build/nexus.elf (text + data, services included),
    and each embedded service image;
  - NetSwitch guest instructions per received frame (demux + enqueue, rdinstret), median
    over every frame of a 3 s flood. QEMU's instret is only a guest instruction count with
    -icount, so that run uses `-icount shift=0`;
  - frames/s from the wire peer into a sink service, and the frames the switch dropped
    (ring full) meanwhile, from a run without -icount;
  - HTTP through QEMU's user network (guest port 80 forwarded to a loopback port): wall time
    from QEMU's launch to the first `200` for `GET /` (median of 5), wrk requests/s on `/`
    with one and eight connections (keep-alive), bulk MB/s of `GET /bytes/64MiB`, the RX bytes
    copied after all that, and the smallest `-m` with which Nexus still serves `GET /`.
"""
import re
import argparse
import http.client
import json
import socket
import os
import shlex
import statistics
import subprocess
import sys
import time

FIRST_FIBER_LINE = b"hello from hello"


def boot_to_first_fiber(qemu, timeout=60.0):
    start = time.monotonic()
    proc = subprocess.Popen(shlex.split(qemu) + ["-append", ""], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for line in proc.stdout:
            if FIRST_FIBER_LINE in line:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                break
        return None
    finally:
        proc.kill()
        proc.wait()


def net_bench(qemu, logdir):
    """Runs tests/qemu/run_nettest.py --bench; returns its BENCH/INSTRET figures as a dict."""
    out = subprocess.run([sys.executable, "tests/qemu/run_nettest.py", "--qemu", qemu, "--bench",
                          "--logdir", logdir], capture_output=True, text=True).stdout
    figures = {}
    for m in re.finditer(r"(\w+)=([0-9.]+)", " ".join(l for l in out.splitlines()
                                                    if l.startswith(("BENCH", "NETTEST INSTRET")))):
        figures[m.group(1)] = float(m.group(2))
    return figures


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class HttpGuest:
    """Nexus booted with its port 80 forwarded to 127.0.0.1:port."""

    def __init__(self, qemu, mem=None):
        self.port = free_port()
        cmd = shlex.split(qemu)
        i = cmd.index("-netdev")
        cmd[i + 1] = f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:80"
        if mem:
            cmd[cmd.index("-m") + 1] = mem
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd + ["-append", ""], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(self, path, timeout=5.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def first_200(self, limit=30.0):
        """Seconds from QEMU's launch to the first 200 for GET /, or None. Each try gives up
        after 50 ms: QEMU's user network accepts the host connection at once, and a SYN it
        forwards before the guest has its address is only retried after seconds."""
        while time.monotonic() - self.started < limit and self.proc.poll() is None:
            try:
                if self.get("/", timeout=0.05)[0] == 200:
                    return time.monotonic() - self.started
            except (OSError, http.client.HTTPException):
                time.sleep(0.002)
        return None

    def close(self):
        self.proc.kill()
        self.proc.wait()


def wrk_rate(port, connections, seconds=5):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (float(m.group(1)) if m else None), (int(errors.group(1)) if errors else 0)


def bulk_mb_s(port, size=64 << 20):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.monotonic()
    conn.request("GET", f"/bytes/{size}")
    r = conn.getresponse()
    got = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    conn.close()
    return got / (time.monotonic() - start) / 1e6 if got == size else None


def http_bench(qemu, boots):
    rows = []
    times = []
    for _ in range(boots):
        g = HttpGuest(qemu)
        try:
            t = g.first_200()
        finally:
            g.close()
        if t is not None:
            times.append(t)
    if times:
        rows.append(("boot to first HTTP 200 (median of %d)" % len(times), "%.3f s (min %.3f, max %.3f)" % (
            statistics.median(times), min(times), max(times))))
    g = HttpGuest(qemu)
    try:
        if g.first_200() is None:
            return rows + [("HTTP", "no answer from httpd")]
        for c in (1, 8):
            rate, bad = wrk_rate(g.port, c)
            rows.append((f"wrk -t1 -c{c} GET / (keep-alive)", "%.0f requests/s%s" % (
                rate or 0, f", {bad} non-2xx" if bad else "")))
        mb = bulk_mb_s(g.port)
        rows.append(("bulk GET /bytes/64MiB", "%.1f MB/s" % mb if mb else "transfer failed"))
        bus = json.loads(g.get("/bus.json", timeout=30)[1])["bus"]
        rows.append(("RX payload bytes copied after the HTTP runs", bus.get("/Bus/net/switch/rx_copied_bytes", "?")))
    finally:
        g.close()
    rows.append(("smallest -m that serves GET /", smallest_memory(qemu)))
    return rows


def smallest_memory(qemu):
    best = None
    for mem in ("64M", "32M", "16M", "12M", "10M", "8M", "6M", "5M", "4M", "3M"):
        g = HttpGuest(qemu, mem)
        try:
            ok = g.first_200(limit=15.0) is not None
        finally:
            g.close()
        if not ok:
            break
        best = mem
    return best or "none of the sizes tried"


def loadable_bytes(elf, size_tool):
    out = subprocess.run([size_tool, elf], capture_output=True, text=True, check=True).stdout
    text, data = out.splitlines()[1].split()[:2]
    return int(text) + int(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--boots", type=int, default=5)
    args = ap.parse_args()
    size_tool = "riscv64-unknown-elf-size"

    rows = []
    times = [t for t in (boot_to_first_fiber(args.qemu) for _ in range(args.boots)) if t is not None]
    if times:
        rows.append(("boot to first fiber (median of %d)" % len(times), "%.3f s" % statistics.median(times)))
        rows.append(("boot to first fiber (min .. max)", "%.3f .. %.3f s" % (min(times), max(times))))
    else:
        rows.append(("boot to first fiber", "no fiber output seen"))
    kernel = os.path.join(args.build, "nexus.elf")
    rows.append(("kernel image, loadable (services included)", "%d bytes" % loadable_bytes(kernel, size_tool)))
    for name in sorted(os.listdir(os.path.join(args.build, "user"))):
        if name.endswith(".elf") and not name.endswith(".full.elf") and "truncated" not in name:
            path = os.path.join(args.build, "user", name)
            rows.append(("  embedded image " + name, "%d bytes" % os.path.getsize(path)))

    counted = net_bench(args.qemu + " -icount shift=0", os.path.join(args.build, "bench-icount"))
    if "median" in counted:
        rows.append(("NetSwitch instructions per RX frame (median)",
                     "%d over %d frames (-icount)" % (counted["median"], counted["frames"])))
    rate = net_bench(args.qemu, os.path.join(args.build, "bench-rate"))
    if "sink_frames" in rate:
        rows.append(("frames/s, wire peer into a sink service",
                     "%.0f (%d delivered in %.1f s, %d offered)" % (
                         rate["sink_frames"] / rate["seconds"], rate["sink_frames"], rate["seconds"],
                         rate["frames_sent"])))
        rows.append(("frames dropped by the switch meanwhile", "%d" % rate["dropped_in_switch"]))
        rows.append(("RX payload bytes copied (/Bus/net/switch/rx_copied_bytes)", "%d" % rate["rx_copied_bytes"]))

    rows += http_bench(args.qemu, args.boots)

    width = max(len(r[0]) for r in rows)
    print("Nexus bench")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
