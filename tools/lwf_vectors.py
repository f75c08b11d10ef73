#!/usr/bin/python3
"""Writes the LWF test vectors (docs/lwf.md, section 12) from fixed inputs.

Independent of lwf/ on purpose: the frame layout is written again here from docs/lwf.md, the
crypto is PyNaCl (Debian's python3-nacl over libsodium) and hashlib's BLAKE2b, and CRC-32C is a
bitwise Python version. If the C core and this script agree byte for byte, both read the spec the
same way. Run with Debian's interpreter, which sees python3-nacl:

    /usr/bin/python3 tools/lwf_vectors.py > tests/host/data/lwf_vectors.txt

Output: `name = hex`, long values continued on lines indented by four spaces, 64 hex digits
each, `#` comments. docs/lwf.md quotes the output verbatim; test_lwf_vectors checks that it does.
"""
import hashlib
import struct
import sys

import nacl.bindings as sodium

ETHERTYPE = 0x4C57
HEADER_LEN = 84
SIGNATURE_LEN = 64
CRC_LEN = 4
TAG_LEN = 16
CLASSES = (128, 512, 1350)
CHUNK = 1024
BROADCAST = b"\xff" * 16
ENCRYPTED, SIGNED, RELAYABLE, FRAGMENTED, PRIORITY = 0x01, 0x02, 0x04, 0x08, 0x10
DATA, ANNOUNCE = 0x01, 0x02
HOP_LIMIT_OFFSET = 5


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def cellid(public_key):
    return hashlib.blake2b(b"libertaria-cellid-v1" + public_key, digest_size=16).digest()


class Node:
    def __init__(self, seed, mac):
        self.public, self.secret = sodium.crypto_sign_seed_keypair(seed)
        self.seed, self.mac, self.cellid = seed, mac, cellid(self.public)


def pairwise_key(me, peer):
    shared = sodium.crypto_scalarmult(sodium.crypto_sign_ed25519_sk_to_curve25519(me.secret),
                                      sodium.crypto_sign_ed25519_pk_to_curve25519(peer.public))
    lo, hi = sorted((me.cellid, peer.cellid))
    return shared, hashlib.blake2b(b"libertaria-lwf-pairwise-v1" + shared + lo + hi,
                                   digest_size=32).digest()


def header(flags, ftype, hop, service, src, dst, seq, msgid, index, count, payload_len, nonce,
           src_service):
    return (b"LW" + struct.pack(">BBBBH", 1, flags, ftype, hop, service) + src + dst +
            struct.pack(">QIHHHH", seq, msgid, index, count, payload_len, src_service) + nonce)


def associated_data(head):
    return head[:HOP_LIMIT_OFFSET] + b"\x00" + head[HOP_LIMIT_OFFSET + 1:]


def frame(sender, dst_mac, dst_cellid, flags, ftype, service, seq, body, nonce=b"\x00" * 24,
          key=None, msgid=0, index=0, count=1, hop=1, src_service=0):
    """The Ethernet frame: header, payload (sealed when ENCRYPTED), padding, signature, CRC."""
    payload_len = len(body) + (TAG_LEN if flags & ENCRYPTED else 0)
    head = header(flags, ftype, hop, service, sender.cellid, dst_cellid, seq, msgid, index, count,
                  payload_len, nonce, src_service)
    ad = associated_data(head)
    payload = (sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(body, ad, nonce, key)
               if flags & ENCRYPTED else body)
    signature_len = SIGNATURE_LEN if flags & SIGNED else 0
    need = HEADER_LEN + payload_len + signature_len + CRC_LEN
    size = min(c for c in CLASSES if c >= need)
    lwf = head + payload + b"\x00" * (size - need)
    if flags & SIGNED:
        lwf += sodium.crypto_sign(ad + lwf[HEADER_LEN:], sender.secret)[:SIGNATURE_LEN]
    lwf += struct.pack(">I", crc32c(lwf))
    assert len(lwf) == size
    return dst_mac + sender.mac + struct.pack(">H", ETHERTYPE) + lwf


