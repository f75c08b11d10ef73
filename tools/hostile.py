#!/usr/bin/python3
"""hostile: the frames a hostile wire sends a Nexus guest, class by class (Debian's python3-scapy;
run it with /usr/bin/python3, PITFALLS.md).

Every class is a function rng -> one frame, built for a Target (the guest's MAC and address on
QEMU's user network). Frames are seeded: the same seed, class and index give the same bytes, so a
failure found by the long run can be replayed alone. Every frame is addressed to the guest's MAC
or to broadcast, and carries a source MAC that is never the guest's (the relay in
tests/e2e/run_qemu_hostile.py relies on that to prove the user network saw none of them).
Spoofed IPv4 sources never name the user network's gateway or DNS (10.0.2.2, 10.0.2.3): the
health checks come from there, and a blind RST against them is not what these classes test.

    /usr/bin/python3 -m tools.hostile --list
    /usr/bin/python3 -m tools.hostile --pcap out.pcap --frames 1000 [--seed S] [--only CLASS]

writes the frames to a pcap for Wireshark; injecting them is the test's job (docs/testing.md,
qemu_hostile; `make hostile N=...`).
"""
import argparse
import logging
import random
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest, ICMPv6ND_NA,  # noqa: E402
                       ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw,
                       fuzz)

BROADCAST = "ff:ff:ff:ff:ff:ff"
HTTP_PORT = 80
# EtherTypes the NetSwitch routes somewhere (IPv4, ARP, IPv6, UTCP, LWF): garbage behind them
# reaches a service, not just the switch's unknown-EtherType drop.
ROUTED_ETHERTYPES = (0x0800, 0x0806, 0x86DD, 0x88B5, 0x4C57)
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
LARGEST_FRAME = 65507  # the largest datagram a -netdev dgram port carries


class Target:
    """Where the frames go: the guest's MAC and IPv4 address, and the user network's addresses
    no spoofed source may take."""

    def __init__(self, mac="52:54:00:12:34:56", ip="10.0.2.15", reserved=("10.0.2.2", "10.0.2.3")):
        self.mac, self.ip, self.reserved = mac, ip, set(reserved) | {ip}
        self.link_local6 = "fe80::5054:ff:fe12:3456"


def random_mac(rng):
    """A locally administered unicast MAC: never the guest's (QEMU's 52:54:...) nor multicast."""
    return "06:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(5))


def spoofed_ip(rng, target):
    """A source address anywhere in unicast IPv4, sometimes on the guest's own subnet."""
    while True:
        if rng.random() < 0.25:
            ip = f"10.0.2.{rng.randrange(1, 255)}"
        else:
            ip = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if ip not in target.reserved and not ip.startswith("127."):
            return ip


def garbage(rng, n):
    return rng.randbytes(n)


def to_guest(rng, target, broadcast_share=0.0):
    dst = BROADCAST if rng.random() < broadcast_share else target.mac
    return Ether(dst=dst, src=random_mac(rng))


def raw_frame(rng, target, ethertype, payload):
    return bytes(Ether(dst=target.mac, src=random_mac(rng), type=ethertype)) + payload


# ---- the classes: each returns one frame (bytes, never empty)


def runts(rng, target):
    """Shorter than an Ethernet header, exactly a header, or a header and a few bytes."""
    header = raw_frame(rng, target, rng.choice(ROUTED_ETHERTYPES + (rng.randrange(0x10000),)), b"")
    kind = rng.randrange(3)
    if kind == 0:
        return header[:rng.randrange(1, 14)]
    if kind == 1:
        return header
    return header + garbage(rng, rng.randrange(1, 46))


def giants(rng, target):
    """Past the MTU up to 64 KiB: garbage, and IPv4/IPv6 whose length fields claim all of it."""
    size = rng.choice((1515, 1519, 1523, 2048, 4096, 9018, 16384, 32768, LARGEST_FRAME, rng.randrange(1515, LARGEST_FRAME)))
    kind = rng.randrange(3)
    if kind == 0:
        frame = raw_frame(rng, target, rng.choice(ROUTED_ETHERTYPES), b"")
    elif kind == 1:
        frame = bytes(to_guest(rng, target) / IP(src=spoofed_ip(rng, target), dst=target.ip, len=min(size - 14, 65535)) / UDP(dport=rng.randrange(1, 65536)))
    else:
        frame = bytes(to_guest(rng, target) / IPv6(src="fe80::1", dst=target.link_local6, plen=min(size - 54, 65535)) / UDP())
    return frame + garbage(rng, max(0, size - len(frame)))


