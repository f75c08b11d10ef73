"""Busy is not runaway: a flood of malformed TCP from the wire while HTTP is served.

    python3 -m tests.e2e.run_qemu_flood --qemu "QEMU COMMAND"   (from the project root)

Boots the test kernel with the default watchdog on a QEMU hub: the user network (restricted,
the guest's port 80 forwarded to loopback) and a wire peer's port. Through the peer, a made-up
host on the guest's subnet sends FRAMES malformed TCP segments at RATE frames/s
(tests/harness/tcp_flood.py: RST/FIN storms, data and HTTP requests without a handshake, bad
options, offsets and checksums), most of which the Membrane answers with a RST. Meanwhile a
client sends GET /bytes/10 every GET_EVERY_S seconds on fresh connections. RATE is above what
the guest takes in, so the Membrane's RX ring never runs empty. Pass: the watchdog
kills nothing (the Membrane works through the flood in bounded batches and yields between
them), every GET is answered, the Membrane answered the flood, and it still serves afterwards.
"""
import argparse
import http.client
import ipaddress
import os
import random
import socket
import sys
import threading
import time

from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.harness.http_probe import http_get
from tests.harness.net import HubNet, UserNet, free_port
from tests.harness.report import Report
from tests.harness.ping import ETH_IPV4, PEER_MAC, ipv4_packet
from tests.harness.tcp_flood import ACK, HTTP_REQUEST, PSH, TCP_PROTO, Flood, tcp_segment
from tools.wirepeer import DgramPort, ether_frame, mac

BOOT_TIMEOUT = 90.0
FRAMES, RATE = 100000, 20000
GET_EVERY_S, GET_TIMEOUT_S = 0.25, 10.0
GUEST_MAC, GUEST_ADDR, FLOOD_ADDR = "52:54:00:12:34:56", "10.0.2.15", "10.0.2.77"
STALL_FRAMES = 150  # more than the device's RX queue (128): the host's socket holds the rest
RING_FULL = "/Bus/net/switch/port/membrane/rx_ring_full"
TCP_CHECKSUM = "/Bus/net/membrane/drop/tcp_checksum"

report = Report("flood")


class Getter:
    """GET /bytes/10 every GET_EVERY_S on a fresh connection until stopped; .latencies of the
    answered ones, .failures of the others."""

    def __init__(self, port):
        self.port = port
        self.latencies, self.failures = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                status, body = http_get(self.port, "/bytes/10", GET_TIMEOUT_S)
                if status == 200 and len(body) == 10:
                    self.latencies.append(time.monotonic() - start)
                else:
                    self.failures.append(f"status {status}, {len(body)} bytes")
            except (OSError, http.client.HTTPException) as e:
                self.failures.append(f"{type(e).__name__}: {e}")
            self._stop.wait(max(0.0, GET_EVERY_S - (time.monotonic() - start)))

    def stop(self):
        self._stop.set()
        self._thread.join()


def ip4(text):
    return ipaddress.IPv4Address(text).packed


