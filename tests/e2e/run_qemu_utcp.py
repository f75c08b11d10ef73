"""UTCP node to node: two QEMU nodes joined by the wire peer, driven from the host.

    python3 -m tests.e2e.run_qemu_utcp --qemu "QEMU COMMAND"   (from the project root)

Both nodes boot the test kernel (default manifest: the UTCP service faults on demand in this
build; utcpsink listens on stream 9; httpd on UTCP stream 80 beside TCP port 80; utcpcat and
utcpget run from the console). The relay passes UTCP frames (EtherType 0x88B5) only, through a
seeded impairment when one is set; node 0 also has a user network, so the host reaches its httpd
on TCP. A pcap of the wire is kept (the first 128 bytes of each frame: the streams are long).
  - handshake: the first utcpcat finds the peer by the broadcast HELLO; both directions intact;
  - httpd over UTCP: node 1's utcpget fetches node 0's /bus.json by CellID (200, node 0's CellID
    and MAC in it, every announced byte) and a missing page (404);
  - accept before the client speaks: node 1's utcpcat waits 8 s after connecting before its
    request, and node 0's sink accepts the connection meanwhile (the stream opened by an empty
    DATA); the stream then runs intact;
  - 16 MiB each way at once, checked byte for byte (utcpcat) and by the sink's count and
    checksum; then several streams at once (utcpcat's PARALLEL connections);
  - the same under 1 % and 5 % random loss with 1 % duplication and 1 % reordering each way:
    intact, duplicates counted as replay;
  - node 1's MAC rewritten by the relay mid-stream: the stream stays intact, node 0 counts the
    peer's MAC change and follows it;
  - frames made here and injected (garbage, another destination, a captured frame again, a
    sealed frame of no session, a flipped ciphertext bit): each counted by its cause, no session
    made;
  - the UTCP service faulting (a trigger on stream 7357 from node 1): restarted with the same
    CellID, a running utcpcat fails cleanly, the sink and httpd's UTCP listener listen again,
    httpd's TCP side serves a keep-alive connection from the host throughout without a break,
    the Membrane and httpd are not restarted, and streams and utcpget work again;
  - node 0's Membrane faulting (its trigger through node 0's user network) while node 1 fetches
    64 MiB from node 0's httpd over UTCP: httpd sets up its TCP listener again and the UTCP
    response arrives whole.
Output: PASS/FAIL lines for tests/run.py, INFO lines with the figures (MB/s under each loss);
with --bench a BENCH line only, for tools/bench.py (with the goodput of node 1's utcpget of
16 MiB from node 0's httpd, lossless, and the receivers' reports, NACK and WINDOW frames both
ways as the relay saw them, per MiB moved at each loss, and the UTCP frames the nodes' own
NetSwitch dropped meanwhile, ring full or over budget: loss the relay did not make).
"""
import argparse
import collections
import json
import os
import re
import socket
import sys
import time

from tests.e2e.run_qemu_containment import Load
from tests.harness.console import said_by
from tests.harness.net import UserNet
from tests.harness.report import Report
from tests.harness.wire import Wire, node_mac
from tools.wirepeer import Impairment, PcapWriter, ether_frame, mac

