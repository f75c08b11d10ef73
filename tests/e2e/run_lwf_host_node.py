"""lwf_host_node: two Nexus guests and the Linux host node (build/lwf-node) on one wire.

The wire peer's relay joins the guests' NICs and the host node's UDP port (all -netdev dgram
style, tests/harness/wire.py); the relay writes every frame to a pcap. The host node has a key
file from nexus-keygen. Checked:
  - each side learns the others from signed ANNOUNCEs (the host node's `peer` lines, the guests'
    lwfping getting answers);
  - guest -> guest and guest -> host: `run lwfping CELLID 2 SIZE` for sizes that fill each frame
    class (128, 512, 1350) and a fragmented 64 KiB message, every answer intact;
  - host -> each guest: `lwf-node ping CELLID 2 16,300,1200,65536`, every answer intact;
  - the host node dropped nothing for a cryptographic, replay or format reason;
  - the capture holds encrypted DATA of every class and fragments for every ordered pair;
  - the Wireshark dissector (tools/wireshark/lwf.lua) reads the capture: every LWF frame, CRC good;
  - first, without guests: bad arguments refused (exit 2, usage); `lwf-node send` of a 64 KiB file to another host node's `recv`,
    written out intact; SIGUSR1 prints the counters.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import threading
import time

from tests.harness.console import said_by
from tests.harness.net import free_port
from tests.harness.report import Report
from tests.harness.wire import Wire
from tests.tools import lwf_dissector
from tools.wirepeer import DgramPort, Relay, read_pcap

SIZES = (16, 300, 1200, 65536)  # plaintext that lands in class 128, 512, 1350, and 64 fragments
COUNT = 2
LWFPING_TIMEOUT = 90
# The drops that mean something is wrong between honest nodes; other_ethertype (the guests' DHCP and ARP
# on the wire) and other_mac (unicast between the guests, flooded by the relay) are expected.
BAD_DROPS = ("malformed", "crc", "unknown_destination", "aead", "bad_signature", "replay",
             "fragment_overflow", "fragment_duplicate", "fragment_timeout", "stray", "no_service")

report = Report("lwf_host_node")


class HostNode:
    """build/lwf-node on the relay's extra port; its output lines kept as they come."""

    def __init__(self, binary, key, port, qemu_side_port, args, log):
        self.cmd = [binary, "--key", key, "--dgram", f"{qemu_side_port}:{port.local_port}"] + list(args)
        self.lines = []
        self.log = open(log, "a", encoding="utf-8")
        self.log.write("$ " + " ".join(self.cmd) + "\n")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self.log.write(line)
            self.log.flush()

    def wait_line(self, rx, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = re.search(rx, line)
                if m:
                    return m
            if self.proc.poll() is not None and not self.thread.is_alive():
                break
            time.sleep(0.1)
        return None

    def finish(self, timeout, stop=False):
        if stop and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.thread.join(5)
        self.log.close()
        return rc


def drops_of(lines):
    line = next((l for l in reversed(lines) if l.startswith("drops ")), "")
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def guest_cellid(guest):
    line = guest.console.wait_for(said_by("lwf", "lwf: CellID"), 60)
    m = re.search(r"CellID ([0-9a-f]{32})", line or "")
    return m.group(1) if m else None


def lwfping(guest, name, target_name, target, size):
    start = guest.console.mark()
    guest.type_line(f"run lwfping {target} {COUNT} {size}")
    line = guest.console.wait_for(said_by("lwfping", f"lwfping: {COUNT} sent"), LWFPING_TIMEOUT, start=start)
    ok = line is not None and f"{COUNT} answered, {COUNT} intact" in line
    report(f"{name}_to_{target_name}.lwfping_{size}", ok, line or f"no lwfping summary in {LWFPING_TIMEOUT} s")
    # One lwfping at a time: the console refuses `run` while the last one is still exiting.
    guest.console.wait_for("fiber lwfping#", 20, start=start)


def lwf_data_frames(pcap):
    """(src CellID hex, dst CellID hex, class size, fragmented) of every LWF DATA frame."""
    out = []
    for _, frame in read_pcap(pcap):
        lwf = frame[14:]
        if frame[12:14] != b"\x4c\x57" or len(lwf) < 84 or lwf[4] != 1:
            continue
        out.append((lwf[8:24].hex(), lwf[24:40].hex(), len(lwf), bool(lwf[3] & 0x08)))
    return out


def fresh_host_key(report, keygen, key):
    """A new key file for the host node from nexus-keygen; its CellID, or None (reported)."""
    if os.path.exists(key):
        os.unlink(key)
    made = subprocess.run([keygen, key], stdout=subprocess.PIPE, text=True)
    host_id = re.search(r"CellID:\s+([0-9a-f]{32})", made.stdout)
    return host_id.group(1) if report("host_key", made.returncode == 0 and host_id, made.stdout) else None


def refuses(report, binary, argvs):
    """Each argument list is refused with exit 2 and the usage; the check is named by its words
    (a CellID left out)."""
    for bad in argvs:
        proc = subprocess.run([binary] + bad, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        report(f"refuses.{'_'.join(re.sub(r'[^a-z0-9]', '', w) for w in bad if not w.startswith('00'))}",
               proc.returncode == 2 and "usage:" in proc.stderr, f"exit {proc.returncode}: {proc.stderr[:200]}")


def check_send_recv(binary, logdir):
    """Two host nodes on a relay of their own: a 65536-byte file (64 fragments) from one to a
    service of the other, written out byte for byte; SIGUSR1 makes the waiting one print its
    counters."""
    qemu_sides = [free_port(socket.SOCK_DGRAM) for _ in range(2)]
    ports = [DgramPort(0, q) for q in qemu_sides]
    stop = threading.Event()
    relay = threading.Thread(target=Relay(ports).run, kwargs=dict(stop_event=stop), daemon=True)
    relay.start()
    sent, got = os.path.join(logdir, "message.bin"), os.path.join(logdir, "received.bin")
    with open(sent, "wb") as f:
        f.write(bytes((i * 7 + 3) % 251 for i in range(65536)))
    if os.path.exists(got):
        os.unlink(got)
    log = os.path.join(logdir, "send-recv.log")
    try:
        recv = subprocess.Popen([binary, "--dgram", f"{qemu_sides[0]}:{ports[0].local_port}", "--seconds", "30",
                                 "recv", "4000", got], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = recv.stdout.readline()
        m = re.search(r"cellid=([0-9a-f]{32})", first)
        recv.send_signal(signal.SIGUSR1)
        send = subprocess.run([binary, "--dgram", f"{qemu_sides[1]}:{ports[1].local_port}", "send",
                               m.group(1) if m else "0" * 32, "4000", sent],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        out, _ = recv.communicate(timeout=60)
        with open(log, "w") as f:
            f.write(first + out + send.stdout)
    finally:
        stop.set()
        relay.join()
        for port in ports:
            port.close()
    report("send_recv.sender", send.returncode == 0 and "bytes=65536 frames=64" in send.stdout, send.stdout[-300:])
    same = os.path.exists(got) and open(got, "rb").read() == open(sent, "rb").read()
    report("send_recv.file_intact", recv.returncode == 0 and same and "bytes=65536" in out, out[-300:])
    report("send_recv.counters_on_sigusr1", out.count("drops malformed=") >= 2, "no drops line before the final one")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--lwf-node", default="build/lwf-node")
    ap.add_argument("--keygen", default="build/nexus-keygen")
    ap.add_argument("--logdir", default="build/test-logs/lwf-host-node")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    key = os.path.join(args.logdir, "host.key")
    host_id = fresh_host_key(report, args.keygen, key)
    if not host_id:
        return 1
    refuses(report, args.lwf_node, (["ping", "xyz"], ["--dgram", "1:2", "ping", "00" * 16, "1", "7"],
                                    ["--dgram", "1:2", "recv", "7", "-"],
                                    ["--dgram", "1:2", "--mac", "01:00:00:00:00:01", "serve"], ["--dgram", "1", "serve"]))
    check_send_recv(args.lwf_node, args.logdir)
    pcap = os.path.join(args.logdir, "wire.pcap")
    host_log = os.path.join(args.logdir, "host-node.log")
    open(host_log, "w").close()
    qemu_side = free_port(socket.SOCK_DGRAM)  # what lwf-node binds; the relay's port sends there
    host_port = DgramPort(0, qemu_side)
    guests = [dict(kernel="build/nexus.elf", timeout=900)] * 2
    try:
        with Wire(args.qemu, guests, args.logdir, pcap=pcap, extra_ports=[host_port]) as wire:
            serve = HostNode(args.lwf_node, key, host_port, qemu_side, ["serve"], host_log)
            report("host_node_starts", serve.wait_line(rf"^node cellid={host_id} .*identity=persistent", 10),
                   "no 'node cellid=... identity=persistent' line")
            ids = [guest_cellid(g) for g in wire.guests]
            if not report("guests_have_cellids", all(ids), f"{ids}"):
                serve.finish(10, stop=True)
                return 1
            for i, cid in enumerate(ids):
                report(f"host_learns_guest{i}", serve.wait_line(rf"^peer cellid={cid} ", 30),
                       f"no ANNOUNCE from guest {i} accepted in 30 s")
            names = {ids[0]: "guest0", ids[1]: "guest1", host_id: "host"}
            for g, me in ((wire.guests[0], ids[0]), (wire.guests[1], ids[1])):
                for target in (t for t in names if t != me):
                    for size in SIZES:
                        lwfping(g, names[me], names[target], target, size)
            serve.finish(15, stop=True)
            drops = drops_of(serve.lines)
            bad = {k: v for k, v in drops.items() if k in BAD_DROPS and v}
            report("host_serve_no_bad_drops", drops and not bad, f"drops {bad or 'line missing'}")
            echoed = re.search(r"delivered=(\d+)", next((l for l in serve.lines if l.startswith("counters")), ""))
            want = 2 * COUNT * len(SIZES)
            report("host_echoed_every_message", echoed and int(echoed.group(1)) >= want,
                   f"delivered {echoed and echoed.group(1)}, want >= {want}")
            # The same identity again, as a client: its sequence numbers continue above the
            # ones the guests saw (they start at the second the process started).
            time.sleep(1.2)
            for i, cid in enumerate(ids):
                sizes = ",".join(map(str, SIZES))
                client = HostNode(args.lwf_node, key, host_port, qemu_side,
                                  ["--timeout", "10000", "ping", cid, str(COUNT), sizes], host_log)
                rc = client.finish(240)
                summary = next((l for l in client.lines if l.startswith("ping ")), "")
                n = COUNT * len(SIZES)
                report(f"host_to_guest{i}.ping", rc == 0 and f"sent={n} answered={n} intact={n}" in summary,
                       f"exit {rc}: {summary or client.lines[-3:]}")
                bad = {k: v for k, v in drops_of(client.lines).items() if k in BAD_DROPS and v}
                report(f"host_to_guest{i}.no_bad_drops", not bad, f"drops {bad}")
                time.sleep(1.2)
    finally:
        host_port.close()
    frames = lwf_data_frames(pcap)
    for src in names:
        for dst in names:
            if src == dst:
                continue
            seen = {size for s, d, size, _ in frames if (s, d) == (src, dst)}
            fragments = sum(1 for s, d, _, frag in frames if (s, d) == (src, dst) and frag)
            report(f"capture.{names[src]}_to_{names[dst]}", seen >= {128, 512, 1350} and fragments >= 64,
                   f"classes {sorted(seen)}, {fragments} fragments")
    lwf_dissector.check_capture(report, pcap)
    return report.exit_status()


if __name__ == "__main__":
    raise SystemExit(main())
