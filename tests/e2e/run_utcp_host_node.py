"""utcp_host_node: Nexus guests and the Linux host node (build/lwf-node) speaking UTCP on one wire.

    python3 -m tests.e2e.run_utcp_host_node --qemu "QEMU COMMAND"   (from the project root)

The wire peer's relay joins three guests' NICs (the product kernel: utcp, utcpsink on stream 9,
utcpcat from the console) and the host node's UDP port, passing UTCP frames only, through a
seeded impairment when one is set; a pcap keeps the first 128 bytes of each frame. The host
node runs with a key file from nexus-keygen, the identity it has for LWF. Guest 0 does the
streams with the host; guests 1 and 2 join for several peers at once. Checked:
  - bad arguments of utcp-cat and utcp-sink refused (exit 2, usage);
  - host -> Nexus: `lwf-node utcp-cat GUEST 9 16MiB 16MiB`: the handshake, 16 MiB each way,
    every byte back checked against the pattern and the guest sink's count and checksum equal
    to what the host sent (also on the guest's console); then four connections at once;
  - Nexus -> host: `lwf-node utcp-sink` and, on the guest's console, `run utcpcat HOST 9 ...`
    to the key file's CellID: 16 MiB each way intact (the guest's verdict), the host sink's
    count and checksum equal to the guest's; four connections at once; a connection to a
    stream the host does not serve is reset, and the host says so;
  - every guest's utcpcat to the host's sink at once (4 MiB each way each): all intact, the
    host's count and checksum each guest's;
  - four nodes streaming at once: each guest's utcpcat to the next guest's sink in a ring
    (0 -> 1 -> 2 -> 0) while the host's utcp-cat streams to guest 1 (4 MiB each way each): every
    verdict intact, each receiving sink's count and checksum its sender's; then the same ring
    with 16 MiB each way each under 5 % loss, 1 % duplication and 1 % reordering on every
    direction between every two nodes;
  - under 3 % loss with 1 % duplication and reordering each way: 16 MiB each way from the host
    intact, the duplicates counted as replay;
  - the host node dropped nothing for a forgery or format cause; the capture holds UTCP DATA
    both ways with the host's CellID; no guest fiber killed.
Figures (MB/s, both directions together) as INFO lines.
"""
import argparse
import os
import re
import socket
import sys
import time

from tests.e2e.run_lwf_host_node import HostNode, fresh_host_key, refuses
from tests.e2e.run_qemu_utcp import MIB, VERDICT, UtcpOnly, all_intact, mb_per_s, utcpcat, wait_cellid
from tests.harness.console import said_by
from tests.harness.guest import report_guest_health
from tests.harness.net import free_port
from tests.harness.report import Report
from tests.harness.wire import Wire
from tools.wirepeer import DgramPort, Impairment, PcapWriter, read_pcap

SINK_STREAM = 9
GUESTS = 3  # with the host node, four nodes: the "three QEMU nodes plus the host node"
WATCHDOG_MS = 1000  # as qemu_utcp: a loaded host stalls QEMU's vCPU
BOOT_TIMEOUT = 180
STREAM_TIMEOUT = 900  # 16 MiB each way through a TCG guest on a loaded host
LOSS = 0.03
RING_LOSS = 0.05  # the four-node ring under the highest loss
PARALLEL = 4
# Causes that mean something is wrong between honest nodes. replay (duplicates, a retransmission
# crossing its NACK), no_session (a frame of a session just closed) and rate_limited (HELLO
# retries) can come from an honest wire.
BAD_DROPS = ("malformed", "unknown_destination", "bad_cookie", "bad_signature", "aead", "out_of_window", "no_room")
HOST_VERDICT = re.compile(r"^utcp-cat cellid=(\w+) stream=(\d+) sent=(\d+) sum=(\w+) peer_received=(\d+) "
                          r"peer_sum=(\w+) received=(\d+) received_sum=(\w+) ms=(\d+) .* result=(\w+)$")
HOST_SINK = re.compile(r"^utcp-sink cellid=(\w+) stream=(\d+) received=(\d+) sum=(\w+) sent=(\d+) ms=(\d+) .* "
                       r"result=(\w+)$")
