#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_lwip_input (tests/fuzz/corpus/lwip_input/): frame sequences
as QEMU's user network would send them to the Membrane, in the target's framing (see the head
of tests/fuzz/fuzz_lwip_input.c):

    <config:1> then records <ctl:1> <length:2, big-endian> <frame>

Checksums are left for the target to repair (ctl bit 0); replies that must echo lwIP's own
numbers (the TCP acknowledgement of its SYN-ACK, the DHCP transaction id) ask for it (bit 1).
Fragments carry checksums computed here, since a checksum over fragments is the fuzz target's
to leave alone.

    python3 tests/fuzz/gen_lwip_input_corpus.py [DIR]
"""
import os
import struct
import sys

GUEST_MAC = bytes.fromhex("525400123456")
GW_MAC = bytes.fromhex("525500000202")
BROADCAST = b"\xff" * 6
GUEST_IP = bytes([10, 0, 2, 15])
GW_IP = bytes([10, 0, 2, 2])
DNS_IP = bytes([10, 0, 2, 3])
GUEST_LL6 = bytes.fromhex("fe80000000000000505400fffe123456")
GW_LL6 = bytes.fromhex("fe800000000000000000000000000002")
ALL_NODES6 = bytes.fromhex("ff020000000000000000000000000001")

CONFIG_DHCP, CONFIG_STATIC = 0, 1
REPAIR, ECHO = 1, 2
TCP_WND = 16 * 1460  # lwip/lwipopts.h
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


def record(frame, ctl=REPAIR, wait_ms=0):
    ctl |= (wait_ms // 50) << 2
    return struct.pack(">BH", ctl, len(frame)) + frame


def eth(dst, ethertype, payload, src=GW_MAC):
    return dst + src + struct.pack(">H", ethertype) + payload


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, src=GW_IP, dst=GUEST_IP, ident=1, frag=0, total=None):
    total = 20 + len(payload) if total is None else total
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident, frag, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack(">H", checksum(hdr)) + hdr[12:] + payload


def ipv6(next_header, payload, src=GW_LL6, dst=GUEST_LL6, hop_limit=64):
    return struct.pack(">IHBB", 6 << 28, len(payload), next_header, hop_limit) + src + dst + payload


def tcp(sport, dport, seq, ack, flags, data=b"", options=b""):
    offset = (20 + len(options)) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 65535, 0, 0) + options + data


def udp(sport, dport, data):
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def arp(op, sender_mac, sender_ip, target_mac, target_ip):
    return struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac, sender_ip, target_mac, target_ip)


def arp_from_gateway():
    return eth(BROADCAST, 0x0806, arp(1, GW_MAC, GW_IP, b"\0" * 6, GUEST_IP))


def tcp4(seq, ack, flags, data=b"", options=b"", sport=40000):
    return eth(GUEST_MAC, 0x0800, ipv4(6, tcp(sport, 80, seq, ack, flags, data, options)))


MSS_OPTION = struct.pack(">BBH", 2, 4, 1460)


def dhcp(message_type, xid=0):
    bootp = struct.pack(">BBBBIHH4s4s4s4s16s64s128s", 2, 1, 6, 0, xid, 0, 0, b"\0" * 4, GUEST_IP,
                        GW_IP, b"\0" * 4, GUEST_MAC + b"\0" * 10, b"", b"")
    options = bytes([53, 1, message_type, 54, 4]) + GW_IP + bytes([51, 4]) + struct.pack(">I", 86400)
    options += bytes([1, 4, 255, 255, 255, 0, 3, 4]) + GW_IP + bytes([6, 4]) + DNS_IP + bytes([255])
    frame = eth(BROADCAST, 0x0800, ipv4(17, udp(67, 68, bootp + b"\x63\x82\x53\x63" + options),
                                        dst=b"\xff" * 4))
    return record(frame, REPAIR | ECHO)


def seeds():
    s = {}
    s["arp-request"] = bytes([CONFIG_STATIC]) + record(arp_from_gateway())
    s["arp-reply"] = bytes([CONFIG_STATIC]) + record(eth(GUEST_MAC, 0x0806, arp(2, GW_MAC, GW_IP, GUEST_MAC, GUEST_IP)))
    # DISCOVER goes out at start; OFFER and ACK echo its transaction id.
    s["dhcp-offer-ack"] = bytes([CONFIG_DHCP]) + dhcp(2) + dhcp(5)

    handshake = record(arp_from_gateway()) + record(tcp4(1000, 0, SYN, options=MSS_OPTION)) + \
        record(tcp4(1001, 0, ACK), REPAIR | ECHO)
    request = b"GET / HTTP/1.1\r\nHost: nexus\r\n\r\n"
    s["tcp-handshake-data-fin"] = bytes([CONFIG_STATIC]) + handshake + \
        record(tcp4(1001, 0, PSH | ACK, request), REPAIR | ECHO) + \
        record(tcp4(1001 + len(request), 0, FIN | ACK), REPAIR | ECHO, wait_ms=200)
    s["tcp-syn-only"] = bytes([CONFIG_STATIC]) + record(arp_from_gateway()) + \
        record(tcp4(7, 0, SYN, options=MSS_OPTION), wait_ms=3000)
    s["tcp-out-of-order"] = bytes([CONFIG_STATIC]) + handshake + \
        record(tcp4(1001 + 100, 0, ACK, b"b" * 100), REPAIR | ECHO) + \
        record(tcp4(1001, 0, ACK, b"a" * 100), REPAIR | ECHO)
    s["tcp-syn-ack-in-syn-rcvd-ooseq"] = bytes([CONFIG_STATIC]) + syn_in_syn_rcvd()

    echo_request = struct.pack(">BBHHH", 8, 0, 0, 0x1234, 1) + b"nexus-ping" * 4
    s["icmp-echo"] = bytes([CONFIG_STATIC]) + record(arp_from_gateway()) + \
        record(eth(GUEST_MAC, 0x0800, ipv4(1, echo_request)))
    s["ipv4-fragments"] = bytes([CONFIG_STATIC]) + record(arp_from_gateway()) + fragmented_ping()
    s["ipv4-lone-last-fragment"] = bytes([CONFIG_STATIC]) + \
        record(eth(GUEST_MAC, 0x0800, ipv4(17, b"x" * 64, frag=100, ident=9)), 0, wait_ms=3000)
    s["udp-echo"] = bytes([CONFIG_STATIC]) + record(arp_from_gateway()) + \
        record(eth(GUEST_MAC, 0x0800, ipv4(17, udp(5353, 7, b"hello"))))

    ns = struct.pack(">BBHI", 135, 0, 0, 0) + GUEST_LL6 + bytes([1, 1]) + GW_MAC
    prefix = struct.pack(">BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + bytes.fromhex("fec00000000000000000000000000000")
    ra = struct.pack(">BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + bytes([1, 1]) + GW_MAC + prefix
    ping6 = struct.pack(">BBHHH", 128, 0, 0, 0x77, 1) + b"nexus6"
    # The link-local address is tentative (duplicate detection) for its first second.
    s["ipv6-nd-ra-ping"] = bytes([CONFIG_STATIC]) + \
        record(eth(GUEST_MAC, 0x86DD, ipv6(58, ns, hop_limit=255)), wait_ms=3000) + \
        record(eth(b"\x33\x33\0\0\0\x01", 0x86DD, ipv6(58, ra, dst=ALL_NODES6, hop_limit=255))) + \
        record(eth(GUEST_MAC, 0x86DD, ipv6(58, ping6)), REPAIR, wait_ms=100)
    s["ipv6-tcp-syn"] = bytes([CONFIG_STATIC]) + \
        record(eth(GUEST_MAC, 0x86DD, ipv6(58, ns, hop_limit=255)), wait_ms=3000) + \
        record(eth(GUEST_MAC, 0x86DD, ipv6(6, tcp(40001, 80, 5000, 0, SYN, options=MSS_OPTION))))
    return s


def fragmented_ping():
    payload = struct.pack(">BBHHH", 8, 0, 0, 0x4321, 2) + bytes(range(256)) * 4
    payload = payload[:2] + struct.pack(">H", checksum(payload)) + payload[4:]
    first, rest = payload[:512], payload[512:]
    more_fragments = 0x2000
    return record(eth(GUEST_MAC, 0x0800, ipv4(1, first, ident=77, frag=more_fragments)), 0) + \
        record(eth(GUEST_MAC, 0x0800, ipv4(1, rest, ident=77, frag=512 // 8)), 0)


def syn_in_syn_rcvd():
    """lwIP 2.1.3 took a SYN+ACK in SYN_RCVD as the handshake's ACK and queued it, SYN and all,
    out of order; filling the gap then counts the SYN's sequence number once more than the
    window holds: the assertion "tcp_receive: ooseq tcplen > rcv_wnd" (a Membrane crash).
    2.2 accepts a SYN only where one is expected and drops this one."""
    rcv_nxt = 1001
    syn_at = rcv_nxt + TCP_WND - 5
    out = record(arp_from_gateway()) + record(tcp4(1000, 0, SYN, options=MSS_OPTION))
    out += record(tcp4(syn_at, 0, SYN | ACK, b"s" * 10), REPAIR | ECHO)
    seq = rcv_nxt + 1460
    while seq < syn_at:
        n = min(1460, syn_at - seq)
        out += record(tcp4(seq, 0, ACK, b"o" * n), REPAIR | ECHO)
        seq += n
    return out + record(tcp4(rcv_nxt, 0, ACK, b"i" * 1460), REPAIR | ECHO)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "lwip_input")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