def ethertypes(rng, target):
    """VLAN stacks (one to eight tags, any TPID), random EtherTypes and routed ones, with garbage."""
    kind = rng.randrange(3)
    if kind == 0:
        frame = to_guest(rng, target, 0.3)
        for _ in range(rng.randrange(1, 9)):
            frame = frame / Dot1Q(vlan=rng.randrange(4096), prio=rng.randrange(8))
        frame = bytes(frame / IP(src=spoofed_ip(rng, target), dst=target.ip) / TCP(dport=HTTP_PORT))
        # Later tags may be 802.1ad or the old 0x9100 rather than 0x8100.
        return frame[:12] + struct.pack("!H", rng.choice(VLAN_TPIDS)) + frame[14:]
    ethertype = rng.randrange(0x10000) if kind == 1 else rng.choice(ROUTED_ETHERTYPES)
    return raw_frame(rng, target, ethertype, garbage(rng, rng.randrange(0, 1500)))


def arp_storm(rng, target):
    """Requests and replies from made-up hosts, gratuitous ARP, and broken headers (lengths,
    hardware and protocol types, opcodes)."""
    sender = spoofed_ip(rng, target) if rng.random() < 0.5 else f"10.0.2.{rng.choice([i for i in range(4, 255) if i != 15])}"
    kind = rng.randrange(4)
    if kind == 0:
        arp = ARP(op=1, hwsrc=random_mac(rng), psrc=sender, pdst=target.ip)
    elif kind == 1:
        arp = ARP(op=2, hwsrc=random_mac(rng), psrc=sender, hwdst=target.mac, pdst=target.ip)
    elif kind == 2:
        arp = ARP(op=rng.choice((1, 2)), hwsrc=random_mac(rng), psrc=sender, pdst=sender)  # gratuitous
    else:
        arp = ARP(hwtype=rng.randrange(0x10000), ptype=rng.choice((0x0800, rng.randrange(0x10000))),
                  hwlen=rng.randrange(256), plen=rng.randrange(256), op=rng.randrange(0x10000),
                  hwsrc=random_mac(rng), psrc=sender, pdst=target.ip)
    frame = bytes(to_guest(rng, target, 0.5) / arp)
    return frame[:rng.randrange(15, len(frame) + 1)] if rng.random() < 0.1 else frame


def ipv6_ext_nd(rng, target):
    """IPv6 extension-header chains (hop-by-hop, destination options, routing, fragments; long,
    repeated, out of order) and neighbour discovery floods (NS, NA, RA with made-up prefixes)."""
    src = f"fe80::{rng.randrange(1, 0xFFFF):x}:{rng.randrange(0xFFFF):x}"
    ip6 = IPv6(src=src, dst=rng.choice((target.link_local6, "ff02::1")), hlim=255)
    kind = rng.randrange(5)
    if kind < 2:
        chain = ip6
        for _ in range(rng.randrange(1, 12)):
            chain = chain / rng.choice((IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt(), IPv6ExtHdrRouting(type=rng.randrange(5)),
                                        IPv6ExtHdrFragment(id=rng.randrange(1 << 32), offset=rng.randrange(8192), m=rng.randrange(2))))
        frame = bytes(to_guest(rng, target) / chain / ICMPv6EchoRequest(data=garbage(rng, rng.randrange(64))))
    elif kind == 2:
        frame = bytes(to_guest(rng, target, 0.5) / ip6 / ICMPv6ND_NS(tgt=target.link_local6) / ICMPv6NDOptSrcLLAddr(lladdr=random_mac(rng)))
    elif kind == 3:
        frame = bytes(to_guest(rng, target, 0.5) / ip6 / ICMPv6ND_NA(tgt=src, R=0, S=rng.randrange(2), O=1))
    else:
        prefix = f"2001:db8:{rng.randrange(0xFFFF):x}:{rng.randrange(0xFFFF):x}::"
        frame = bytes(to_guest(rng, target, 0.5) / ip6 / ICMPv6ND_RA(routerlifetime=rng.randrange(0x10000))
                      / ICMPv6NDOptPrefixInfo(prefix=prefix, prefixlen=64, validlifetime=rng.randrange(1, 1 << 32)))
    if rng.random() < 0.2:  # a payload length that lies, either way
        frame = frame[:18] + struct.pack("!H", rng.randrange(0x10000)) + frame[20:]
    return frame


