"""A host on the guest's wire that floods it with malformed TCP: RST and FIN storms, data and HTTP
requests on connections that were never opened, and segments with broken options, data offsets
and checksums. The guest answers most of them with a RST, so every frame costs the Membrane a
receive and often a send: the load under which a busy service must still yield the CPU.

Every frame goes to the guest's MAC and address only, from one made-up address on the guest's
subnet whose ARP requests the flood answers. No IPv4 fragments: QEMU 7.2's user network, which
sees every frame on the hub, crashes on a lone last fragment (PITFALLS.md)."""
import ipaddress
import random
import struct
import threading
import time

from tests.harness.ping import ETH_ARP, ETH_IPV4, PEER_MAC, answer_arp, internet_checksum, ipv4_packet
from tools.wirepeer import ether_frame, mac, parse_ether

TCP_PROTO = 6
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
HTTP_REQUEST = b"GET /bytes/10 HTTP/1.1\r\nHost: flood\r\n\r\n"


def tcp_segment(src_ip, dst_ip, sport, dport, seq, ack, flags, payload=b"", options=b"",
                data_offset=None, good_checksum=True):
    """A TCP segment with its checksum over the IPv4 pseudo-header (or a wrong one). options
    are padded to 32-bit words; data_offset overrides the header length field (in words)."""
    options += b"\0" * (-len(options) % 4)
    offset = data_offset if data_offset is not None else 5 + len(options) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 8192, 0, 0) + options
    pseudo = struct.pack("!4s4sBBH", src_ip, dst_ip, 0, TCP_PROTO, len(header) + len(payload))
    checksum = internet_checksum(pseudo + header + payload)
    if not good_checksum:
        checksum ^= 0x5A5A
    return header[:16] + struct.pack("!H", checksum) + header[18:] + payload


# Each class: (name, function(rng) -> keyword arguments of tcp_segment beyond the addresses).
def _rst(rng):
    return dict(flags=RST | rng.choice((0, ACK)))


def _fin(rng):
    return dict(flags=FIN | ACK)


def _data(rng):
    return dict(flags=PSH | ACK, payload=rng.randbytes(rng.randrange(1, 600)))


def _http(rng):
    return dict(flags=PSH | ACK, payload=HTTP_REQUEST)


def _bad_options(rng):
    # Option kinds with lengths of 0, 1 or past the header's end, the way a parser trips.
    kind = rng.choice((2, 3, 4, 5, 8, 30, 254))
    length = rng.choice((0, 1, 40, 255))
    return dict(flags=ACK | rng.choice((0, PSH, URG)), options=bytes([kind, length]) + rng.randbytes(6))


def _bad_offset(rng):
    return dict(flags=ACK | PSH, data_offset=rng.choice((0, 1, 4, 15)), payload=rng.randbytes(8))


def _bad_checksum(rng):
    return dict(flags=PSH | ACK, payload=HTTP_REQUEST, good_checksum=False)


def _flag_mix(rng):
    return dict(flags=rng.randrange(0, 64) & ~SYN)  # no SYN: a SYN flood is another class


CLASSES = [("rst", _rst), ("fin", _fin), ("data", _data), ("http", _http), ("bad_options", _bad_options),
           ("bad_offset", _bad_offset), ("bad_checksum", _bad_checksum), ("flag_mix", _flag_mix)]


def flood_frames(guest_mac, guest_ip, peer_ip, count, dport=80, seed=1):
    """`count` frames cycling through CLASSES, from peer_ip's random ports to guest_ip:dport."""
    rng = random.Random(seed)
    guest_mac, guest_ip, peer_ip = mac(guest_mac), ipaddress.IPv4Address(guest_ip).packed, ipaddress.IPv4Address(peer_ip).packed
    frames = []
    for i in range(count):
        _, make = CLASSES[i % len(CLASSES)]
        segment = tcp_segment(peer_ip, guest_ip, rng.randrange(1024, 65536), dport, rng.getrandbits(32),
                              rng.getrandbits(32), **make(rng))
        packet = ipv4_packet(peer_ip, guest_ip, TCP_PROTO, segment, i & 0xFFFF)
        frames.append(ether_frame(guest_mac, PEER_MAC, ETH_IPV4, packet))
    return frames


class Flood:
    """Sends `total` frames at `rate` frames/s through a wire peer's port in a thread, and
    answers the guest's ARP requests for peer_ip and counts the RSTs it sends back in another.
    .sent, .rsts_received; wait() blocks until every frame is out."""

    def __init__(self, port, guest_mac, guest_ip, peer_ip, total, rate, distinct=4096):
        self.port, self.total, self.rate = port, total, rate
        self.peer_ip = ipaddress.IPv4Address(peer_ip).packed
        self.frames = flood_frames(guest_mac, guest_ip, peer_ip, min(total, distinct))
        self.sent = self.rsts_received = self.arp_answered = 0
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send, daemon=True)
        self._listener = threading.Thread(target=self._listen, daemon=True)
        self._listener.start()
        self._sender.start()

    def _send(self):
        start = time.monotonic()
        while self.sent < self.total and not self._stop.is_set():
            due = start + self.sent / self.rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            self.port.send(self.frames[self.sent % len(self.frames)])
            self.sent += 1

    def _listen(self):
        while not self._stop.is_set():
            frame = self.port.recv(timeout=0.1)
            if frame is None:
                continue
            dst, _, ethertype, payload = parse_ether(frame)
            if ethertype == ETH_ARP:
                self.arp_answered += answer_arp(self.port, payload, self.peer_ip)
            elif (ethertype == ETH_IPV4 and dst == PEER_MAC and len(payload) >= 40 and payload[9] == TCP_PROTO
                  and payload[16:20] == self.peer_ip):
                tcp = payload[(payload[0] & 0x0F) * 4:]
                self.rsts_received += len(tcp) >= 14 and bool(tcp[13] & RST)

    def wait(self, timeout=None):
        self._sender.join(timeout)
        return not self._sender.is_alive()

    def stop(self):
        self._stop.set()
        self._sender.join()
        self._listener.join()
