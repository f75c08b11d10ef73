"""LWF node to node: two QEMU nodes joined by the wire peer, driven from the host.

    /usr/bin/python3 -m tests.e2e.run_qemu_lwf --qemu "QEMU COMMAND"   (from the project root)

Both nodes boot the test kernel (manifest=lwf: the default services, an LWF service that faults
on demand, and lwfsend). Node 0 shares a QEMU hub with a restricted user network, so the host
reaches its port 80; the relay between the nodes passes LWF frames (EtherType 0x4C57) only, so
neither user network nor Membrane traffic crosses the wire. A pcap of the wire is kept.
  - discovery: the wire is closed while the nodes boot; once open, node 0's first lwfping makes
    it solicit ANNOUNCEs, and both nodes list each other under /Bus/lwf/peers (CellID, MAC);
  - lwfping both ways with a message of each frame class (128, 512, 1350) and fragmented 64 KiB
    messages, content checked by lwfping; on the pcap every 0x4C57 frame is a class size, every
    class appears, and no plaintext of a known message is visible;
  - frames the test makes and injects (CRC-32C computed here): garbage, a bad CRC, a captured
    frame again, one with another destination, an ANNOUNCE from another MAC, DATA from an
    unknown CellID: each counted by its cause, no peer added;
  - wire impairments: corrupted frames counted as crc, duplicates as replay, lost fragments
    timed out with the reassembly slots free again, and lwfping intact again once the wire is;
  - the status page (GET / on node 0) lists the peer and the node's own CellID and identity;
  - the LWF service faulting (a trigger from node 1): restarted, its apps' sockets fail cleanly
    (lwfecho waits and opens its socket again, a running lwfping says why it stops), the Membrane and
    HTTP untouched, the same (ephemeral) CellID after the restart (the signer keeps the key),
    lwfping answers both ways once the nodes have re-announced, and the packet pool is back at
    its baseline;
  - node 1 boots with a key file (-initrd, as `make run IDENTITY=`): its CellID is the file's,
    and after its LWF service faults (a trigger from node 0) it is still the file's, node 0
    keeps it as the same single peer, its first frame after the restart carries a sequence
    number above every one it sent before (docs/lwf.md, section 8), node 0 counts no replay,
    and lwfping answers both ways.

Output: PASS/FAIL lines for tests/run.py, INFO lines with the figures; with --bench only a BENCH
line of figures, for tools/bench.py. Consoles and the pcap go to --logdir. Debian's python3 (python3-nacl) runs it:
tools/lwf_vectors.py makes the injected frames.
"""
import argparse
import os
import re
import subprocess
import sys
import time

from tests.e2e.run_qemu_containment import Load
from tests.harness.console import said_by
from tests.harness.net import UserNet
from tests.harness.report import Report
from tests.harness.wire import Wire, node_mac
from tools import lwf_vectors as lwf
from tools.wirepeer import Impairment, ether_frame, mac, read_pcap

BOOT_TIMEOUT = 120.0
WATCHDOG_MS = 1000  # as in run_qemu_containment.py: a loaded host stalls QEMU's vCPU
FAULT_SERVICE = 7357  # lwf/service/fault_inject.h
ECHO_SERVICE = 7
TX_BUFS_PER_PORT = 64  # include/nexus/syscall.h, NEXUS_ION_TX_BUFS_PER_PORT
# Message sizes whose single frame is of each class: 84 header + message + 16 tag + 4 CRC.
CLASS_MESSAGES = {128: 16, 512: 300, 1350: 1200}
BIG = 65536  # 64 fragments
CANARY = "NEXUS-LWF-CANARY-PLAINTEXT-6b1f0c"
OFF_TYPE, OFF_SRC, OFF_DST, OFF_SEQUENCE = 4, 8, 24, 40  # docs/lwf.md, section 4, from the LWF header
SUMMARY = re.compile(r"lwfping: (\d+) sent, (\d+) answered, (\d+) intact(?:, rtt min/avg/max ([\d.]+)/([\d.]+)/([\d.]+) ms)?")

report = Report("lwf")


