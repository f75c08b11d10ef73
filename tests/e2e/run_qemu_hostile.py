"""A hostile wire: every class of malformed frame (tools/hostile.py) injected into the guest's NIC
while the host checks HTTP throughout.

    /usr/bin/python3 -m tests.e2e.run_qemu_hostile --qemu "QEMU COMMAND" [--frames N] [--rate FPS] [--pcap FILE]

(scapy is Debian's python3-scapy: /usr/bin/python3, PITFALLS.md.) Boots the product kernel with
its normal manifest. The NIC sits on a QEMU hub of its own with a relay's port; the restricted user
network (HTTP forward) sits on a second hub with the relay's other port (net.RelayedNet). The relay
passes the guest's frames and the user network's both ways and injects the hostile ones towards
the guest only, so QEMU 7.2's user network, which crashes on a lone last fragment (PITFALLS.md),
never sees one: everything it is handed must carry the guest's source MAC (no injected frame
does) and no IPv4 fragment passes.

Class after class, N/classes frames are sent at --rate frames/s (at least MIN_CLASS_S each), then
SETTLE_S of quiet. A health check (GET /bytes/64 on a fresh connection from the host, CHECK_TIMEOUT_S
to answer) starts every CHECK_EVERY_S all along; each counts for the class during which it started.
/Bus/net is read on the console (no network needed) before and after each class. Per class: PASS
only if every health check answered; INFO with frames sent, checks answered, worst latency, drops
by cause (NetSwitch and Membrane counters that moved). At the end: the kernel never panicked,
every Membrane crash recovered (HTTP answers), the packet pool is back at its baseline, the user
network saw no injected frame.
"""
import argparse
import http.client
import os
import queue
import re
import socket
import struct
import sys
import threading
import time

from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.harness.http_probe import http_get
from tests.harness.net import RelayedNet, UserNet, free_port
from tests.harness.relay import USER_NET_ADDR, Relay
from tests.harness.report import Report
from tools.hostile import CLASSES, Target, frames
from tools.wirepeer import DgramPort

GUEST_MAC = "52:54:00:12:34:56"
BOOT_TIMEOUT = 90.0
CHECK_EVERY_S = 0.5
CHECK_TIMEOUT_S = 5.0
MIN_CLASS_S = 3.0
SETTLE_S = 1.0
HEALTH_PATH, HEALTH_BYTES = "/bytes/64", 64
# The watchdog counts wall-clock guest time; on a loaded host TCG stalls a guest for longer than
# the default 200 ms (docs/testing.md, containment). A runaway still ends within a second.
WATCHDOG_MS = 1000
COUNTER_PREFIXES = ("/Bus/net/switch/drop/", "/Bus/net/switch/port/", "/Bus/net/membrane/")

report = Report("hostile")


class WireLog:
    """Every frame the relay handles, both ways, injected ones included, as a pcap (Wireshark)
    with the time the relay saw it: where a health check's handshake went missing."""

    def __init__(self, path):
        self._file = open(path, "wb")
        self._lock = threading.Lock()
        # pcap's global header: magic, version 2.4, UTC, accuracy, snaplen, Ethernet
        self._file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def write(self, frame):
        now = time.time()
        with self._lock:
            self._file.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(frame), len(frame)) + frame)

    def close(self):
        with self._lock:
            self._file.close()


class HealthChecks:
    """GET HEALTH_PATH every CHECK_EVERY_S, each on its own connection and thread, so one that
    hangs does not delay the next. .results: (start, latency or None, detail)."""

    def __init__(self, port):
        self.port = port
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self):
        while not self._stop.wait(CHECK_EVERY_S):
            t = threading.Thread(target=self._check, daemon=True)
            t.start()
            self._threads.append(t)

    def _check(self):
        start = time.monotonic()
        try:
            status, body = http_get(self.port, HEALTH_PATH, CHECK_TIMEOUT_S)
            ok, detail = status == 200 and len(body) == HEALTH_BYTES, f"status {status}, {len(body)} bytes"
        except (OSError, http.client.HTTPException) as e:
            ok, detail = False, f"{type(e).__name__}: {e}"
        latency = time.monotonic() - start
        with self._lock:
            self.results.append((start, latency if ok else None, detail))

    def between(self, t0, t1):
        with self._lock:
            return [r for r in self.results if t0 <= r[0] < t1]

    def stop(self):
        self._stop.set()
        self._ticker.join()
        for t in self._threads:
            t.join(CHECK_TIMEOUT_S + 1)