BOOT_TIMEOUT = 120.0
WATCHDOG_MS = 1000  # as in run_qemu_containment.py: a loaded host stalls QEMU's vCPU
ETHERTYPE = b"\x88\xb5"
SINK_STREAM = 9
FAULT_STREAM = 7357  # utcp/service/fault_inject.h
MEMBRANE_FAULT_UDP_PORT = 7357  # membrane/fault_inject.h
FAULT_NULL = int.from_bytes(b"null\0\0\0\0", "big")  # utcpcat's 8-byte request spells the fault's name
MIB = 1 << 20
INJECTED = 3  # copies of each made frame, each to be counted once
UTCP_RING_FULL = "/Bus/net/switch/port/utcp/rx_ring_full"
UTCP_OVER_BUDGET = "/Bus/net/switch/port/utcp/rx_over_budget"
ACCEPT_WAIT_MS = 8000  # utcpcat's wait before its request: far longer than a frame between the nodes
TICK_S = 0.1  # how often the UTCP service publishes its /Bus (utcp/service/utcpd.c, TICK_US)
OFF_TYPE, OFF_DST, OFF_SESSION, OFF_LENGTH, OFF_SEQUENCE = 1, 4, 36, 42, 44  # docs/utcp.md, section 3
TYPE_DATA = 4
CONTROL_TYPES = (5, 6, 7, 10)  # NACK, WINDOW, SYNC, PING
REPORT_TYPES = (5, 6)  # NACK, WINDOW: the receiver's reports, UTCP's counterpart of TCP's ACKs
MOVED_MAC = "02:00:00:00:88:b5"
VERDICT = re.compile(r"utcpcat: sent (\d+) sum (\w+), peer received (\d+) sum (\w+); received (\d+) sum (\w+); "
                     r"(\d+) ms, (\d+) KiB/s: (\w+)")

GET_STATUS = re.compile(r"utcpget: HTTP/1\.1 (\d{3}) ")
GET_BODY = re.compile(r"utcpget: body (\d+) bytes in (\d+) ms")
HTTP_STREAM = 80  # httpd listens on UTCP stream 80 beside TCP port 80

report = Report("utcp")


class UtcpOnly:
    """One direction of the wire: UTCP frames only, through .impairment if set; from .moved_after
    frames on (if set), the sender's MAC is rewritten to MOVED_MAC, as if the node had moved.
    .recent keeps the last frames as sent, for injecting them again, and .recent_control the
    control frames apart: a node streaming DATA sends one rarely, and 256 DATA frames can pass
    without one. .types counts the UTCP frames seen by type, before any impairment."""

    def __init__(self):
        self.impairment = None
        self.moved_after = None
        self.frames = 0
        self.recent = collections.deque(maxlen=256)
        self.recent_control = collections.deque(maxlen=64)
        self.types = collections.Counter()

    def apply(self, frame):
        if len(frame) < 14 or frame[12:14] != ETHERTYPE:
            return []
        self.frames += 1
        if len(frame) > 14 + OFF_TYPE:
            self.types[frame[14 + OFF_TYPE]] += 1
        self.recent.append(bytes(frame))
        if len(frame) > 14 + OFF_TYPE and frame[14 + OFF_TYPE] in CONTROL_TYPES:
            self.recent_control.append(bytes(frame))
        if self.moved_after is not None and self.frames > self.moved_after:
            frame = frame[:6] + mac(MOVED_MAC) + frame[12:]
        return self.impairment.apply(frame) if self.impairment else [frame]

    def poll(self):
        return self.impairment.poll() if self.impairment else []

    def next_deadline(self):
        return self.impairment.next_deadline() if self.impairment else None

    def flush(self):
        return self.impairment.flush() if self.impairment else []

    def counters(self):
        return self.impairment.counters() if self.impairment else {}


def wait_cellid(guest, start=0, timeout=BOOT_TIMEOUT):
    line = guest.console.wait_for(said_by("utcp", "utcp: CellID"), timeout, start)
    found = line and re.search(r"CellID ([0-9a-f]{32})", line)
    return found.group(1) if found else None


def run_app(guest, app, args, timeout):
    """Runs `app ARGS` from the console to its end: (exit code or None, its lines)."""
    start = guest.console.mark()
    guest.type_line(f"run {app} {args}")
    ended = guest.console.wait_match(rf"fiber {app}#\d+ (exited with (-?\d+)|killed)", timeout, start)
    return (int(ended.group(2)) if ended and ended.group(2) else None), guest.console.from_fiber(app, start)


def utcpcat(guest, args, timeout=600.0):
    """Runs utcpcat ARGS to its end: (exit code or None, its verdict matches, its lines)."""
    code, lines = run_app(guest, "utcpcat", args, timeout)
    return code, [m for m in map(VERDICT.match, lines) if m], lines