class LwfOnly:
    """One direction of the wire: LWF frames only (node 0's hub carries its user network's
    traffic too), dropped all while .closed, else through .impairment if set. The relay takes
    it as an Impairment."""

    def __init__(self):
        self.closed = True
        self.impairment = None

    def apply(self, frame):
        if len(frame) < 14 or frame[12:14] != b"\x4c\x57" or self.closed:
            return []
        return self.impairment.apply(frame) if self.impairment else [frame]

    def poll(self):
        return self.impairment.poll() if self.impairment else []

    def next_deadline(self):
        return self.impairment.next_deadline() if self.impairment else None

    def flush(self):
        return self.impairment.flush() if self.impairment else []

    def counters(self):
        return self.impairment.counters() if self.impairment else {}


# ---- the nodes' consoles

def wait_cellid(guest, start=0, timeout=BOOT_TIMEOUT):
    line = guest.console.wait_for(said_by("lwf", "lwf: CellID"), timeout, start)
    found = line and re.search(r"CellID ([0-9a-f]{32})", line)
    return found.group(1) if found else None


def run_app(guest, command, timeout=90.0):
    """Types `run COMMAND` and waits for the fiber to end: (exit code or None, its lines)."""
    name = command.split()[0]
    start = guest.console.mark()
    guest.type_line(f"run {command}")
    ended = guest.console.wait_match(rf"fiber {name}#\d+ (exited with (-?\d+)|killed)", timeout, start)
    code = ended.group(2) if ended else None
    return (int(code) if code is not None else None), guest.console.from_fiber(name, start)


def lwfping(guest, cellid, count, size, timeout=120.0, signed=False):
    """(exit code, the summary's match or None, every line lwfping wrote)."""
    code, lines = run_app(guest, f"lwfping {cellid} {count} {size}" + (" signed" if signed else ""), timeout)
    summary = next((m for m in map(SUMMARY.match, lines) if m), None)
    return code, summary, lines


def intact(summary, count):
    return summary is not None and summary.group(1) == summary.group(3) == str(count)


def number(values, key):
    v = values.get(key, "")
    return int(v) if v.isdigit() else None


def drops(guest):
    values = guest.console_bus("/Bus/lwf/drops")
    return {k.rsplit("/", 1)[1]: int(v) for k, v in values.items() if v.isdigit()}


def pool(guest):
    """(buffers at home, held by the Membrane, held by the LWF service, buffers in the pool). The
    UTCP service's own TX buffers, which it holds throughout, count as home: only LWF faults here."""
    time.sleep(1.0)  # the device finishes sending; services hand back what they hold
    v = guest.console_bus("/Bus/net/pool")
    home, membrane, lwf, total, utcp = (number(v, "/Bus/net/pool/" + k)
                                        for k in ("home", "held/membrane", "held/lwf", "buffers", "held/utcp"))
    return (home + utcp if None not in (home, utcp) else None), membrane, lwf, total


# ---- frames on the wire

def lwf_frames(pcap):
    return [(ts, f) for ts, f in read_pcap(pcap) if f[12:14] == b"\x4c\x57"]


def frame_type(frame):
    return frame[14 + OFF_TYPE]


def frames_between(frames, src, dst, ftype):
    s, d = bytes.fromhex(src), bytes.fromhex(dst)
    return [(ts, f) for ts, f in frames if frame_type(f) == ftype and f[14 + OFF_SRC:14 + OFF_SRC + 16] == s
            and f[14 + OFF_DST:14 + OFF_DST + 16] == d]


def with_crc(frame):
    """The frame with its CRC-32C recomputed over the LWF frame (docs/lwf.md, section 6)."""
    body = frame[14:-4]
    return frame[:14] + body + lwf.crc32c(body).to_bytes(4, "big")


def lwfping_plaintext(seq, size):
    """What apps/lwfping sends as message `seq` (its fill())."""
    out = bytearray((seq * 31 + i * 7) & 0xFF for i in range(size))
    out[0:4] = seq.to_bytes(4, "little")
    return bytes(out)


# ---- the checks