def ipv4_header_abuse(rng, target):
    """Bad IHL, total length and version; options (valid-looking, malformed, padded to 60
    bytes); land (source = destination = the guest); broadcast and multicast sources; TTL 0."""
    src = spoofed_ip(rng, target)
    kind = rng.randrange(6)
    l4 = TCP(sport=rng.randrange(1, 65536), dport=HTTP_PORT, flags="S") if rng.random() < 0.5 else UDP(dport=rng.randrange(1, 65536))
    if kind == 0:  # land
        return bytes(to_guest(rng, target) / IP(src=target.ip, dst=target.ip) / TCP(sport=HTTP_PORT, dport=HTTP_PORT, flags="S"))
    if kind == 1:  # sources no host may have
        src = rng.choice(("255.255.255.255", "10.0.2.255", "0.0.0.0", f"224.0.0.{rng.randrange(256)}", "127.0.0.1"))
        return bytes(to_guest(rng, target, 0.5) / IP(src=src, dst=rng.choice((target.ip, "255.255.255.255"))) / l4)
    if kind == 2:  # options, then garbage where they end
        options = garbage(rng, 4 * rng.randrange(1, 11))
        proto = 6 if isinstance(l4, TCP) else 17
        return bytes(to_guest(rng, target)) + bytes(IP(src=src, dst=target.ip, proto=proto, ihl=5 + len(options) // 4)
                                                   / Raw(options + bytes(l4)))
    frame = bytearray(bytes(to_guest(rng, target) / IP(src=src, dst=target.ip, ttl=rng.choice((0, 1, 64))) / l4 / garbage(rng, rng.randrange(64))))
    if kind == 3:
        frame[14] = (frame[14] & 0xF0) | rng.randrange(16)  # IHL 0..15
    elif kind == 4:
        frame[16:18] = struct.pack("!H", rng.choice((0, 1, 19, 20, len(frame) - 13, 65535, rng.randrange(65536))))
    else:
        frame[14] = (rng.choice((0, 1, 4, 6, 7, 15)) << 4) | (frame[14] & 0x0F)  # version
    return bytes(frame)


class FragmentTrains:
    """Fragment storms: overlapping trains, lone fragments at high offsets (the one that crashes
    QEMU 7.2's user network), and trains left unfinished under ever new IDs. State across frames:
    a train is sent over several calls."""

    def __init__(self):
        self.pending = []

    def __call__(self, rng, target):
        if not self.pending:
            self.pending = self._train(rng, target)
        return self.pending.pop(0)

    def _train(self, rng, target):
        src, ident = spoofed_ip(rng, target), rng.randrange(0x10000)
        proto = rng.choice((1, 6, 17))
        base = to_guest(rng, target)
        def fragment(offset_units, more, size):
            return bytes(base / IP(src=src, dst=target.ip, id=ident, proto=proto, frag=offset_units, flags="MF" if more else 0)
                         / Raw(garbage(rng, size)))
        kind = rng.randrange(3)
        if kind == 0:  # overlapping: every fragment restarts inside the one before
            train, offset = [], 0
            for i in range(rng.randrange(2, 8)):
                train.append(fragment(offset, True, 8 * rng.randrange(1, 64)))
                offset += rng.randrange(0, 8)
            train.append(fragment(offset, False, 8 * rng.randrange(1, 16)))
            rng.shuffle(train)
            return train
        if kind == 1:  # a lone fragment, last or not, far into a datagram
            return [fragment(rng.randrange(1, 8192), rng.random() < 0.5, 8 * rng.randrange(1, 180))]
        # the start of a datagram that never ends (up to 64 KiB announced)
        return [fragment(i * 185, True, 1480) for i in range(rng.randrange(1, 6))]


def syn_flood(rng, target):
    """SYNs to port 80 from spoofed sources, random ports, ISNs and options."""
    options = rng.choice(([], [("MSS", rng.randrange(0x10000))], [("MSS", 1460), ("SAckOK", b""), ("WScale", rng.randrange(16)),
                                                                  ("Timestamp", (rng.randrange(1 << 32), 0))]))
    return bytes(to_guest(rng, target) / IP(src=spoofed_ip(rng, target), dst=target.ip, id=rng.randrange(0x10000))
                 / TCP(sport=rng.randrange(1024, 65536), dport=HTTP_PORT, seq=rng.randrange(1 << 32), flags="S",
                       window=rng.randrange(0x10000), options=options))


TCP_FLAG_COMBOS = ("R", "RA", "F", "FA", "A", "PA", "FPU", "SF", "SR", "SRAFPU", "", "U", "SA", "E", "C", "SEC")
BAD_OPTIONS = (b"\x02\x00", b"\x02\x01\x05", b"\x02\x04\x00\x00", b"\x03\x03\x0f", b"\x03\x02", b"\x03\x03\xff",
               b"\x04\x01", b"\x05\x02", b"\x05\x0b" + b"\x00" * 9, b"\x05\x22" + b"\x00" * 32, b"\x08\x02",
               b"\xff\x00", b"\x01" * 40, b"\x02")


def tcp_malformed(rng, target):
    """TCP that no handshake led to: bad option lengths (MSS, window scale, SACK, timestamps),
    data offsets 0-15, RST/FIN storms, data and HTTP requests without a handshake, every flag
    combination, bad checksums."""
    dport = HTTP_PORT if rng.random() < 0.7 else rng.randrange(1, 65536)
    tcp = TCP(sport=rng.randrange(1024, 65536), dport=dport, seq=rng.randrange(1 << 32), ack=rng.randrange(1 << 32),
              flags=rng.choice(TCP_FLAG_COMBOS), window=rng.randrange(0x10000))
    kind = rng.randrange(5)
    payload = b""
    if kind == 0:
        option = rng.choice(BAD_OPTIONS)
        tcp.options = []
        tcp = TCP(bytes(tcp)[:12] + bytes([((20 + len(option) + 3) // 4) << 4, bytes(tcp)[13]]) + bytes(tcp)[14:20]
                  + option + b"\x00" * ((4 - len(option) % 4) % 4))
    elif kind == 1:
        payload = rng.choice((b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", garbage(rng, rng.randrange(1, 1400))))
    frame = bytearray(bytes(to_guest(rng, target) / IP(src=spoofed_ip(rng, target), dst=target.ip) / tcp / payload))
    if kind == 2:
        frame[46] = (rng.randrange(16) << 4) | (frame[46] & 0x0F)  # data offset
    elif kind == 3:
        frame[50:52] = struct.pack("!H", rng.randrange(0x10000))  # checksum
    return bytes(frame)


def fuzzed_layers(rng, target):
    """scapy's fuzz() over IPv4 and TCP, UDP or ICMP: every field random unless fixed here
    (the destination, so the guest takes it in)."""
    random.seed(rng.getrandbits(64))  # fuzz() draws from the random module
    l4 = rng.choice((TCP(dport=HTTP_PORT), TCP(), UDP(), ICMP()))
    packet = fuzz(IP(dst=target.ip, version=4) / fuzz(l4) / Raw(garbage(rng, rng.randrange(0, 256))))
    frame = bytes(to_guest(rng, target) / packet)
    return frame[:LARGEST_FRAME]


# In the order; each name is a row of the report.
CLASSES = {
    "runts": runts,
    "giants": giants,
    "ethertypes_vlan": ethertypes,
    "arp_storm": arp_storm,
    "ipv6_ext_nd": ipv6_ext_nd,
    "ipv4_header_abuse": ipv4_header_abuse,
    "ipv4_fragments": FragmentTrains,
    "syn_flood": syn_flood,
    "tcp_malformed": tcp_malformed,
    "fuzzed_layers": fuzzed_layers,
}


def frames(name, count, seed=1, target=None):
    """count frames of class `name`, reproducible from (seed, name)."""
    target = target or Target()
    rng = random.Random(f"{seed}:{name}")
    make = CLASSES[name]
    if isinstance(make, type):
        make = make()
    for _ in range(count):
        frame = make(rng, target)
        if not frame:  # an empty datagram would stop QEMU's dgram netdev for good (PITFALLS.md)
            frame = b"\xff"
        yield frame[:LARGEST_FRAME]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="name every class and what it sends")
    ap.add_argument("--pcap", help="write the frames to this pcap")
    ap.add_argument("--frames", type=int, default=1000, help="frames per class")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=sorted(CLASSES), action="append")
    args = ap.parse_args(argv)
    if args.list:
        for name, make in CLASSES.items():
            print(f"{name}: {' '.join(make.__doc__.split())}")
        return 0
    if not args.pcap:
        ap.error("give --pcap FILE or --list")
    from tools.wirepeer import PcapWriter
    with PcapWriter(args.pcap) as pcap:
        for name in args.only or CLASSES:
            for frame in frames(name, args.frames, args.seed):
                pcap.write(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
