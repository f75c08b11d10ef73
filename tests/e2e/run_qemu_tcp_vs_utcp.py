"""UTCP against lwIP's TCP between the same two QEMU nodes, for make bench (and a check of the
static IPv4 address a node takes from its bootargs, and of a fetch over IPv6 link-local).

    python3 -m tests.e2e.run_qemu_tcp_vs_utcp --qemu "QEMU COMMAND"   (from the project root)

Both nodes boot the test kernel with a static address on the wire (bootargs ipv4=10.77.0.N/24:
no DHCP server is there) and no user network. The relay passes IPv4, ARP and IPv6 as well as UTCP,
and the same seeded loss (no duplication or reordering) applies to all of them. Node 1 fetches
16 MiB from node 0's httpd twice, one way, at 0 % and at 5 % loss:
  - over TCP: Debian's curl, `-o /dev/null`, its own figures (-w size_download, time_total; a
    transfer curl's --max-time cut short still gives its goodput, and is not whole);
  - over UTCP: utcpget by node 0's CellID (httpd's UTCP stream 80).
The relay counts what node 1, the receiver, sends back meanwhile: TCP segments (its ACKs) and
UTCP's reports (NACK + WINDOW), per MiB received; and the frames node 1's own NetSwitch
dropped for the receiving service meanwhile (ring full or over budget: loss the relay did not
make).
Checks (PASS/FAIL for tests/run.py and this run's own reading): both nodes say `static` under
/Bus/net/ipv4/state with their address, node 1's curl of http://[node 0's link-local]/ gets a
200 (the Membrane gives a zoneless link-local address its one link), and the lossless TCP
transfer is whole.
Output: PASS/FAIL lines, then one BENCH line for tools/bench.py.
"""
import argparse
import os
import re
import sys
import time

from tests.e2e.run_qemu_utcp import MIB, UtcpOnly, WATCHDOG_MS, bus_number, httpd_goodput, ready, run_app
from tests.harness.report import Report
from tests.harness.wire import Wire
from tools.wirepeer import Impairment, PcapWriter

ADDRESSES = ["10.77.0.1", "10.77.0.2"]
PREFIX = 24
PASSED = (b"\x08\x00", b"\x08\x06", b"\x86\xdd")  # IPv4, ARP, IPv6: besides UTCP's 0x88B5
TCP_MAX_S = 60  # curl's --max-time: lwIP's TCP at 5 % loss needs minutes for 16 MiB; make bench must end
CURL_FIGURES = re.compile(r"^(\d+),(\d+(?:\.\d+)?)$")  # -w: size_download,time_total

report = Report("tcp_vs_utcp")


class UtcpAndIpv4(UtcpOnly):
    """UtcpOnly that also passes IPv4 and ARP, through the same impairment, and counts the TCP
    segments seen (before any impairment) in .tcp_segments."""

    def __init__(self):
        super().__init__()
        self.tcp_segments = 0

    def apply(self, frame):
        if len(frame) < 14 or frame[12:14] not in PASSED:
            return super().apply(frame)
        if frame[12:14] == PASSED[0] and len(frame) > 23 and frame[23] == 6:
            self.tcp_segments += 1
        return self.impairment.apply(frame) if self.impairment else [frame]


def boot(qemu, kernel, logdir):
    filters = {(0, 1): UtcpAndIpv4(), (1, 0): UtcpAndIpv4()}
    pcap = PcapWriter(os.path.join(logdir, "wire.pcap"), snaplen=96)
    nodes = [dict(kernel=kernel, bootargs=f"watchdog={WATCHDOG_MS} ipv4={a}/{PREFIX}") for a in ADDRESSES]
    wire = Wire(qemu, nodes, logdir, impairments=lambda i, j: filters[(i, j)], pcap=pcap)
    wire.filters = filters
    return wire


def static_addresses(wire):
    for node, guest in enumerate(wire.guests):
        bus = guest.console_bus("/Bus/net/ipv4")
        state, addr = bus.get("/Bus/net/ipv4/state"), bus.get("/Bus/net/ipv4/addr")
        report(f"node{node}_static_ipv4", state == "static" and addr == ADDRESSES[node],
               f"state {state}, addr {addr}")