def discovery(wire, ids):
    """Opens the wire; node 0's first lwfping finds node 1 unknown and solicits. Returns the
    wall time from that ANNOUNCE to the first DATA frame on the wire, in ms, or None."""
    a, b = wire.guests
    opened = time.time()
    for direction in wire.filters.values():
        direction.closed = False
    code, summary, lines = lwfping(a, ids[1], 1, CLASS_MESSAGES[128])
    report("first_lwfping_after_discovery", code == 0 and intact(summary, 1), " | ".join(lines[-3:]))
    for i, (guest, other) in enumerate(((a, 1), (b, 0))):
        peers = guest.console_bus("/Bus/lwf/peers")
        mac_key = f"/Bus/lwf/peers/{ids[other]}/mac"
        report(f"node{i}_lists_peer", peers.get(mac_key) == node_mac(other),
               f"{mac_key}={peers.get(mac_key)}; peers: {sorted(peers)[:6]}")
        count = guest.console_bus("/Bus/lwf/peer_count").get("/Bus/lwf/peer_count")
        report(f"node{i}_one_peer", count == "1", f"peer_count {count}")
    frames = [(ts, f) for ts, f in lwf_frames(wire.pcap) if ts >= opened]
    solicits = [ts for ts, f in frames_between(frames, ids[0], "ff" * 16, lwf.ANNOUNCE)]
    first_data = [ts for ts, f in frames_between(frames, ids[0], ids[1], lwf.DATA)]
    if not solicits or not first_data:
        report("announce_then_data_on_wire", False, f"{len(solicits)} solicits, {len(first_data)} DATA frames")
        return None
    report("announce_then_data_on_wire", solicits[0] < first_data[0], "the DATA frame came before the ANNOUNCE")
    return (first_data[0] - solicits[0]) * 1000


def every_class_both_ways(wire, ids):
    """Returns the 64 KiB round trips' lwfping summaries (for the frames/s figure)."""
    bigs = []
    for i, guest in enumerate(wire.guests):
        other = ids[1 - i]
        for size in list(CLASS_MESSAGES.values()) + [BIG]:
            count = 2 if size == BIG else 3
            code, summary, lines = lwfping(guest, other, count, size)
            report(f"node{i}_lwfping_{size}_bytes", code == 0 and intact(summary, count), " | ".join(lines[-3:]),
                   note=summary and f"rtt avg {summary.group(5)} ms")
            if size == BIG and summary and summary.group(5):
                bigs.append(float(summary.group(5)))
    # Signed on request (LWF_SIGNED): a message of each class a signature fits, both ways; the
    # echo answers signed too.
    for i, guest in enumerate(wire.guests):
        for size in (CLASS_MESSAGES[512], CLASS_MESSAGES[1350] - 64):
            code, summary, lines = lwfping(guest, ids[1 - i], 2, size, signed=True)
            report(f"node{i}_lwfping_{size}_bytes_signed", code == 0 and intact(summary, 2), " | ".join(lines[-3:]))
    # A message whose plaintext the test knows, to look for on the wire: lwfecho sends it back.
    code, lines = run_app(wire.guests[1], f"lwfsend {ids[0]} {ECHO_SERVICE} {CANARY}")
    report("canary_sent", code == 0, " | ".join(lines[-2:]))
    time.sleep(1.0)
    return bigs


def wire_shows_classes_no_plaintext(wire):
    frames = lwf_frames(wire.pcap)
    sizes = {len(f) - 14 for _, f in frames}
    report("wire_frames_are_class_sizes", sizes <= set(lwf.CLASSES), f"sizes seen: {sorted(sizes)}")
    data_classes = {len(f) - 14 for _, f in frames if frame_type(f) == lwf.DATA}
    report("wire_every_data_class", data_classes == set(lwf.CLASSES), f"DATA classes seen: {sorted(data_classes)}")
    report("wire_announces_seen", any(frame_type(f) == lwf.ANNOUNCE for _, f in frames), "no ANNOUNCE")
    signed = {len(f) - 14 for _, f in frames if frame_type(f) == lwf.DATA and f[14 + 3] & lwf.SIGNED
              and not f[14 + 3] & lwf.FRAGMENTED}
    report("wire_signed_data_in_each_class_a_signature_fits", signed == {512, 1350},
           f"signed unfragmented DATA classes seen: {sorted(signed)}")
    known = [CANARY.encode()] + [lwfping_plaintext(seq, 1200)[8:40] for seq in (1, 2, 3)]
    shown = [k for k in known if any(k in f for _, f in frames)]
    report("wire_no_plaintext", not shown and len(frames) > 0, f"visible on the wire: {shown}")


