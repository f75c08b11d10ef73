"""A handshake across a stall under a SYN flood: the client's last ACK waits behind spoofed SYNs.

    python3 -m tests.e2e.run_qemu_stall --qemu "QEMU COMMAND"   (from the project root)

Boots the product kernel with its NIC behind the relay of the hostile-wire test (net.RelayedNet,
tests/harness/relay.py), which keeps the frames the guest sends to the test's wire client from
the user network, as a switch would (on a hub, QEMU's user network answers them with a RST in the
client's name). The client, on the guest's subnet, sends a SYN to :80 and gets the SYN-ACK; then
QEMU is stopped (SIGSTOP, as a loaded host stops it), SYNS SYNs from made-up hosts arrive and
after them the client's ACK and its request, and QEMU goes on. The Membrane takes the SYNs before
the ACK. Pass: the request is answered (HTTP 200, no RST), and no SYN was dropped for a full
accept queue. With the listener's half-open room at httpd's backlog (64), the SYN flood guard
evicted the client's connection for newer SYNs, and its ACK met a RST.
"""
import argparse
import ipaddress
import os
import queue
import random
import socket
import struct
import sys
import time

from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.harness.net import RelayedNet, UserNet, free_port
from tests.harness.ping import ETH_ARP, ETH_IPV4, PEER_MAC, answer_arp, ipv4_packet
from tests.harness.relay import Relay
from tests.harness.report import Report
from tests.harness.tcp_flood import ACK, PSH, RST, SYN, TCP_PROTO, tcp_segment
from tools.wirepeer import DgramPort, ether_frame, mac, parse_ether

BOOT_TIMEOUT = 90.0
WATCHDOG_MS = 1000  # as qemu_hostile: a loaded host stalls QEMU's vCPU
GUEST_MAC = "52:54:00:12:34:56"
SYNS = 150  # more than httpd's backlog (64), fewer than the Membrane's RX ring (256)
EVICTED = "/Bus/net/membrane/shed/syn_evicted"
QUEUE_FULL = "/Bus/net/membrane/shed/syn_queue_full"
REQUEST = b"GET /bytes/10 HTTP/1.1\r\nHost: stall\r\n\r\n"

report = Report("stall")


class WireClient:
    """A host on the guest's wire at CLIENT_IP: the relay hands it the frames the guest sends to
    its MAC, and its ARP requests; it answers those and queues the TCP segments to it."""
    def __init__(self, ip):
        self.mac = PEER_MAC  # the MAC ping.answer_arp gives
        self.ip = ipaddress.IPv4Address(ip).packed
        self.relay = None
        self.segments = queue.Queue()

    def take(self, frame):
        """True if the frame is the client's (the relay then keeps it from the user network)."""
        dst, src, ethertype, payload = parse_ether(frame)
        if ethertype == ETH_ARP and answer_arp(self, payload, self.ip):
            return True
        if dst != self.mac or ethertype != ETH_IPV4 or len(payload) < 40 or payload[9] != TCP_PROTO:
            return dst == self.mac
        tcp = payload[(payload[0] & 0x0F) * 4:struct.unpack("!H", payload[2:4])[0]]  # without the padding
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        self.segments.put((dport, tcp[13], seq, ack, tcp[(tcp[12] >> 4) * 4:]))
        return True

    def send(self, frame):
        """Towards the guest only (what ping.answer_arp calls)."""
        self.relay.inject(frame)

    def send_segment(self, src_ip, sport, guest_ip, flags, seq, ack, payload=b""):
        segment = tcp_segment(src_ip, guest_ip, sport, 80, seq, ack, flags, payload)
        packet = ipv4_packet(src_ip, guest_ip, TCP_PROTO, segment, random.getrandbits(16))
        self.send(ether_frame(mac(GUEST_MAC), self.mac, ETH_IPV4, packet))

    def wait(self, port, timeout, enough):
        """Segments to `port` as (flags, seq, ack, payload) until enough(segments) or timeout."""
        got, deadline = [], time.monotonic() + timeout
        while not enough(got) and (left := deadline - time.monotonic()) > 0:
            try:
                dport, *segment = self.segments.get(timeout=left)
            except queue.Empty:
                break
            if dport == port:
                got.append(tuple(segment))
        return got