def stall(guest, peer):
    """The guest stopped while STALL_FRAMES arrive, then let run: the burst fills the device's
    queue (128) at once, and the Membrane's ring must take all of it. With a 64-slot ring, half
    of every such burst was dropped (ring_full): on a loaded host, a client's SYN among them,
    which QEMU's user network resends only 6 s later. Each frame is a segment with a bad
    checksum, counted by lwIP and not answered."""
    bus = guest.bus_json()
    full, counted = (int(bus.get(k, 0)) for k in (RING_FULL, TCP_CHECKSUM))
    rng = random.Random(7)
    guest_mac, guest_ip, peer_ip = mac(GUEST_MAC), ip4(GUEST_ADDR), ip4(FLOOD_ADDR)
    guest.pause()
    try:
        for i in range(STALL_FRAMES):
            segment = tcp_segment(peer_ip, guest_ip, rng.randrange(1024, 65536), 80, rng.getrandbits(32),
                                  rng.getrandbits(32), PSH | ACK, HTTP_REQUEST, good_checksum=False)
            peer.send(ether_frame(guest_mac, PEER_MAC, ETH_IPV4, ipv4_packet(peer_ip, guest_ip, TCP_PROTO, segment, i)))
        time.sleep(0.3)
    finally:
        guest.resume()
    time.sleep(2.0)
    bus = guest.bus_json()
    full, counted = int(bus.get(RING_FULL, 0)) - full, int(bus.get(TCP_CHECKSUM, 0)) - counted
    report.info(f"stall: {STALL_FRAMES} frames while the guest stood still: {counted} reached lwIP, "
                f"{full} dropped for a full ring")
    report("stall_burst_taken_whole", full == 0 and counted == STALL_FRAMES,
           f"Membrane ring_full +{full}, tcp_checksum +{counted} of {STALL_FRAMES}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    ap.add_argument("--logdir", default="build/test-logs/flood")
    ap.add_argument("--frames", type=int, default=FRAMES)
    ap.add_argument("--rate", type=int, default=RATE)
    args = ap.parse_args()

    peer = DgramPort(0, free_port(socket.SOCK_DGRAM))
    net = UserNet(tcp=[80], restrict=True)
    guest = Guest(args.qemu, HubNet(net, peer), kernel=args.kernel, log=os.path.join(args.logdir, "console.log"))
    try:
        listening = guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("boot_httpd_listening", listening is not None, "no 'httpd: listening' on the console")
        if listening is None:
            return 1
        getter = Getter(guest.http_port)
        flood = Flood(peer, GUEST_MAC, GUEST_ADDR, FLOOD_ADDR, args.frames, args.rate)
        started = time.monotonic()
        flood.wait()
        flooded_s = time.monotonic() - started
        time.sleep(1.0)  # the last RSTs and GETs
        getter.stop()
        flood.stop()
        report.info(f"flood: {flood.sent} frames in {flooded_s:.1f} s ({flood.sent / flooded_s:.0f}/s), "
                    f"{flood.rsts_received} RSTs back, {flood.arp_answered} ARP requests answered")
        worst = max(getter.latencies, default=0.0)
        report.info(f"flood: {len(getter.latencies)} GETs answered, worst {worst * 1000:.0f} ms; "
                    f"{len(getter.failures)} not")

        bus = guest.bus_json()
        drops = {k.rsplit("/", 1)[1]: v for k, v in sorted(bus.items())
                 if k.startswith("/Bus/net/switch/drop/") and v not in ("", "0")}
        report.info(f"flood: NetSwitch drops {drops or 'none'}; Membrane rx_frames "
                    f"{bus.get('/Bus/net/membrane/rx_frames')}, rx_no_memory {bus.get('/Bus/net/membrane/rx_no_memory')}")
        kills = [l for l in guest.console.since(0) if "killed: runaway" in l]
        report("no_runaway_kill", not kills, kills[:3])
        report("membrane_never_restarted", bus.get("/Bus/fibers/membrane/restarts") == "0"
               and bus.get("/Bus/fibers/membrane/state") == "alive",
               f"restarts={bus.get('/Bus/fibers/membrane/restarts')} state={bus.get('/Bus/fibers/membrane/state')}")
        # Above the guest's rate the NetSwitch drops frames, a client's SYN among them, so a GET
        # may wait for a retransmission: the test asks for an answer, not for speed.
        report("every_get_answered", not getter.failures and getter.latencies,
               f"{len(getter.failures)} of {len(getter.failures) + len(getter.latencies)} failed: {getter.failures[:3]}")
        # Every segment that is not itself a RST and passes the checksum gets one back; a
        # stack that shed the flood by dying or stalling answers far fewer.
        report("flood_answered", flood.rsts_received >= flood.sent // 4,
               f"{flood.rsts_received} RSTs for {flood.sent} frames")
        stall(guest, peer)
        try:
            after = http_get(guest.http_port, "/bytes/10", GET_TIMEOUT_S)[0]
        except (OSError, http.client.HTTPException) as e:
            after = e
        report("serves_after_flood", after == 200, after)
        report("kernel_still_running", guest.alive() and guest.console.count("PANIC") == 0, "QEMU exited or panicked")
    finally:
        guest.stop()
        peer.close()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