def injected(wire, ids):
    """Frames made here, sent to node 0 straight from the relay's port: each counted by cause."""
    a = wire.guests[0]
    frames = lwf_frames(wire.pcap)
    data = frames_between(frames, ids[1], ids[0], lwf.DATA)
    announces = frames_between(frames, ids[1], "ff" * 16, lwf.ANNOUNCE)
    if not data or not announces:
        report("injection_material", False, f"{len(data)} DATA, {len(announces)} ANNOUNCE frames of node 1 captured")
        return
    captured = data[-1][1]
    node0 = mac(node_mac(0))
    stranger = lwf.Node(os.urandom(32), mac("02:00:00:00:4c:57"))
    forged_dst = bytearray(captured)
    forged_dst[14 + OFF_DST:14 + OFF_DST + 16] = os.urandom(16)
    moved = bytearray(announces[-1][1])
    moved[6:12] = mac("02:00:00:00:00:99")
    bad_crc = bytearray(with_crc(captured))
    bad_crc[-1] ^= 0xFF
    cases = {
        "malformed": ether_frame(node0, stranger.mac, lwf.ETHERTYPE, os.urandom(100)),
        "crc": bytes(bad_crc),
        "replay": captured,
        "unknown_destination": with_crc(bytes(forged_dst)),
        "bad_signature": bytes(moved),
        "unknown_sender": lwf.frame(stranger, node0, bytes.fromhex(ids[0]), lwf.ENCRYPTED, lwf.DATA, ECHO_SERVICE,
                                    1 << 40, b"from nobody", nonce=os.urandom(24), key=os.urandom(32)),
    }
    before = drops(a)
    repeat = 3
    for frame in cases.values():
        for _ in range(repeat):
            wire.ports[0].send(frame)
    time.sleep(1.5)
    after = drops(a)
    for cause in cases:
        delta = after.get(cause, 0) - before.get(cause, 0)
        report(f"injected_{cause}_counted", delta == repeat, f"/Bus/lwf/drops/{cause} went up by {delta}, not {repeat}")
    count = a.console_bus("/Bus/lwf/peer_count").get("/Bus/lwf/peer_count")
    report("injected_no_peer_added", count == "1", f"peer_count {count}")


def impaired(wire, ids, seed):
    """Corruption and duplication, then loss, on the wire; then a clean wire again."""
    a, b = wire.guests
    before = [drops(g) for g in wire.guests]
    impairments = {}
    for (i, j), direction in wire.filters.items():
        impairments[f"{i}->{j}"] = direction.impairment = Impairment(corrupt=0.05, duplicate=0.05, reorder=0.05,
                                                                     seed=seed * 256 + i * 16 + j)
    lwfping(a, ids[1], 3, BIG, timeout=180)
    lwfping(b, ids[0], 10, CLASS_MESSAGES[1350], timeout=180)
    for direction in wire.filters.values():
        direction.impairment = None
    report.info("lwf: relay impairments " + "; ".join(f"{k} {v.counters()}" for k, v in impairments.items()))
    after = [drops(g) for g in wire.guests]
    grew = {c: sum(after[n].get(c, 0) - before[n].get(c, 0) for n in (0, 1)) for c in ("crc", "replay")}
    report("impaired_corrupt_counted_as_crc", grew["crc"] > 0, f"crc drops +{grew['crc']}")
    report("impaired_duplicates_counted_as_replay", grew["replay"] > 0, f"replay drops +{grew['replay']}")
    report.info(f"lwf: corrupt/duplicate/reorder phase: drops {grew}")

    timeouts = drops(b).get("fragment_timeout", 0)
    wire.filters[(0, 1)].impairment = Impairment(loss=0.1, seed=seed)
    lwfping(a, ids[1], 2, BIG, timeout=180)
    wire.filters[(0, 1)].impairment = None
    time.sleep(3.0)  # LWF_REASSEMBLY_TIMEOUT_MS is 2 s
    grew_timeouts = drops(b).get("fragment_timeout", 0) - timeouts
    report("impaired_lost_fragments_timed_out", grew_timeouts > 0, f"fragment_timeout +{grew_timeouts}")
    for i, guest in enumerate(wire.guests):
        busy = guest.console_bus("/Bus/lwf/reassembly_busy").get("/Bus/lwf/reassembly_busy")
        report(f"node{i}_reassembly_slots_free", busy == "0", f"reassembly_busy {busy}")
    for i, guest in enumerate(wire.guests):
        code, summary, lines = lwfping(guest, ids[1 - i], 2, BIG)
        report(f"node{i}_intact_after_impairments", code == 0 and intact(summary, 2), " | ".join(lines[-3:]))