def utcpget(guest, cellid, path, timeout=120.0):
    """Fetches path from node cellid's httpd over UTCP: (exit code, status code or None, body
    length or None, the body as printed when short text, all its lines)."""
    code, lines = run_app(guest, "utcpget", f"{cellid} {path}", timeout)
    status = next((int(m.group(1)) for m in map(GET_STATUS.match, lines) if m), None)
    at = next((i for i, l in enumerate(lines) if GET_BODY.match(l)), None)
    length = int(GET_BODY.match(lines[at]).group(1)) if at is not None else None
    body = "\n".join(lines[at + 1:]) if at is not None else ""
    return code, status, length, body, lines


def all_intact(code, verdicts, count):
    return code == 0 and len(verdicts) == count and all(v.group(9) == "intact" for v in verdicts)


def mb_per_s(verdicts):
    """Goodput of the connections together, both directions, in MB/s (10^6 bytes)."""
    if not verdicts:
        return 0.0
    total = sum(int(v.group(1)) + int(v.group(5)) for v in verdicts)
    ms = max(int(v.group(7)) for v in verdicts)
    return total / 1e6 / (ms / 1000) if ms else 0.0


def drops(guest):
    values = guest.console_bus("/Bus/utcp/drops")
    return {k.rsplit("/", 1)[1]: int(v) for k, v in values.items() if v.isdigit()}


def bus_number(guest, key):
    v = guest.console_bus(key).get(key, "")
    return int(v) if v.isdigit() else None


# ---- the checks

def receiver_drops(wire):
    """Frames for UTCP both nodes' NetSwitch dropped so far (ring full or over budget): a
    receiver that cannot keep up loses frames even when the relay loses none."""
    return sum(bus_number(g, key) or 0 for g in wire.guests for key in (UTCP_RING_FULL, UTCP_OVER_BUDGET))


def reports_seen(wire):
    """NACK and WINDOW frames the relay has seen so far, both directions."""
    return sum(d.types[t] for d in wire.filters.values() for t in REPORT_TYPES)


def transfer(wire, ids, name, size, back, parallel=1, node=0):
    """utcpcat from `node` to the other's sink; the MB/s figure, or None if it failed. Also
    keeps, in wire.reports_per_mib, the NACK and WINDOW frames the transfer cost per MiB moved
    (both directions; the handshake's first WINDOW and the sink's reply included)."""
    before = reports_seen(wire)
    code, verdicts, lines = utcpcat(wire.guests[node], f"{ids[1 - node]} {SINK_STREAM} {size} {back} {parallel}")
    ok = all_intact(code, verdicts, parallel)
    report(name, ok, " | ".join(lines[-4:]))
    wire.reports_per_mib = (reports_seen(wire) - before) / ((size + back) * parallel / MIB) if ok else None
    return mb_per_s(verdicts) if ok else None


def handshake(wire, ids):
    a = wire.guests[0]
    start = a.console.mark()
    figure = transfer(wire, ids, "first_stream_intact_both_ways", 65536, 65536)
    line = a.console.wait_for(said_by("utcpcat", "utcpcat: connected in"), 5, start)
    found = line and re.search(r"connected in (\d+) ms", line)
    if found:
        report.info(f"utcp: handshake (first connect, peer found by broadcast HELLO) {found.group(1)} ms")
    time.sleep(3 * TICK_S)  # a short stream can end before its service's next /Bus publish
    for i, guest in enumerate(wire.guests):
        macs = guest.console_bus("/Bus/utcp/sessions_established")
        report(f"node{i}_session_established", macs.get("/Bus/utcp/sessions_established", "0") != "0",
               f"{macs}")
    return figure