def vector_lines(name, value):
    """`name = hex`, continued on lines indented by four spaces, 64 hex digits each."""
    digits = value.hex()
    lines = [digits[i:i + 64] for i in range(0, len(digits), 64)] or [""]
    return [f"{name} = {lines[0]}"] + ["    " + line for line in lines[1:]]


def main():
    out = []

    def put(name, value):
        out.extend(vector_lines(name, value))

    out.append("# LWF v1 test vectors, written by tools/lwf_vectors.py (docs/lwf.md, section 12)")
    put("crc32c_input", b"123456789")
    put("crc32c_value", struct.pack(">I", crc32c(b"123456789")))

    a = Node(bytes(range(0x00, 0x20)), bytes.fromhex("52540000000a"))
    b = Node(bytes(range(0x20, 0x40)), bytes.fromhex("52540000000b"))
    for name, node in (("a", a), ("b", b)):
        put(f"seed_{name}", node.seed)
        put(f"mac_{name}", node.mac)
        put(f"public_{name}", node.public)
        put(f"cellid_{name}", node.cellid)
    shared_ab, key_ab = pairwise_key(a, b)
    shared_ba, key_ba = pairwise_key(b, a)
    assert (shared_ab, key_ab) == (shared_ba, key_ba)
    put("shared_ab", shared_ab)
    put("pairwise_ab", key_ab)

    def put_data(prefix, sender, receiver, flags, service, src_service, seq, nonce, message):
        """The inputs of one DATA frame, then the frame."""
        put(f"{prefix}_seq", struct.pack(">Q", seq))
        put(f"{prefix}_service", struct.pack(">H", service))
        put(f"{prefix}_src_service", struct.pack(">H", src_service))
        put(f"{prefix}_nonce", nonce)
        put(f"{prefix}_message", message)
        put(f"{prefix}_frame", frame(sender, receiver.mac, receiver.cellid, flags, DATA, service, seq,
                                     message, nonce, key_ab, src_service=src_service))

    out.append("# a -> b: DATA, ENCRYPTED|SIGNED, service 7 from service 49152, one frame (class 512)")
    put_data("unicast", a, b, ENCRYPTED | SIGNED, 7, 49152, 0x0000000100000001, bytes(range(0x80, 0x98)),
             b"hello from cell a to cell b")
    out.append("# b -> a: DATA, ENCRYPTED|PRIORITY, service 9 from service 7, unsigned (class 128)")
    put_data("small", b, a, ENCRYPTED | PRIORITY, 9, 7, 0x0000000200000005, bytes(range(0xa0, 0xb8)),
             b"ping")

    out.append("# a: ANNOUNCE, broadcast, solicit 1 (class 512)")
    put("announce_seq", struct.pack(">Q", 0x0000000100000002))
    put("announce_frame", frame(a, b"\xff" * 6, BROADCAST, SIGNED, ANNOUNCE, 0, 0x0000000100000002,
                                a.public + a.mac + b"\x01\x00"))

    out.append("# a -> b: a 2500-byte message in 3 fragments, service 7 from service 49153, "
               "message id 0x0badcafe")
    message = bytes((i * 7 + 3) & 0xFF for i in range(2500))
    put("fragmented_message", message)
    put("fragmented_id", struct.pack(">I", 0x0BADCAFE))
    chunks = [message[i:i + CHUNK] for i in range(0, len(message), CHUNK)]
    for index, chunk in enumerate(chunks):
        seq = 0x0000000100000003 + index
        nonce = bytes((0xc0 + index * 0x20 + i) & 0xFF for i in range(24))
        put(f"fragment{index}_seq", struct.pack(">Q", seq))
        put(f"fragment{index}_nonce", nonce)
        put(f"fragment{index}_frame",
            frame(a, b.mac, b.cellid, ENCRYPTED | SIGNED | FRAGMENTED, DATA, 7, seq, chunk, nonce,
                  key_ab, msgid=0x0BADCAFE, index=index, count=len(chunks), src_service=49153))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
