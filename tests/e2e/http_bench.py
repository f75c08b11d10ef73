#!/usr/bin/env python3
"""HTTP figures for `make bench` (tools/bench.py): Nexus booted with its port 80 forwarded to a
loopback port, measured with wrk and Python's http.client. Measures; never judges."""
import http.client
import json
import re
import shlex
import socket
import statistics
import subprocess
import time

from http_checks import stream_body
from run_qemu_e2e import free_port


def http_get(port, path, timeout):
    """(status, body) of one GET on a fresh connection to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class HttpGuest:
    """Nexus booted with its port 80 forwarded to 127.0.0.1:port."""

    def __init__(self, qemu, mem=None):
        self.port = free_port(socket.SOCK_STREAM)
        cmd = shlex.split(qemu)
        i = cmd.index("-netdev")
        cmd[i + 1] = f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:80"
        if mem:
            cmd[cmd.index("-m") + 1] = mem
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd + ["-append", ""], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(self, path, timeout=5.0):
        return http_get(self.port, path, timeout)

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
    got = stream_body(conn.getresponse())
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