def accept_before_client_speaks(wire, ids):
    """Node 1's utcpcat connects and waits ACCEPT_WAIT_MS before its request: node 0's sink
    accepts the connection meanwhile (the client opened its stream with an empty DATA), so a
    server that speaks first would be heard. Then the stream runs as usual."""
    a, b = wire.guests
    a_start, b_start = a.console.mark(), b.console.mark()
    b.type_line(f"run utcpcat {ids[0]} {SINK_STREAM} 4096 4096 1 {ACCEPT_WAIT_MS}")
    accepted = a.console.wait_for(said_by("utcpsink", "utcpsink: accepted a connection"), ACCEPT_WAIT_MS / 1000, a_start)
    spoke = [l for l in b.console.from_fiber("utcpcat", b_start) if "sending the request" in l]
    report("accept_before_the_client_speaks", accepted is not None and not spoke,
           f"sink accepted: {accepted is not None}; client's request already sent: {bool(spoke)}")
    ended = b.console.wait_match(r"fiber utcpcat#\d+ (exited with (-?\d+)|killed)", 120, b_start)
    lines = b.console.from_fiber("utcpcat", b_start)
    verdicts = [m for m in map(VERDICT.match, lines) if m]
    report("waiting_client_stream_intact", all_intact(int(ended.group(2)) if ended and ended.group(2) else None,
                                                       verdicts, 1), " | ".join(lines[-3:]))


def under_loss(wire, ids, seed, loss, size):
    before = [drops(g) for g in wire.guests]
    for (i, j), direction in wire.filters.items():
        direction.impairment = Impairment(loss=loss, duplicate=0.01, reorder=0.01, reorder_depth=3,
                                          seed=seed * 256 + i * 16 + j)
    figure = transfer(wire, ids, f"loss_{int(loss * 100)}pct_{size // MIB}mib_each_way_intact", size, size)
    counters = {f"{i}->{j}": d.impairment.counters() for (i, j), d in wire.filters.items()}
    for direction in wire.filters.values():
        direction.impairment = None
    after = [drops(g) for g in wire.guests]
    replays = sum(after[n].get("replay", 0) - before[n].get("replay", 0) for n in (0, 1))
    report(f"loss_{int(loss * 100)}pct_duplicates_counted_as_replay", replays > 0, f"replay drops +{replays}")
    report.info(f"utcp: relay impairments at {loss:.0%} loss: {counters}")
    return figure


def mac_change(wire, ids):
    a = wire.guests[0]
    changes = bus_number(a, "/Bus/utcp/peer_mac_changes") or 0
    back = wire.filters[(1, 0)]
    back.frames, back.moved_after = 0, 200  # node 1 moves a few hundred frames into the stream
    transfer(wire, ids, "mac_change_mid_stream_intact", 4 * MIB, 4 * MIB)
    moved = back.frames > back.moved_after
    back.moved_after = None
    grew = (bus_number(a, "/Bus/utcp/peer_mac_changes") or 0) - changes
    report("mac_change_happened_mid_stream", moved, f"{back.frames} frames from node 1, rewritten after 200")
    report("mac_change_followed", grew >= 1, f"/Bus/utcp/peer_mac_changes +{grew}")


def session_of(frame):
    return frame[14 + OFF_SESSION:14 + OFF_SESSION + 4]


def exited(guest, start):
    return guest.console.wait_match(r"fiber utcpcat#\d+ exited with (-?\d+)", 0, start)


def inject_counted(wire, a, cause, frame):
    """Sends INJECTED copies of frame to node 0, 20 ms apart, and sends again those not counted
    within a few seconds, at most twice: node 0's UTCP ring (64 frames) is often full with the
    stream's own, and the NetSwitch drops what does not fit before the service sees it (as the
    stream's lost frames, which NACKs recover). (the counter's rise, the ring's drops meanwhile)."""
    node0, stranger = mac(node_mac(0)), mac("02:00:00:00:00:77")
    before, full = drops(a).get(cause, 0), bus_number(a, UTCP_RING_FULL) or 0
    delta = 0
    for _ in range(3):
        for _ in range(INJECTED - delta):
            wire.ports[0].send(ether_frame(node0, stranger, 0x88B5, frame))
            time.sleep(0.02)
        deadline = time.monotonic() + 3.0
        while True:
            time.sleep(3 * TICK_S)
            delta = drops(a).get(cause, 0) - before
            if delta >= INJECTED or time.monotonic() > deadline:
                break
        if delta >= INJECTED:
            break
    return delta, (bus_number(a, UTCP_RING_FULL) or 0) - full


