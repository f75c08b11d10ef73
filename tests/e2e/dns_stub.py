"""A minimal authoritative DNS responder for tests (Python standard library only).

It answers A queries for the names it is given and NXDOMAIN for every other name, on a
loopback UDP socket. The e2e harness runs QEMU with a resolv.conf naming this server, so a
lookup from inside Nexus goes guest -> lwIP -> QEMU's resolver (10.0.2.3) -> here, and never
leaves the machine.
"""
import socket
import struct

from tests.harness.net import UdpServer

TYPE_A = 1
CLASS_IN = 1


def parse_question(msg):
    """Returns (id, flags, qname labels as str, qtype, qclass, end offset) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1:
        return None
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        i += 1
        if n == 0:
            break
        if n > 63 or i + n > len(msg):
            return None
        labels.append(msg[i:i + n].decode("ascii", "replace").lower())
        i += n
    if i + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[i:i + 4])
    return qid, flags, ".".join(labels), qtype, qclass, i + 4


def answer(msg, records):
    q = parse_question(msg)
    if q is None:
        return None
    qid, flags, name, qtype, qclass, end = q
    question = msg[12:end]
    rd = flags & 0x0100
    addr = records.get(name)
    if addr is None:
        return struct.pack("!HHHHHH", qid, 0x8403 | rd, 1, 0, 0, 0) + question  # NXDOMAIN
    if qtype != TYPE_A or qclass != CLASS_IN:
        return struct.pack("!HHHHHH", qid, 0x8400 | rd, 1, 0, 0, 0) + question  # no data
    rr = struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, 60, 4) + socket.inet_aton(addr)
    return struct.pack("!HHHHHH", qid, 0x8400 | rd, 1, 1, 0, 0) + question + rr


class DnsStub(UdpServer):
    """Serves `records` ({name: dotted quad}) on host:port (127.0.0.1:53 by default); .served
    counts the queries."""

    def __init__(self, records, host="127.0.0.1", port=53):
        self.records = {k.lower(): v for k, v in records.items()}
        super().__init__(lambda msg: answer(msg, self.records), host, port)