def status_page(guest, ids):
    status, body = guest.get("/", timeout=10)
    page = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    node = page.partition("<h2>LWF node</h2>")[2].partition("</table>")[0]
    peers = page.partition("<h2>LWF peers</h2>")[2].partition("</table>")[0]
    report("status_page_lwf_node", status == 200 and ids[0] in node and "ephemeral" in node,
           f"HTTP {status}; LWF node section: {node[:200]!r}")
    row = next((r for r in peers.split("<tr>") if ids[1] in r), "")
    report("status_page_lwf_peer", all(k in row for k in (node_mac(1), "last_seen_ms", "frames_in", "frames_out",
                                                         "drops")), f"peer row: {row[:300]!r}")


def fault(wire, ids):
    """Node 1 sends node 0's LWF service its fault trigger while node 0 pings and serves HTTP.
    Returns node 0's CellID after the restart (the signer's key: the same as before)."""
    a, b = wire.guests
    baseline = pool(a)
    report("pool_baseline_read", None not in baseline, f"pool {baseline}")
    fibers_before = a.bus_json()
    load = Load(a.http_port, "/", timeout=5)  # a loaded host slows QEMU: no Membrane crash to wait out here
    start = a.console.mark()
    a.type_line(f"run lwfping {ids[1]} 1000 64")
    a.console.wait_for(said_by("lwfping", "64 bytes from"), 30, start)
    code, lines = run_app(b, f"lwfsend {ids[0]} {FAULT_SERVICE} null")
    report("fault_trigger_sent", code == 0, " | ".join(lines[-2:]))
    report("fault_committed", a.console.wait_for(said_by("lwf", "lwf: fault injection: committing \"null\""), 20, start)
           is not None, "node 0's LWF service did not take the trigger")
    report("lwf_killed", a.console.wait_for("fiber lwf#", 20, start) is not None, "no kill of lwf on the console")
    report("lwf_restarted", a.console.wait_for("supervisor: restarted lwf#", 20, start) is not None,
           "no restart of lwf on the console")
    new_id = wait_cellid(a, start, 30)
    report("lwfecho_recvfrom_fails", a.console.wait_for(said_by("lwfecho", "lwfecho: recvfrom:"), 20, start)
           is not None, "lwfecho's recvfrom did not fail")
    # lwfecho waits for the restarted service and opens its socket again (apps/lwfecho).
    report("lwfecho_answers_again", a.console.wait_for(said_by("lwfecho", "lwfecho: answering on LWF service"), 30,
                                                       start) is not None, "lwfecho did not open its socket again")
    ended = a.console.wait_match(r"fiber lwfping#\d+ exited with (-?\d+)", 60, start)
    said = a.console.from_fiber("lwfping", start)
    clear = [l for l in said if l.startswith(f"lwfping: {ids[1]}: ")]
    report("running_lwfping_fails_clearly", ended is not None and ended.group(1) == "1" and clear,
           f"ended: {ended and ended.group(0)}; last lines: {said[-3:]}")
    report("same_cellid_after_restart", new_id == ids[0], f"CellID {new_id}, was {ids[0]}")
    if new_id is None:
        load.stop()
        return None
    for i, (guest, other) in enumerate(((a, ids[1]), (b, new_id))):
        code, summary, lines = lwfping(guest, other, 3, 64)
        report(f"node{i}_lwfping_after_restart", code == 0 and intact(summary, 3), " | ".join(lines[-3:]))
    load.stop()
    report("http_served_throughout", load.errors == 0 and load.ok > 0, f"{load.ok} ok, {load.errors} failed")
    fibers = a.bus_json()
    # httpd serves requests within SNAPSHOT_REUSE_MS (100 ms of guest time) from one listing
    # (apps/httpd/snapshot.h), and this whole sequence can take less: ask again until the
    # listing is newer than the restart
    deadline = time.monotonic() + 5
    while fibers.get("/Bus/fibers/lwf/restarts") != "1" and time.monotonic() < deadline:
        time.sleep(0.2)
        fibers = a.bus_json()
    for name in ("membrane", "httpd"):
        key = f"/Bus/fibers/{name}/restarts"
        report(f"{name}_not_restarted", fibers.get(key) == fibers_before.get(key) == "0", f"{key}={fibers.get(key)}")
    report("lwf_restart_counted", fibers.get("/Bus/fibers/lwf/restarts") == "1", fibers.get("/Bus/fibers/lwf/restarts"))
    home, membrane, lwf_held, total = pool(a)
    home0, membrane0, lwf_held0, total0 = baseline
    report("pool_back_to_baseline", None not in (home, membrane, lwf_held, total) and total == total0 and
           home + membrane + lwf_held == total and lwf_held <= TX_BUFS_PER_PORT and
           home + membrane == home0 + membrane0 and lwf_held == lwf_held0,
           f"home {home0} -> {home}, Membrane {membrane0} -> {membrane}, LWF {lwf_held0} -> {lwf_held}, of {total}")
    return new_id