def numbers(values):
    return {k: int(v) for k, v in values.items() if v.strip().isdigit()}


def read_counters(guest):
    return numbers(guest.console_bus("/Bus/net"))


def moved(before, after):
    """Counters that moved, shortest name first: 'switch/drop/unknown_type +12'."""
    out = []
    for key, value in sorted(after.items()):
        if key.startswith(COUNTER_PREFIXES) and value != before.get(key, 0):
            out.append(f"{key[len('/Bus/net/'):]} +{value - before.get(key, 0)}")
    return ", ".join(out) or "none"


def pool_home_and_held(counters):
    """(home, held by the Membrane, total); the LWF and UTCP services' own TX buffers, held
    throughout, count as home."""
    home, lwf = counters.get("/Bus/net/pool/home"), counters.get("/Bus/net/pool/held/lwf", 0)
    utcp = counters.get("/Bus/net/pool/held/utcp", 0)
    return (home + lwf + utcp if home is not None else None), counters.get("/Bus/net/pool/held/membrane"), \
        counters.get("/Bus/net/pool/buffers")


class Prebuilt:
    """A class's frames, built in a thread up to PREBUILT ahead of the injector, so building them
    (slow for scapy's fuzz()) thins the flood as little as possible and a long run does not hold
    all of them (giants) in memory."""

    PREBUILT = 5000

    def __init__(self, name, count, seed, target):
        self.queue = queue.Queue(self.PREBUILT)
        self.count = count
        self._thread = threading.Thread(target=self._build, args=(name, count, seed, target), daemon=True)
        self._thread.start()

    def _build(self, name, count, seed, target):
        for frame in frames(name, count, seed, target):
            self.queue.put(frame)

    def wait_ready(self):
        while not self.queue.full() and self._thread.is_alive():
            time.sleep(0.05)

    def __iter__(self):
        for _ in range(self.count):
            yield self.queue.get()


def inject_class(relay, batch, rate):
    """Sends the frames at `rate` per second at most, taking at least MIN_CLASS_S."""
    pace = max(min(rate, batch.count / MIN_CLASS_S), 1)
    start = time.monotonic()
    for sent, frame in enumerate(batch, 1):
        relay.inject(frame)
        ahead = start + sent / pace - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    return batch.count


