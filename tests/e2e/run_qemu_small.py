"""Nexus on small machines: the product kernel's default manifest on `-m 8M`, and what a machine
too small for it does.

    python3 -m tests.e2e.run_qemu_small --qemu "QEMU COMMAND"   (from the project root)

  - `-m 8M` (issue 17's target): every service of the default manifest starts (none says
    `cannot start image`) and is alive once the boot's deferred ones ran, httpd serves `GET /`,
    `GET /bytes/1024` byte for byte and a 16 MiB bulk GET whole, and no fiber was killed;
  - `-m 5M`: less than that needs: the kernel still boots to its console, each service either
    runs or says on the console that it cannot start with ENOMEM (`error 12`), and no fiber was
    killed for want of memory.

docs/architecture.md ("Where RAM goes") has the table these sizes come from. Output: PASS/FAIL
lines for tests/run.py; the console logs go to --logdir.
"""
import argparse
import http.client
import os
import re
import sys
import time

from tests.e2e.http_checks import stream_body
from tests.harness.guest import Guest, report_guest_health
from tests.harness.net import UserNet
from tests.harness.report import Report

report = Report("small")

# The default manifest's services (kernel/manifest.c): started at boot or once the CPU idles.
SERVICES = ("membrane", "httpd", "uptime", "signer", "utcp", "lwf", "lwfecho", "utcpsink", "rinetd", "mosquitto")
PATTERN_PERIOD = 251  # apps/httpd/conn.h: /bytes/N's byte i is i % 251
BULK = 16 << 20
CANNOT_START = re.compile(r"(\S+): cannot start image \S+ \(error (\d+)\)")


def states(guest):
    bus = guest.bus_json()
    return {name: bus.get(f"/Bus/fibers/{name}/state") for name in SERVICES}


def all_alive(guest, limit):
    """The services' states once all are alive, or the last seen after `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        seen = states(guest)
        if all(v == "alive" for v in seen.values()) or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def bulk_whole(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", f"/bytes/{BULK}")
        r = conn.getresponse()
        return r.status == 200 and stream_body(r) == BULK
    finally:
        conn.close()


def check_8m(qemu, logdir):
    guest = Guest(qemu, UserNet(tcp=[80]), mem="8M", log=os.path.join(logdir, "8m.log"), timeout=300)
    try:
        served = guest.first_success("/", 60, 1.0) is not None
        report("8m_serves_status_page", served, "no 200 for GET / within 60 s")
        if not served:
            return
        seen = all_alive(guest, 30)
        report("8m_every_service_alive", all(v == "alive" for v in seen.values()),
               ", ".join(f"{k}: {v}" for k, v in seen.items() if v != "alive"))
        refused = [m.group(0) for m in map(CANNOT_START.search, guest.console.since(0)) if m]
        report("8m_nothing_refused", not refused, "; ".join(refused))
        status, body = guest.get("/bytes/1024", 10)
        report("8m_bytes_1024", status == 200 and body == bytes(i % PATTERN_PERIOD for i in range(1024)),
               f"status {status}, {len(body)} bytes")
        report("8m_bulk_16mib_whole", bulk_whole(guest.http_port), "GET /bytes/16MiB was not 200 with every byte")
        report_guest_health(report, guest)
    finally:
        guest.stop()


def check_too_small(qemu, logdir):
    guest = Guest(qemu, UserNet(tcp=[80]), mem="5M", log=os.path.join(logdir, "5m.log"), timeout=120)
    try:
        up = guest.console.wait_for("console: type 'help'", 60)
        report("5m_boots_to_console", up is not None, "no console prompt within 60 s")
        time.sleep(3)  # the deferred services' turn
        lines = guest.console.since(0)
        refused = {m.group(1): m.group(2) for m in map(CANNOT_START.search, lines) if m}
        report("5m_some_service_refused", bool(refused), "every service started: 5M is no longer too small")
        report("5m_refusals_are_enomem", all(code == "12" for code in refused.values()),
               ", ".join(f"{k}: error {v}" for k, v in refused.items()))
        started = {m.group(1) for m in (re.search(r"started (\w+)#\d+", l) for l in lines) if m}
        missing = [s for s in SERVICES if s not in started and s not in refused]
        report("5m_each_service_started_or_refused", not missing, f"neither started nor refused: {missing}")
        killed = [l for l in guest.console.since(0) if l.startswith("fiber ") and " killed: " in l]
        report("5m_no_fiber_killed", not killed, "; ".join(killed[:3]))
        report("5m_qemu_alive", guest.alive(), f"QEMU exited with {guest.proc.poll()}")
    finally:
        guest.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--logdir", default="build/test-logs/small")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    check_8m(args.qemu, args.logdir)
    check_too_small(args.qemu, args.logdir)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