def injected(wire, ids):
    """While node 1 streams to node 0, frames made from node 1's own are sent to node 0 straight
    from the relay's port: each counted by its cause, no session made. The material is a DATA and
    a control frame of the running session (one connection is one session; once the stream ends,
    every sealed frame of it is no_session), taken as soon as both have passed."""
    a, b = wire.guests
    seen = wire.filters[(1, 0)]
    seen.recent.clear()
    seen.recent_control.clear()
    sessions = bus_number(a, "/Bus/utcp/sessions_established")  # the stream's own will be one more
    start = b.console.mark()
    # Data both ways, so node 1 is a receiver too and sends control frames (WINDOW, NACK) all
    # along the stream; 64 MiB each way outlasts the injection of the causes that need it (a few
    # seconds per cause).
    b.type_line(f"run utcpcat {ids[0]} {SINK_STREAM} {64 * MIB} {64 * MIB}")
    b.console.wait_for(said_by("utcpcat", "utcpcat: connected in"), 60, start)
    data, control = [], []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not exited(b, start):
        data = [f for f in list(seen.recent) if f[14 + OFF_TYPE] == TYPE_DATA]
        current = session_of(data[-1]) if data else None
        control = [f for f in list(seen.recent_control) if session_of(f) == current]
        if data and control:
            break
        time.sleep(0.05)
    if not data or not control:
        report("injection_material", False, f"{len(data)} DATA, {len(control)} control frames of node 1's session seen")
        return
    captured = data[-1][14:]
    other_dst = bytearray(captured)
    other_dst[OFF_DST:OFF_DST + 16] = os.urandom(16)
    no_session = bytearray(captured)
    no_session[OFF_SESSION] ^= 0x5A
    # a control frame far ahead in its space passes the replay window; its header is the AD: aead
    forged = bytearray(control[-1][14:])
    sequence = int.from_bytes(forged[OFF_SEQUENCE:OFF_SEQUENCE + 8], "big") + 1000
    forged[OFF_SEQUENCE:OFF_SEQUENCE + 8] = sequence.to_bytes(8, "big")
    short = bytearray(captured[:56])
    short[OFF_LENGTH:OFF_LENGTH + 2] = b"\x00\x00"  # DATA carries 17 bytes at least
    # The causes that need the session alive first (once it ends, its frames are all no_session),
    # then the rest: however fast the stream runs, it only has to outlast those two.
    live = {
        "aead": bytes(forged),
        "replay": bytes(captured),
    }
    cases = {
        "malformed": bytes(short),
        "unknown_destination": bytes(other_dst),
        "no_session": bytes(no_session),
    }
    time.sleep(3 * TICK_S)  # what node 0 has counted so far reaches its /Bus
    rises = {cause: inject_counted(wire, a, cause, frame) for cause, frame in live.items()}
    report("injected_while_session_ran", not exited(b, start),
           "utcpcat ended before the injected frames were counted: its session's frames are all no_session")
    rises.update({cause: inject_counted(wire, a, cause, frame) for cause, frame in cases.items()})
    for cause, (delta, lost) in rises.items():
        # replays also come from the wire itself (a retransmission crossing its NACK): at least
        ok = delta >= INJECTED if cause == "replay" else delta == INJECTED
        report(f"injected_{cause}_counted", ok, f"/Bus/utcp/drops/{cause} went up by {delta}, not {INJECTED} "
               f"(the NetSwitch dropped {lost} frames for UTCP's full ring meanwhile)")
    made = bus_number(a, "/Bus/utcp/sessions_established")
    report("injected_no_session_made", made == sessions + 1,
           f"sessions_established {sessions} -> {made}: the stream's own session and no other expected")
    ended = b.console.wait_match(r"fiber utcpcat#\d+ exited with (-?\d+)", 300, start)
    report("stream_intact_through_injection", ended is not None and ended.group(1) == "0",
           " | ".join(b.console.from_fiber("utcpcat", start)[-2:]))