def sequences_from(pcap, src, since=0.0):
    """(capture time, sequence) of every LWF frame from CellID src on the wire."""
    s = bytes.fromhex(src)
    return [(ts, int.from_bytes(f[14 + OFF_SEQUENCE:14 + OFF_SEQUENCE + 8], "big")) for ts, f in lwf_frames(pcap)
            if ts >= since and f[14 + OFF_SRC:14 + OFF_SRC + 16] == s]


def key_file_restart(wire, ids, key_cellid):
    """Node 0 sends node 1 (booted with a key file) its LWF fault trigger: node 1's identity and
    its peers' trust in it survive the restart (issue 14)."""
    a, b = wire.guests
    replays_before = drops(a).get("replay", 0)
    start = b.console.mark()
    crashed_at = time.time()
    code, lines = run_app(a, f"lwfsend {ids[1]} {FAULT_SERVICE} null")
    report("keyfile_fault_trigger_sent", code == 0, " | ".join(lines[-2:]))
    report("keyfile_lwf_restarted", b.console.wait_for("supervisor: restarted lwf#", 30, start) is not None,
           "no restart of node 1's lwf on the console")
    after = wait_cellid(b, start, 60)
    report("keyfile_cellid_kept_after_restart", after == key_cellid == ids[1],
           f"after the restart {after}, the key file's {key_cellid}, before {ids[1]}")
    kind = b.console_bus("/Bus/lwf/identity").get("/Bus/lwf/identity", "")
    report("keyfile_identity_still_persistent", kind.startswith("persistent"), f"/Bus/lwf/identity={kind!r}")
    for i, (guest, other) in enumerate(((a, ids[1]), (b, ids[0]))):
        code, summary, lines = lwfping(guest, other, 3, 64)
        report(f"keyfile_node{i}_lwfping_after_restart", code == 0 and intact(summary, 3), " | ".join(lines[-3:]))
    count = a.console_bus("/Bus/lwf/peer_count").get("/Bus/lwf/peer_count")
    report("keyfile_node0_same_single_peer", count == "1", f"node 0's peer_count {count}")
    report("keyfile_no_replay_counted", drops(a).get("replay", 0) == replays_before,
           f"node 0's replay drops {replays_before} -> {drops(a).get('replay', 0)}")
    frames = sequences_from(wire.pcap, ids[1])
    earlier = [seq for ts, seq in frames if ts < crashed_at]
    later = [seq for ts, seq in frames if ts > crashed_at]
    report("keyfile_sequence_continues_above", bool(earlier and later) and later[0] > max(earlier),
           f"highest before the fault {hex(max(earlier, default=0))}, first after {hex(later[0]) if later else None}")