def counter(guest, key):
    value = guest.console_bus(key).get(key, "")
    return int(value) if value.isdigit() else 0


def handshake_across_stall(guest, client, guest_ip):
    rng = random.Random(11)
    sport, isn = 40000 + rng.randrange(1000), rng.getrandbits(31)
    client.send_segment(client.ip, sport, guest_ip, SYN, isn, 0)
    synack = client.wait(sport, 10.0, lambda got: any(f & SYN for f, _, _, _ in got))
    synack = [s for s in synack if s[0] & (SYN | ACK) == SYN | ACK]
    report("syn_answered", bool(synack), "no SYN-ACK to the client's SYN")
    if not synack:
        return
    guest_isn = synack[0][1]
    evicted, queue_full = counter(guest, EVICTED), counter(guest, QUEUE_FULL)
    guest.pause()
    try:
        for _ in range(SYNS):  # from 198.18.0.0/15 (benchmarking space): off the guest's subnet
            source = bytes([198, 18 + rng.randrange(2), rng.randrange(256), rng.randrange(1, 255)])
            client.send_segment(source, rng.randrange(1024, 65536), guest_ip, SYN, rng.getrandbits(32), 0)
        client.send_segment(client.ip, sport, guest_ip, ACK, isn + 1, guest_isn + 1)
        client.send_segment(client.ip, sport, guest_ip, PSH | ACK, isn + 1, guest_isn + 1, REQUEST)
        time.sleep(0.3)
    finally:
        guest.resume()
    answer = client.wait(sport, 10.0, lambda got: any(f & RST or b"\r\n\r\n" in p for f, _, _, p in got))
    data = b"".join(p for _, _, _, p in answer)
    reset = any(f & RST for f, _, _, _ in answer)
    client.send_segment(client.ip, sport, guest_ip, RST | ACK, isn + 1 + len(REQUEST), guest_isn + 1 + len(data))
    time.sleep(1.0)  # the Membrane publishes its counters when it gets round to it
    evicted, queue_full = counter(guest, EVICTED) - evicted, counter(guest, QUEUE_FULL) - queue_full
    report.info(f"stall: the client's last ACK behind {SYNS} spoofed SYNs: {len(data)} bytes back, "
                f"{'a RST' if reset else 'no RST'}; {evicted} half-open connections evicted, "
                f"{queue_full} SYNs dropped for a full accept queue")
    report("request_answered_across_stall", data.startswith(b"HTTP/1.1 200") and not reset,
           f"{'RST' if reset else 'no RST'}, answer {data[:40]!r}; {evicted} evicted")
    report("no_syn_dropped_for_a_full_queue", queue_full == 0, f"{queue_full} dropped")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus.elf")
    ap.add_argument("--logdir", default="build/test-logs/stall")
    args = ap.parse_args()

    guest_side = DgramPort(0, free_port(socket.SOCK_DGRAM))
    user_side = DgramPort(0, free_port(socket.SOCK_DGRAM))
    client = WireClient("10.0.2.61")
    relay = Relay(guest_side, user_side, GUEST_MAC, client=client)
    client.relay = relay
    net = RelayedNet(UserNet(tcp=[80], restrict=True), guest_side, user_side)
    guest = Guest(args.qemu, net, kernel=args.kernel, mac=GUEST_MAC, bootargs=f"watchdog={WATCHDOG_MS}",
                  log=os.path.join(args.logdir, "console.log"))
    try:
        listening = guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("boot_httpd_listening", listening is not None, "no 'httpd: listening' on the console")
        if listening is None:
            return report.exit_status()
        served = guest.first_success("/bytes/10", 30, 3.0) is not None
        report("http_through_relay", served, "no answer to GET /bytes/10 through the relay")
        address = guest.console_bus("/Bus/net/ipv4/addr").get("/Bus/net/ipv4/addr", "10.0.2.15")
        handshake_across_stall(guest, client, ipaddress.IPv4Address(address).packed)
        report("kernel_still_running", guest.alive() and guest.console.count("PANIC") == 0, "QEMU exited or panicked")
    finally:
        guest.stop()
        relay.stop()
        guest_side.close()
        user_side.close()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