def httpd_over_utcp(wire, ids, when):
    """Node 1 fetches node 0's /Bus by CellID from its httpd on UTCP stream 80: a 200 whose JSON
    is node 0's (its CellID and MAC, not node 1's), every announced byte printed; a path httpd
    does not serve is a 404 and utcpget exits 1."""
    b = wire.guests[1]
    code, status, length, body, lines = utcpget(b, ids[0], "/bus.json")
    try:
        bus = json.loads(body).get("bus", {})
    except ValueError:
        bus = {}
    # bus.json ends with a newline, which the console's line split takes away
    report(f"httpd_over_utcp_200_{when}", code == 0 and status == 200 and length == len(body.encode()) + 1 and bus,
           f"exit {code}, status {status}, body {length} bytes, {len(body)} printed; {lines[:3]}")
    names = {k: bus.get(k) for k in ("/Bus/net/cellid", "/Bus/net/mac")}
    report(f"httpd_over_utcp_names_node0_{when}", names == {"/Bus/net/cellid": ids[0], "/Bus/net/mac": node_mac(0)},
           f"{names}; node 0 is {ids[0]} at {node_mac(0)}")
    code, status, _, _, lines = utcpget(b, ids[0], "/no/such/page")
    report(f"httpd_over_utcp_404_{when}", code == 1 and status == 404, f"exit {code}, status {status}; {lines[:3]}")


def fault(wire, ids):
    a, b = wire.guests
    fibers_before = a.console_bus("/Bus/fibers")
    load = Load(a.http_port, "/bytes/512", timeout=5)  # one keep-alive TCP connection, if nothing breaks it
    start = a.console.mark()
    a.type_line(f"run utcpcat {ids[1]} {SINK_STREAM} {64 * MIB} 0")  # still running when the service dies
    a.console.wait_for(said_by("utcpcat", "utcpcat: connected in"), 30, start)
    time.sleep(2.0)
    # The trigger is one small message on a stream of its own; on a loaded host it may not get
    # through while node 0 is busy with the long stream: ask again, at most three times.
    committing = said_by("utcp", 'utcp: fault injection: committing "null"')
    for _ in range(3):
        utcpcat(b, f"{ids[0]} {FAULT_STREAM} 0 {FAULT_NULL}", timeout=60)
        if a.console.wait_for(committing, 20, start) is not None:
            break
    report("fault_committed", a.console.wait_for(committing, 1, start) is not None,
           "node 0's UTCP service did not take the trigger (asked three times)")
    report("utcp_restarted", a.console.wait_for("supervisor: restarted utcp#", 20, start) is not None,
           "no restart of utcp on the console")
    new_id = wait_cellid(a, start, 60)
    report("same_cellid_after_restart", new_id == ids[0], f"CellID {new_id}, was {ids[0]}")
    ended = a.console.wait_match(r"fiber utcpcat#\d+ exited with (-?\d+)", 90, start)
    said = a.console.from_fiber("utcpcat", start)
    report("running_utcpcat_fails_cleanly", ended is not None and ended.group(1) == "1" and
           any("Connection reset" in l for l in said), f"ended: {ended and ended.group(0)}; said: {said[-2:]}")
    report("sink_listens_again", a.console.wait_for(said_by("utcpsink", "utcpsink: the listener failed"), 30, start)
           is not None, "utcpsink did not notice its listener fail")
    utcp_again = a.console.wait_for(said_by("httpd", f"httpd: serving UTCP stream {HTTP_STREAM}"), 30, start)
    report("httpd_utcp_listener_rebuilt", utcp_again is not None and
           a.console.wait_for(said_by("httpd", "httpd: UTCP listener failed"), 0, start) is not None,
           "httpd did not see its UTCP listener fail and listen again")
    time.sleep(2.0)
    load.stop()
    report("httpd_tcp_served_throughout", load.errors == 0 and load.ok > 0 and
           a.console.wait_for(said_by("httpd", "httpd: TCP"), 0, start) is None,
           f"{load.ok} ok, {load.errors} failed on node 0's TCP port 80 while UTCP restarted; "
           f"httpd said: {a.console.from_fiber('httpd', start)[-3:]}")
    fibers = a.console_bus("/Bus/fibers")
    for name in ("membrane", "httpd", "signer", "lwf"):
        key = f"/Bus/fibers/{name}/restarts"
        report(f"{name}_not_restarted", fibers.get(key) == fibers_before.get(key) == "0", f"{key}={fibers.get(key)}")
    report("utcp_restart_counted", fibers.get("/Bus/fibers/utcp/restarts") == "1",
           fibers.get("/Bus/fibers/utcp/restarts"))
    for node in (0, 1):
        transfer(wire, ids, f"node{node}_stream_after_restart", MIB, MIB, node=node)
    httpd_over_utcp(wire, ids, "after_restart")