def make_key_file(logdir):
    """A key file for node 1 from the host tool; its CellID (None if it failed)."""
    path = os.path.join(logdir, "node1.key")
    if os.path.exists(path):
        os.unlink(path)  # the tool never overwrites a key file
    out = subprocess.run(["build/nexus-keygen", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=30).stdout.decode()
    found = re.search(r"^CellID:\s+([0-9a-f]{32})$", out, re.M)
    return path, found.group(1) if found else None


def boot(qemu, kernel, logdir, key_file):
    filters = {(0, 1): LwfOnly(), (1, 0): LwfOnly()}
    bootargs = f"manifest=lwf watchdog={WATCHDOG_MS}"
    pcap = os.path.join(logdir, "wire.pcap")
    wire = Wire(qemu, [dict(kernel=kernel, bootargs=bootargs, user=UserNet(tcp=[80], restrict=True)),
                       dict(kernel=kernel, bootargs=bootargs, extra_args=("-initrd", key_file))],
                logdir, impairments=lambda i, j: filters[(i, j)], pcap=pcap)
    wire.filters, wire.pcap = filters, pcap
    return wire


def ready(wire):
    """Both CellIDs once each node's LWF service and echo run and node 0 serves HTTP; else None."""
    ids = [wait_cellid(g) for g in wire.guests]
    up = all(ids) and all(g.console.wait_for(said_by("lwfecho", "lwfecho: answering"), BOOT_TIMEOUT) for g in wire.guests)
    up = up and wire.guests[0].console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
    return ids if up else None


def bench(wire, ids, rounds=5):
    """For make bench (--bench): BENCH line with the ANNOUNCE-to-first-frame time and the LWF
    frames/s of 64 KiB round trips, each way."""
    first = discovery(wire, ids)
    figures = [f"announce_to_first_frame_ms={first:.1f}"] if first is not None else []
    for i, guest in enumerate(wire.guests):
        _, summary, _ = lwfping(guest, ids[1 - i], rounds, BIG)
        if summary and summary.group(5):
            figures.append(f"node{i}_frames_per_s={frames_per_second(float(summary.group(5))):.0f}")
            figures.append(f"node{i}_rtt_64k_ms={float(summary.group(5)):.1f}")
    print("BENCH " + " ".join(figures), flush=True)


def frames_per_second(rtt_ms):
    """A 64 KiB round trip is 64 fragments each way."""
    return 2 * (BIG // 1024) / (rtt_ms / 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    ap.add_argument("--logdir", default="build/test-logs/lwf")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--bench", action="store_true", help="only measure, for make bench (a BENCH line)")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    key_file, key_cellid = make_key_file(args.logdir)
    with boot(args.qemu, args.kernel, args.logdir, key_file) as wire:
        ids = ready(wire)
        report("both_nodes_up", ids is not None, "a node's LWF service, lwfecho or node 0's httpd did not start")
        if not ids:
            return 1
        report.info(f"lwf: CellIDs {ids[0]} (node 0), {ids[1]} (node 1)")
        if args.bench:
            bench(wire, ids)
            return 0
        for i, guest in enumerate(wire.guests):  # node 1 booted with a key file
            kind = guest.console_bus("/Bus/lwf/identity").get("/Bus/lwf/identity", "")
            report(f"node{i}_identity_published", kind.startswith("persistent" if i else "ephemeral"),
                   f"/Bus/lwf/identity={kind!r}")
        report("node1_cellid_is_the_key_files", key_cellid is not None and ids[1] == key_cellid,
               f"node 1 {ids[1]}, the key file's {key_cellid}")
        first = discovery(wire, ids)
        if first is not None:
            report.info(f"lwf: ANNOUNCE to first DATA frame {first:.1f} ms")
        bigs = every_class_both_ways(wire, ids)
        if bigs:
            report.info(f"lwf: 64 KiB round trip {min(bigs):.1f} ms: {frames_per_second(min(bigs)):.0f} frames/s")
        wire_shows_classes_no_plaintext(wire)
        injected(wire, ids)
        impaired(wire, ids, args.seed)
        status_page(wire.guests[0], ids)
        fault(wire, ids)
        key_file_restart(wire, ids, key_cellid)
        report("kernels_still_running", all(g.alive() and g.console.count("PANIC") == 0 for g in wire.guests),
               "QEMU exited or panicked")
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
