#!/usr/bin/python3
"""Writes the UTCP test vectors (docs/utcp.md, section 13) from fixed inputs.

Independent of utcp/ on purpose: the frame layout, transcript and key schedule are written again
here from docs/utcp.md, the crypto is PyNaCl (Debian's python3-nacl over libsodium) and hashlib's
BLAKE2b. If the C core and this script agree byte for byte, both read the spec the same way. Run
with Debian's interpreter, which sees python3-nacl:

    /usr/bin/python3 tools/utcp_vectors.py > tests/host/data/utcp_vectors.txt

Output: `name = hex`, long values continued on lines indented by four spaces, 64 hex digits
each, `#` comments. docs/utcp.md quotes the output verbatim; test_utcp_vectors checks that it does.
"""
import hashlib
import struct
import sys

import nacl.bindings as sodium

from lwf_vectors import cellid, vector_lines  # the CellID and the file format are LWF's

VERSION = 1
HELLO, WELCOME, CONFIRM, DATA, NACK, WINDOW, SYNC, FIN, RESET, PING = range(1, 11)
KEY_PHASE, REPLY = 0x01, 0x02
STREAM_SPACE, CONTROL_SPACE = 0, 1


class Node:
    def __init__(self, seed):
        self.public, self.secret = sodium.crypto_sign_seed_keypair(seed)
        self.seed, self.cellid = seed, cellid(self.public)


def header(ftype, flags, dst, src, session, stream, length, seq, window):
    return (struct.pack(">BBBB", VERSION, ftype, flags, 0) + dst + src +
            struct.pack(">IHHQI", session, stream, length, seq, window))


def responder_ephemeral(cookie_secret, initiator, session, eph_i):
    return hashlib.blake2b(b"utcp-responder-ephemeral-v1" + initiator + struct.pack(">I", session) + eph_i,
                           key=cookie_secret, digest_size=32).digest()


def transcript(i, r, session, eph_i, eph_r):
    return hashlib.blake2b(b"utcp-transcript-v1" + i.cellid + r.cellid + struct.pack(">I", session) +
                           i.public + r.public + eph_i + eph_r, digest_size=32).digest()


def sign(node, context, th):
    return sodium.crypto_sign(b"nexus-utcp-signature-v1" + context + th, node.secret)[:64]


def session_keys(shared, th):
    okm = hashlib.blake2b(b"utcp-session-keys-v1" + th, key=shared, digest_size=64).digest()
    return okm[:32], okm[32:]


def rekey(key):
    return hashlib.blake2b(b"utcp-rekey-v1", key=key, digest_size=32).digest()


def sealed(key, ftype, flags, dst, src, session, stream, seq, window, plain, space):
    length = len(plain) + 16
    head = header(ftype, flags, dst, src, session, stream, length, seq, window)
    nonce = struct.pack(">IQ", space, seq)
    return head + sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plain, head, nonce, key)


def main():
    out = []

    def put(name, value):
        out.extend(vector_lines(name, value))

    out.append("# UTCP v1 test vectors, written by tools/utcp_vectors.py (docs/utcp.md, section 13)")
    a = Node(bytes(range(0x00, 0x20)))  # the initiator
    b = Node(bytes(range(0x20, 0x40)))  # the responder
    for name, node in (("a", a), ("b", b)):
        put(f"seed_{name}", node.seed)
        put(f"public_{name}", node.public)
        put(f"cellid_{name}", node.cellid)
    session, window = 0x5E551017, 256
    eph_secret_a = bytes(range(0x60, 0x80))
    eph_a = sodium.crypto_scalarmult_base(eph_secret_a)
    cookie_secret_b = bytes(range(0x40, 0x60))
    put("session_id", struct.pack(">I", session))
    put("window", struct.pack(">I", window))
    put("ephemeral_secret_a", eph_secret_a)
    put("ephemeral_a", eph_a)
    put("cookie_secret_b", cookie_secret_b)

    out.append("# a -> b: HELLO (ephemeral, identity key, 64 zero bytes)")
    hello_body = eph_a + a.public + bytes(64)
    put("hello_frame", header(HELLO, 0, b.cellid, a.cellid, session, 0, len(hello_body), 0, window) + hello_body)

    eph_secret_b = responder_ephemeral(cookie_secret_b, a.cellid, session, eph_a)
    eph_b = sodium.crypto_scalarmult_base(eph_secret_b)
    th = transcript(a, b, session, eph_a, eph_b)
    put("ephemeral_secret_b", eph_secret_b)
    put("ephemeral_b", eph_b)
    put("transcript_hash", th)
    out.append("# b -> a: WELCOME (ephemeral, identity key, signature over the transcript)")
    welcome_body = eph_b + b.public + sign(b, b"utcp-welcome-v1", th)
    put("welcome_frame", header(WELCOME, 0, a.cellid, b.cellid, session, 0, len(welcome_body), 0, window) +
        welcome_body)
    out.append("# a -> b: CONFIRM (both ephemerals, identity key, signature over the transcript)")
    confirm_body = eph_a + eph_b + a.public + sign(a, b"utcp-confirm-v1", th)
    put("confirm_frame", header(CONFIRM, 0, b.cellid, a.cellid, session, 0, len(confirm_body), 0, window) +
        confirm_body)

    shared = sodium.crypto_scalarmult(eph_secret_a, eph_b)
    assert shared == sodium.crypto_scalarmult(eph_secret_b, eph_a)
    key_ab, key_ba = session_keys(shared, th)
    put("shared", shared)
    put("key_a_to_b", key_ab)
    put("key_b_to_a", key_ba)

    out.append("# b -> a: WINDOW, control sequence 1: release 0 (the responder's first sealed frame)")
    put("window_frame", sealed(key_ba, WINDOW, 0, a.cellid, b.cellid, session, 0, 1, window,
                               struct.pack(">Q", 0), CONTROL_SPACE))
    out.append("# a -> b: DATA on stream 3, stream-space sequence 1")
    message = b"hello over utcp, stream 3"
    put("data_message", message)
    put("data_frame", sealed(key_ab, DATA, 0, b.cellid, a.cellid, session, 3, 1, window, message, STREAM_SPACE))
    out.append("# a -> b: empty DATA opening stream 5 (section 10), stream-space sequence 2")
    put("open_frame", sealed(key_ab, DATA, 0, b.cellid, a.cellid, session, 5, 2, window, b"", STREAM_SPACE))
    out.append("# b -> a: NACK, control sequence 2: release 4, missing 5-6 and 9-9")
    nack = struct.pack(">QH", 4, 2) + struct.pack(">QQ", 5, 6) + struct.pack(">QQ", 9, 9)
    put("nack_frame", sealed(key_ba, NACK, 0, a.cellid, b.cellid, session, 0, 2, window, nack, CONTROL_SPACE))
    out.append("# a -> b: FIN of stream 3 in key epoch 1 (KEY_PHASE set), stream-space sequence 8193")
    key_ab_1 = rekey(key_ab)
    put("key_a_to_b_epoch1", key_ab_1)
    put("fin_frame", sealed(key_ab_1, FIN, KEY_PHASE, b.cellid, a.cellid, session, 3, 8193, window, b"",
                            STREAM_SPACE))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