def httpd_goodput(wire, ids, size):
    """MB/s of node 1 fetching size bytes from node 0's httpd over UTCP (utcpget), or None."""
    code, status, length, _, lines = utcpget(wire.guests[1], ids[0], f"/bytes/{size}", timeout=600)
    timing = next((m for m in map(GET_BODY.match, lines) if m), None)
    if code != 0 or status != 200 or length != size or not timing or not int(timing.group(2)):
        return None
    return size / 1e6 / (int(timing.group(2)) / 1000)


def membrane_fault(wire, ids):
    """Node 0's Membrane faults (its trigger through the user network) while node 1 fetches a
    long body from node 0's httpd over UTCP: only httpd's TCP listener is set up again, and the
    UTCP response arrives whole."""
    a, b = wire.guests
    size = 64 * MIB  # at 12 MB/s 16 MiB was over before the fault
    start, b_start = a.console.mark(), b.console.mark()
    b.type_line(f"run utcpget {ids[0]} /bytes/{size}")
    b.console.wait_for("supervisor: started utcpget#", 10, b_start)
    time.sleep(0.5)  # the session is up since the first tests: the response is under way
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trigger:
        trigger.sendto(b"null", ("127.0.0.1", a.net.udp[MEMBRANE_FAULT_UDP_PORT]))
    restarted = a.console.wait_for("supervisor: restarted membrane#", 20, start) is not None
    running = b.console.wait_match(r"fiber utcpget#\d+ exited", 0, b_start) is None
    report("membrane_restarted_mid_response", restarted and running,
           f"Membrane restarted: {restarted}; utcpget still running then: {running}")
    tcp_again = a.console.wait_for(said_by("httpd", "httpd: listening on port"), 30, start)
    report("httpd_tcp_listener_rebuilt", tcp_again is not None and
           a.console.wait_for(said_by("httpd", "httpd: TCP listener failed"), 0, start) is not None,
           "httpd did not see its TCP listener fail and listen again")
    ended = b.console.wait_match(r"fiber utcpget#\d+ exited with (-?\d+)", 300, b_start)
    said = b.console.from_fiber("utcpget", b_start)
    whole = any(l.startswith(f"utcpget: body {size} bytes") for l in said)
    before_end = a.console.wait_for(said_by("httpd", "httpd: UTCP"), 0, start)
    report("httpd_utcp_response_survives_membrane_restart", ended is not None and ended.group(1) == "0" and whole and
           before_end is None, f"ended: {ended and ended.group(0)}; said: {said[:2]}; httpd: {before_end}")
    code, status, _, _, lines = utcpget(b, ids[0], "/bytes/100")
    report("httpd_over_utcp_after_membrane_restart", code == 0 and status == 200, f"exit {code}; {lines[:2]}")


