#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ack_coalesce (tests/fuzz/corpus/ack_coalesce/): RX batches
as QEMU's user network sends them to a guest busy sending, in the target's framing (see the
head of tests/fuzz/fuzz_ack_coalesce.c):

    records <length:1> <frame>

Pure ACKs carry right checksums (the target's parser refuses any other), one seed has a
corrupt one, and one mixes in a data segment and a duplicate.

    python3 tests/fuzz/gen_ack_coalesce_corpus.py [DIR]
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_lwip_input_corpus import checksum  # noqa: E402 (the Internet checksum, written once)

GUEST_MAC = bytes.fromhex("525400123456")
CLIENT_MAC = bytes.fromhex("52550a000202")
CLIENT_IP = bytes([10, 0, 2, 2])
GUEST_IP = bytes([10, 0, 2, 15])


def segment(port, ack, flags=0x10, payload=b"", corrupt=False):
    tcp = struct.pack("!HHIIBBHHH", port, 80, 1001, ack, 0x50, flags, 0xFFFF, 0, 0) + payload
    pseudo = CLIENT_IP + GUEST_IP + struct.pack("!BBH", 0, 6, len(tcp))
    c = checksum(pseudo + tcp) ^ (0x0101 if corrupt else 0)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, CLIENT_IP, GUEST_IP)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return GUEST_MAC + CLIENT_MAC + b"\x08\x00" + ip + tcp


def batch(frames):
    return b"".join(bytes([len(f)]) + f for f in frames)


SEEDS = {
    "rising-acks": batch([segment(40000, 1000 + 1460 * k) for k in range(1, 6)]),
    "two-flows-interleaved": batch([segment(40000 + k % 2, 1000 + 1460 * k) for k in range(1, 9)]),
    "duplicates-then-new": batch([segment(40000, 5000)] * 3 + [segment(40000, 6460)]),
    "data-and-ack-mixed": batch([segment(40000, 2000), segment(40000, 2000, 0x18, b"GET / HTTP/1.1\r\n\r\n"),
                                 segment(40000, 3000), segment(40000, 2500)]),
    "corrupt-last-ack": batch([segment(40000, 2000), segment(40000, 3000, corrupt=True)]),
    "wrapping-numbers": batch([segment(40000, 0xFFFFF000), segment(40000, 0x00000400)]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "ack_coalesce")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