GUEST_SINK = re.compile(r"utcpsink: connection done \((\w+)\): received (\d+) sum (\w+), sent (\d+)")

report = Report("utcp_host_node")


def host_drops(lines):
    line = next((l for l in reversed(lines) if l.startswith("utcp drops ")), "")
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def sink_ends(sink, count):
    """Stops the host's sink once it said how `count` connections ended (its lines follow the
    guests' verdicts within moments); the matches of its connection lines."""
    deadline = time.monotonic() + 30
    while sum(bool(HOST_SINK.match(l)) for l in list(sink.lines)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    sink.finish(15, stop=True)
    return [m for m in map(HOST_SINK.match, sink.lines) if m]


def figure(pairs):
    """MB/s (10^6 bytes) of connections together: pairs of (bytes both ways, ms)."""
    ms = max((m for _, m in pairs), default=0)
    return sum(b for b, _ in pairs) / 1e3 / ms if ms else 0.0


class Run:
    """Guest 0 and the host node: the streams both ways; guest 1 joins for two peers at once."""

    def __init__(self, args, wire, host_port, qemu_side, key, host_id, guest_id):
        self.args, self.wire, self.guest = args, wire, wire.guests[0]
        self.host_port, self.qemu_side, self.key = host_port, qemu_side, key
        self.host_id, self.guest_id = host_id, guest_id
        self.log = os.path.join(args.logdir, "host-node.log")
        self.replays = 0

    def host(self, command):
        return HostNode(self.args.lwf_node, self.key, self.host_port, self.qemu_side, command, self.log)

    def check_drops(self, name, lines, honest=()):
        """No drop of a BAD_DROPS cause on the host, but those `honest` here."""
        drops = host_drops(lines)
        bad = {k: v for k, v in drops.items() if k in BAD_DROPS and k not in honest and v}
        report(f"{name}.host_no_bad_drops", drops and not bad, f"utcp drops {bad or 'line missing'}")
        self.replays += drops.get("replay", 0)

    def host_to_guest(self, name, size, parallel=1):
        """lwf-node utcp-cat to the guest's sink; the MB/s figure."""
        start = self.guest.console.mark()
        cat = self.host(["utcp-cat", self.guest_id, str(SINK_STREAM), str(size), str(size), str(parallel)])
        rc = cat.finish(STREAM_TIMEOUT)
        verdicts = [m for m in map(HOST_VERDICT.match, cat.lines) if m]
        ok = rc == 0 and len(verdicts) == parallel and all(v.group(10) == "intact" for v in verdicts)
        report(f"{name}.host_verdict_intact", ok, f"exit {rc}: {cat.lines[-4:]}")
        # the guest's sink said the same: every connection complete, its count and sum the host's
        sent = sorted((int(v.group(3)), v.group(4)) for v in verdicts)
        deadline = time.monotonic() + 30
        while True:
            said = [m for m in (GUEST_SINK.search(l) for l in self.guest.console.from_fiber("utcpsink", start)) if m]
            if len(said) >= parallel or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        guest = sorted((int(m.group(2)), m.group(3)) for m in said if m.group(1) == "complete")
        report(f"{name}.guest_sink_agrees", len(sent) == parallel and guest == sent,
               f"host sent {sent}, guest's sink received {guest}")
        self.check_drops(name, cat.lines)
        return figure([(int(v.group(3)) + int(v.group(7)), int(v.group(9))) for v in verdicts]) if ok else None

    def guest_to_host(self, name, size, parallel=1):
        """The guest's utcpcat to lwf-node utcp-sink; the MB/s figure."""
        sink = self.host(["utcp-sink"])
        report(f"{name}.host_sink_listens", sink.wait_line(r"^utcp-sink listening stream=9$", 10),
               "no 'utcp-sink listening' line")
        code, verdicts, lines = utcpcat(self.guest, f"{self.host_id} {SINK_STREAM} {size} {size} {parallel}",
                                        timeout=STREAM_TIMEOUT)
        ok = all_intact(code, verdicts, parallel)
        report(f"{name}.guest_verdict_intact", ok, " | ".join(lines[-4:]))
        ends = sink_ends(sink, parallel)
        host = sorted((int(m.group(3)), m.group(4)) for m in ends if m.group(7) == "complete")
        sent = sorted((int(v.group(1)), v.group(2)) for v in verdicts)
        report(f"{name}.host_sink_agrees", len(host) == parallel and host == sent,
               f"guest sent {sent}, host sink received {host}")
        self.check_drops(name, sink.lines)
        return mb_per_s(verdicts) if ok else None

    def guests_at_once(self, guest_ids, size):
        """Every guest's utcpcat to the host's sink at the same time: the host serves a peer at
        each MAC."""
        sink = self.host(["utcp-sink"])
        sink.wait_line(r"^utcp-sink listening", 10)
        marks = []
        for g in self.wire.guests:
            marks.append(g.console.mark())
            g.type_line(f"run utcpcat {self.host_id} {SINK_STREAM} {size} {size}")
        sent = []
        for i, (g, start) in enumerate(zip(self.wire.guests, marks)):
            ended = g.console.wait_match(r"fiber utcpcat#\d+ (exited with (-?\d+)|killed)", STREAM_TIMEOUT, start)
            lines = g.console.from_fiber("utcpcat", start)
            verdicts = [m for m in map(VERDICT.match, lines) if m]
            code = int(ended.group(2)) if ended and ended.group(2) else None
            report(f"guests_at_once.guest{i}_verdict_intact", all_intact(code, verdicts, 1), " | ".join(lines[-3:]))
            sent += [(guest_ids[i], int(v.group(1)), v.group(2)) for v in verdicts]
        host = sorted((m.group(1), int(m.group(3)), m.group(4)) for m in sink_ends(sink, len(guest_ids))
                      if m.group(7) == "complete")
        report("guests_at_once.host_sink_agrees", len(host) == len(guest_ids) and host == sorted(sent),
               f"guests sent {sorted(sent)}, host sink received {host}")
        self.check_drops("guests_at_once", sink.lines)

    def ring_with_host(self, guest_ids, size, name="ring"):
        """Guest i's utcpcat to guest i+1's sink (mod the guests) while the host streams to
        guest 1: every node sends and receives at once, the guests each with two peers."""
        guests = self.wire.guests
        started = time.monotonic()
        marks = [g.console.mark() for g in guests]
        host_target = 1
        cat = self.host(["utcp-cat", guest_ids[host_target], str(SINK_STREAM), str(size), str(size)])
        for i, g in enumerate(guests):
            g.type_line(f"run utcpcat {guest_ids[(i + 1) % len(guests)]} {SINK_STREAM} {size} {size}")
        sent_to = {i: [] for i in range(len(guests))}  # receiving guest -> [(bytes, sum)] its senders sent
        for i, (g, start) in enumerate(zip(guests, marks)):
            ended = g.console.wait_match(r"fiber utcpcat#\d+ (exited with (-?\d+)|killed)", STREAM_TIMEOUT, start)
            lines = g.console.from_fiber("utcpcat", start)
            verdicts = [m for m in map(VERDICT.match, lines) if m]
            code = int(ended.group(2)) if ended and ended.group(2) else None
            report(f"{name}.guest{i}_verdict_intact", all_intact(code, verdicts, 1), " | ".join(lines[-3:]))
            sent_to[(i + 1) % len(guests)] += [(int(v.group(1)), v.group(2)) for v in verdicts]
        rc = cat.finish(STREAM_TIMEOUT)
        host_verdicts = [m for m in map(HOST_VERDICT.match, cat.lines) if m]
        report(f"{name}.host_verdict_intact", rc == 0 and len(host_verdicts) == 1 and host_verdicts[0].group(10) == "intact",
               f"exit {rc}: {cat.lines[-3:]}")
        sent_to[host_target] += [(int(v.group(3)), v.group(4)) for v in host_verdicts]
        # the guests' first HELLOs to each other go out broadcast (they know no MAC yet) and
        # reach the host too, which is not their destination
        self.check_drops(name, cat.lines, honest=("unknown_destination",))
        for i, (g, start) in enumerate(zip(guests, marks)):
            deadline = time.monotonic() + 30
            while True:
                said = [m for m in (GUEST_SINK.search(l) for l in g.console.from_fiber("utcpsink", start)) if m]
                if len(said) >= len(sent_to[i]) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            received = sorted((int(m.group(2)), m.group(3)) for m in said if m.group(1) == "complete")
            report(f"{name}.guest{i}_sink_agrees", received == sorted(sent_to[i]) and len(received) == len(sent_to[i]),
                   f"its senders sent {sorted(sent_to[i])}, its sink received {received}")
        return 2 * size * (len(guests) + 1) / (time.monotonic() - started) / 1e6

    def refused_stream(self):
        sink = self.host(["utcp-sink"])
        sink.wait_line(r"^utcp-sink listening", 10)
        code, verdicts, lines = utcpcat(self.guest, f"{self.host_id} {SINK_STREAM + 1} 65536 0", timeout=120)
        report("other_stream.guest_fails", code == 1 and not verdicts, f"exit {code}: {lines[-2:]}")
        said = sink.wait_line(rf"^utcp-sink cellid={self.guest_id} stream={SINK_STREAM + 1} .* result=refused$", 10)
        report("other_stream.host_refuses", said, f"no refused line: {sink.lines[-3:]}")
        sink.finish(15, stop=True)


def refuses_bad_arguments(binary):
    cid = "00" * 16
    refuses(report, binary, [["--dgram", "1:2"] + bad for bad in (
        ["utcp-cat", "xyz", "9"], ["utcp-cat", cid, "0"], ["utcp-cat", cid, "9", "1", "1", "9"], ["utcp-cat", cid],
        ["utcp-sink", "0"], ["utcp-sink", "9", "10"])])


def capture_both_ways(pcap, host_id, guest_id):
    seen = set()
    for _, frame in read_pcap(pcap):
        if frame[12:14] == b"\x88\xb5" and len(frame) >= 14 + 56 and frame[15] == 4:  # DATA
            seen.add((frame[14 + 20:14 + 36].hex(), frame[14 + 4:14 + 20].hex()))
    for src, dst, name in ((host_id, guest_id, "host_to_guest"), (guest_id, host_id, "guest_to_host")):
        report(f"capture.data_{name}", (src, dst) in seen, f"UTCP DATA seen between {sorted(seen)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--kernel", default="build/nexus.elf")
    ap.add_argument("--lwf-node", default="build/lwf-node")
    ap.add_argument("--keygen", default="build/nexus-keygen")
    ap.add_argument("--logdir", default="build/test-logs/utcp-host-node")
    ap.add_argument("--size-mib", type=int, default=16)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    size = args.size_mib * MIB
    refuses_bad_arguments(args.lwf_node)
    key = os.path.join(args.logdir, "host.key")
    host_id = fresh_host_key(report, args.keygen, key)
    if not host_id:
        return 1
    open(os.path.join(args.logdir, "host-node.log"), "w").close()
    pcap_path = os.path.join(args.logdir, "wire.pcap")
    qemu_side = free_port(socket.SOCK_DGRAM)  # what lwf-node binds; the relay's port sends there
    host_port = DgramPort(0, qemu_side)
    # relay ports: 0, 1 and 2 the guests, 3 the host node; every direction passes UTCP only
    host = GUESTS
    filters = {(i, j): UtcpOnly() for i in range(GUESTS + 1) for j in range(GUESTS + 1) if i != j}
    pcap = PcapWriter(pcap_path, snaplen=128)
    guest = dict(kernel=args.kernel, bootargs=f"watchdog={WATCHDOG_MS}", timeout=3 * 3600)
    figures = {}
    try:
        with Wire(args.qemu, [guest] * GUESTS, args.logdir, impairments=lambda i, j: filters[(i, j)], pcap=pcap,
                  extra_ports=[host_port]) as wire:
            g = wire.guests[0]
            guest_ids = [wait_cellid(x, timeout=BOOT_TIMEOUT) for x in wire.guests]
            up = all(guest_ids) and all(x.console.wait_for(said_by("utcpsink", "utcpsink: listening"), BOOT_TIMEOUT)
                                        for x in wire.guests)
            if not report("guests_up", up, f"CellIDs {guest_ids}; utcpsink listening on all: {bool(up)}"):
                return 1
            guest_id = guest_ids[0]
            report.info(f"utcp_host_node: host CellID {host_id} (key file), guests {', '.join(guest_ids)}")
            run = Run(args, wire, host_port, qemu_side, key, host_id, guest_id)
            first = run.host(["utcp-cat", guest_id, str(SINK_STREAM), "65536", "65536"])
            first.finish(120)
            connected = next((l for l in first.lines if l.startswith("utcp-connected")), "")
            report("handshake.host_identity", any(re.match(rf"^node cellid={host_id} .*identity=persistent", l)
                                                  for l in first.lines), f"{first.lines[:1]}")
            report("handshake.first_stream_intact", any(l.endswith("result=intact") for l in first.lines),
                   f"{first.lines[-4:]}")
            found = re.search(r"ms=(\d+)", connected)
            if found:
                report.info(f"utcp_host_node: handshake host -> Nexus (peer found by broadcast HELLO) {found.group(1)} ms")
            figures["host -> Nexus, 16 MiB each way"] = run.host_to_guest(f"host_to_guest_{size // MIB}mib", size)
            figures[f"host -> Nexus, {PARALLEL} connections of 2 MiB each way"] = run.host_to_guest(
                "host_to_guest_parallel", 2 * MIB, PARALLEL)
            figures["Nexus -> host, 16 MiB each way"] = run.guest_to_host(f"guest_to_host_{size // MIB}mib", size)
            figures[f"Nexus -> host, {PARALLEL} connections of 2 MiB each way"] = run.guest_to_host(
                "guest_to_host_parallel", 2 * MIB, PARALLEL)
            run.guests_at_once(guest_ids, 4 * MIB)
            run.ring_with_host(guest_ids, 4 * MIB)
            # the ring again under RING_LOSS with duplication and reordering on every direction
            # between every two of the four nodes
            for (i, j), direction in filters.items():
                direction.impairment = Impairment(loss=RING_LOSS, duplicate=0.01, reorder=0.01, reorder_depth=3,
                                                  seed=args.seed * 4096 + i * 16 + j)
            ring_name = f"ring_loss_{int(RING_LOSS * 100)}pct"
            figures[f"ring of four nodes at {RING_LOSS:.0%} loss, {size // MIB} MiB each way each (all together)"] = \
                run.ring_with_host(guest_ids, size, ring_name)
            report.info(f"utcp_host_node: {ring_name} relay impairments "
                        f"{ {f'{i}->{j}': d.impairment.counters() for (i, j), d in filters.items()} }")
            for direction in filters.values():
                direction.impairment = None
            run.refused_stream()
            replays_before = run.replays
            lossy = {d: filters[d] for d in ((0, host), (host, 0))}  # guest 0 and the host, both ways
            for (i, j), direction in lossy.items():
                direction.impairment = Impairment(loss=LOSS, duplicate=0.01, reorder=0.01, reorder_depth=3,
                                                  seed=args.seed * 256 + i * 16 + j)
            name = f"loss_{int(LOSS * 100)}pct"
            figures[f"host -> Nexus at {LOSS:.0%} loss, 16 MiB each way"] = run.host_to_guest(name, size)
            counters = {f"{i}->{j}": d.impairment.counters() for (i, j), d in lossy.items()}
            for direction in lossy.values():
                direction.impairment = None
            report(f"{name}.duplicates_counted_as_replay", run.replays > replays_before,
                   f"host replay drops +{run.replays - replays_before}")
            report.info(f"utcp_host_node: relay impairments (0: guest 0, {host}: host) {counters}")
            for i, x in enumerate(wire.guests):
                report_guest_health(lambda name, ok, detail="", i=i: report(f"guest{i}.{name}", ok, detail), x)
    finally:
        host_port.close()
    for what, mb in figures.items():
        if mb:
            report.info(f"utcp_host_node: {what}: {mb:.2f} MB/s")
    capture_both_ways(pcap_path, host_id, guest_id)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