def link_local_fetch(wire):
    """Node 1's curl of node 0's httpd at its IPv6 link-local address, written without a zone:
    the Membrane's one link is the zone (membrane/sockets.c)."""
    deadline = time.monotonic() + 20
    while True:  # published "ADDR (tentative)" until duplicate address detection ends
        addr = wire.guests[0].console_bus("/Bus/net/ipv6").get("/Bus/net/ipv6/linklocal") or ""
        if "(" not in addr or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not addr.lower().startswith("fe80:") or "(" in addr:
        report("link_local_fetch", False, f"node 0 has no link-local address: {addr}")
        return
    code, lines = run_app(wire.guests[1], "curl", f"-sm20 -o/dev/null -w%{{http_code}}\\n http://[{addr}]/bytes/1024", 60)
    report("link_local_fetch", code == 0 and any(l.strip() == "200" for l in lines),
           f"curl http://[{addr}]/ exit {code}: {lines[-3:]}")


def set_loss(wire, seed, loss):
    for (i, j), direction in wire.filters.items():
        direction.impairment = Impairment(loss=loss, seed=seed * 256 + i * 16 + j) if loss else None


def back_from_receiver(wire):
    """(TCP segments, UTCP NACK + WINDOW frames) node 1 has sent so far."""
    d = wire.filters[(1, 0)]
    return d.tcp_segments, d.types[5] + d.types[6]


def receiver_drops(wire, port):
    """Frames node 1's NetSwitch dropped so far for its port (membrane or utcp), ring full or over
    budget: loss the relay did not make, a receiver that could not keep up."""
    return sum(bus_number(wire.guests[1], f"/Bus/net/switch/port/{port}/{cause}") or 0
               for cause in ("rx_ring_full", "rx_over_budget"))


def tcp_goodput(wire, size):
    """Node 1's curl of size bytes from node 0's httpd: (MB/s, bytes received, whole) or None."""
    # Terse: the console's line holds 95 characters (kernel/monitor.c).
    args = f"-sm{TCP_MAX_S} -o/dev/null -w%{{size_download}},%{{time_total}}\\n http://{ADDRESSES[0]}/bytes/{size}"
    code, lines = run_app(wire.guests[1], "curl", args, TCP_MAX_S + 60)
    found = next((m for m in map(CURL_FIGURES.match, (l.strip() for l in lines)) if m), None)
    if not found or float(found.group(2)) <= 0:
        report.info(f"tcp_vs_utcp: curl exit {code}: {lines[-3:]}")
        return None
    got = int(found.group(1))
    return got / 1e6 / float(found.group(2)), got, code == 0 and got == size


def measure(wire, ids, seed, loss, size):
    """Both transfers at one loss: a dict of figures, each None when it failed."""
    set_loss(wire, seed, loss)
    tcp_before, _ = back_from_receiver(wire)
    dropped = receiver_drops(wire, "membrane")
    tcp = tcp_goodput(wire, size)
    tcp_dropped = receiver_drops(wire, "membrane") - dropped
    tcp_after, utcp_before = back_from_receiver(wire)
    dropped = receiver_drops(wire, "utcp")
    utcp = httpd_goodput(wire, ids, size)
    utcp_dropped = receiver_drops(wire, "utcp") - dropped
    _, utcp_after = back_from_receiver(wire)
    set_loss(wire, seed, 0)
    received_mib = (tcp[1] if tcp else 0) / MIB
    return {"tcp_mb_s": tcp and tcp[0], "tcp_whole": tcp and tcp[2], "tcp_mib_received": tcp and received_mib,
            "tcp_acks_per_mib": (tcp_after - tcp_before) / received_mib if received_mib else None,
            "tcp_receiver_drops": tcp_dropped, "utcp_mb_s": utcp,
            "utcp_reports_per_mib": (utcp_after - utcp_before) / (size / MIB) if utcp else None,
            "utcp_receiver_drops": utcp_dropped}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    ap.add_argument("--logdir", default="build/test-logs/tcp-vs-utcp")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--size-mib", type=int, default=16)
    ap.add_argument("--losses", default="0,5", help="loss percentages to measure at, in order")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    size = args.size_mib * MIB
    figures = {}
    with boot(args.qemu, args.kernel, args.logdir) as wire:
        ids = ready(wire)
        report("both_nodes_up", ids is not None, "a node's UTCP service, utcpsink or httpd did not start")
        if not ids:
            return 1
        static_addresses(wire)
        link_local_fetch(wire)
        for loss in (int(v) for v in args.losses.split(",")):
            m = measure(wire, ids, args.seed, loss / 100, size)
            if loss == 0:
                report("tcp_lossless_whole", bool(m["tcp_whole"]), f"curl: {m}")
                report("utcp_lossless_whole", m["utcp_mb_s"] is not None, f"utcpget: {m}")
            figures.update({f"loss_{loss}pct_{k}": v for k, v in m.items() if v is not None})
    print("BENCH " + " ".join(f"{k}={float(v):.2f}" for k, v in figures.items()), flush=True)
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