def boot(qemu, kernel, logdir):
    filters = {(0, 1): UtcpOnly(), (1, 0): UtcpOnly()}
    pcap = PcapWriter(os.path.join(logdir, "wire.pcap"), snaplen=128)
    bootargs = f"watchdog={WATCHDOG_MS}"
    # Node 0 also has a user network (the host reaches its httpd on TCP); the relay keeps it off the wire.
    wire = Wire(qemu, [dict(kernel=kernel, bootargs=bootargs, user=UserNet(tcp=[80], udp=[MEMBRANE_FAULT_UDP_PORT],
                                                                              restrict=True)),
                       dict(kernel=kernel, bootargs=bootargs)], logdir,
                impairments=lambda i, j: filters[(i, j)], pcap=pcap)
    wire.filters, wire.pcap = filters, pcap
    return wire


def ready(wire):
    ids = [wait_cellid(g) for g in wire.guests]
    up = all(ids) and all(g.console.wait_for(said_by("utcpsink", "utcpsink: listening"), BOOT_TIMEOUT) and
                          g.console.wait_for(said_by("httpd", f"httpd: serving UTCP stream {HTTP_STREAM}"), BOOT_TIMEOUT)
                          for g in wire.guests)
    up = up and wire.guests[0].console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
    return ids if up else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    ap.add_argument("--logdir", default="build/test-logs/utcp")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--size-mib", type=int, default=16, help="bytes each way of the long streams")
    ap.add_argument("--bench", action="store_true", help="only measure, for make bench (a BENCH line)")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    size = args.size_mib * MIB
    with boot(args.qemu, args.kernel, args.logdir) as wire:
        ids = ready(wire)
        report("both_nodes_up", ids is not None, "a node's UTCP service, utcpsink or httpd did not start")
        if not ids:
            return 1
        report.info(f"utcp: CellIDs {ids[0]} (node 0), {ids[1]} (node 1)")
        handshake(wire, ids)
        if not args.bench:
            httpd_over_utcp(wire, ids, "at_boot")
            accept_before_client_speaks(wire, ids)
        dropped = receiver_drops(wire) if args.bench else 0
        figures = {"0": transfer(wire, ids, f"lossless_{size // MIB}mib_each_way_intact", size, size)}
        reports = {"0": wire.reports_per_mib}
        if args.bench:
            drops_at = {"0": receiver_drops(wire) - dropped}
            httpd = httpd_goodput(wire, ids, size)
            for loss in (0.01, 0.05):
                dropped = receiver_drops(wire)
                figures[str(int(loss * 100))] = under_loss(wire, ids, args.seed, loss, size)
                reports[str(int(loss * 100))] = wire.reports_per_mib
                drops_at[str(int(loss * 100))] = receiver_drops(wire) - dropped
            print("BENCH " + " ".join(f"utcp_loss_{k}pct_mb_s={v:.2f}" for k, v in figures.items() if v) +
                  "".join(f" utcp_loss_{k}pct_reports_per_mib={v:.1f}" for k, v in reports.items() if v) +
                  "".join(f" utcp_loss_{k}pct_receiver_drops={v}" for k, v in drops_at.items()) +
                  (f" httpd_over_utcp_mb_s={httpd:.2f}" if httpd else ""), flush=True)
            return 0
        parallel = transfer(wire, ids, "four_streams_at_once_intact", 2 * MIB, 2 * MIB, parallel=4)
        for loss in (0.01, 0.05):
            figures[str(int(loss * 100))] = under_loss(wire, ids, args.seed, loss, size)
        for loss, figure in figures.items():
            if figure:
                report.info(f"utcp: {size // MIB} MiB each way at {loss} % loss: {figure:.2f} MB/s node to node")
        if parallel:
            report.info(f"utcp: four streams at once, 2 MiB each way each: {parallel:.2f} MB/s")
        mac_change(wire, ids)
        injected(wire, ids)
        fault(wire, ids)
        membrane_fault(wire, ids)  # last: fault() checks that the Membrane never restarted
        report("kernels_still_running", all(g.alive() and g.console.count("PANIC") == 0 for g in wire.guests),
               "QEMU exited or panicked")
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