def run_classes(guest, relay, args, target):
    """Injects class after class; returns (name, frames, window start, window end, counters that
    moved) for each."""
    per_class = max(1, args.frames // len(CLASSES))
    windows = []
    for name in CLASSES:
        if not re.search(args.classes, name):
            continue
        batch = Prebuilt(name, per_class, args.seed, target)
        batch.wait_ready()
        before = read_counters(guest)
        t0 = time.monotonic()
        sent = inject_class(relay, batch, args.rate)
        time.sleep(SETTLE_S)
        t1 = time.monotonic()
        windows.append((name, sent, t0, t1, moved(before, read_counters(guest))))
        # A long run judges at the end; this says on stderr how far it got (and how fast).
        print(f"hostile: {name}: {sent} frames injected in {t1 - t0:.1f} s", file=sys.stderr, flush=True)
    return windows


def judge_classes(windows, health):
    """Per class, once every health check has ended: PASS only if all that started in its
    window answered."""
    total_frames = total_checks = total_answered = 0
    worst_overall = 0.0
    for name, sent, t0, t1, counters in windows:
        checks = health.between(t0, t1)
        answered = [r for r in checks if r[1] is not None]
        worst = max((r[1] for r in answered), default=0.0)
        worst_overall = max(worst_overall, worst)
        total_frames += sent
        total_checks += len(checks)
        total_answered += len(answered)
        failed = [r[2] for r in checks if r[1] is None]
        report.info(f"hostile: {name}: {sent} frames in {t1 - t0:.1f} s, health {len(answered)}/{len(checks)}, "
                    f"worst {worst * 1000:.0f} ms; counters moved: {counters}")
        report(f"class_{name}_every_check_answered", checks and not failed,
               f"{len(answered)} of {len(checks)} answered; first failure: {failed[0] if failed else 'no checks ran'}")
    report.info(f"hostile: total {total_frames} frames, health {total_answered}/{total_checks}, "
                f"worst {worst_overall * 1000:.0f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus.elf")
    ap.add_argument("--logdir", default="build/test-logs/hostile")
    ap.add_argument("--frames", type=int, default=30000, help="frames in all, shared among the classes")
    ap.add_argument("--rate", type=float, default=1000.0, help="frames per second")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--classes", default="", help="only the classes whose name matches this regex")
    ap.add_argument("--pcap", help="write every frame the relay passes or injects to this pcap")
    args = ap.parse_args()

    guest_side = DgramPort(0, free_port(socket.SOCK_DGRAM))
    user_side = DgramPort(0, free_port(socket.SOCK_DGRAM))
    wire_log = WireLog(args.pcap) if args.pcap else None
    relay = Relay(guest_side, user_side, GUEST_MAC, wire_log)
    net = RelayedNet(UserNet(tcp=[80], restrict=True), guest_side, user_side)
    guest = Guest(args.qemu, net, kernel=args.kernel, mac=GUEST_MAC, bootargs=f"watchdog={WATCHDOG_MS}",
                  log=os.path.join(args.logdir, "console.log"))
    health = None
    try:
        listening = guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("boot_httpd_listening", listening is not None, "no 'httpd: listening' on the console")
        if listening is None:
            return report.exit_status()
        served = guest.first_success(HEALTH_PATH, 30, 3.0) is not None
        report("http_through_relay", served, "no answer to GET /bytes/64 through the relay")
        if not served:
            return report.exit_status()
        baseline = read_counters(guest)
        home0, held0, total = pool_home_and_held(baseline)
        report("pool_baseline_read", None not in (home0, held0, total), f"home={home0} held={held0} of {total}")
        address = guest.console_bus("/Bus/net/ipv4/addr").get("/Bus/net/ipv4/addr", "10.0.2.15")
        target = Target(GUEST_MAC, address)

        pinned = guest.console_bus("/Bus/net/ipv4/arp_pinned").get("/Bus/net/ipv4/arp_pinned", "")
        report("user_network_arp_pinned", pinned.startswith(USER_NET_ADDR + "="),
               f"/Bus/net/ipv4/arp_pinned is {pinned!r}, not {USER_NET_ADDR}'s (lwip/arp_pins.h)")

        health = HealthChecks(guest.http_port)
        asked_before = relay.asked_for_user_network
        windows = run_classes(guest, relay, args, target)
        health.stop()
        judge_classes(windows, health)
        # Without the pin, the SYN flood's made-up neighbours recycle its entry: the guest asks
        # for it again and again, and a client's SYN-ACK waits or is lost (lwip/arp_pins.h).
        asked = relay.asked_for_user_network - asked_before
        report("user_network_arp_entry_kept", asked == 0,
               f"the guest asked who has {USER_NET_ADDR} {asked} times during the flood")

        report("kernel_never_faulted", guest.alive() and guest.console.count("PANIC") == 0,
               "QEMU exited or the kernel panicked")
        restarts = guest.console_bus("/Bus/fibers/membrane/restarts").get("/Bus/fibers/membrane/restarts", "?")
        kills = guest.console.count("fiber membrane#")
        recovered = guest.first_success(HEALTH_PATH, 20, 3.0) is not None
        report.info(f"hostile: Membrane restarts {restarts}, kills on the console {kills}")
        report("answers_after_the_flood", recovered, f"no answer after the flood (Membrane restarts {restarts})")
        time.sleep(2.0)  # let lwIP's reassembly and TCP timers hand back what they hold
        home1, held1, _ = pool_home_and_held(read_counters(guest))
        report("pool_back_to_baseline", None not in (home1, held1) and home1 + held1 == home0 + held0 == total,
               f"home {home0} -> {home1}, held by the Membrane {held0} -> {held1}, of {total}")
        report.info(f"hostile: relay passed {relay.to_user} frames to the user network, {relay.to_guest} to the guest; "
                    f"kept back {relay.fragments_held} fragments the guest sent")
        report("user_network_saw_no_injected_frame", relay.foreign_to_user == 0,
               f"{relay.foreign_to_user} frames without the guest's MAC came off the guest's hub")
    finally:
        if health is not None:
            health.stop()
        guest.stop()
        relay.stop()
        if wire_log:
            wire_log.close()
        guest_side.close()
        user_side.close()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
