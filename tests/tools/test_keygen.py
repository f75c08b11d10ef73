"""Tests of tools/nexus-keygen.c (build/nexus-keygen), with Debian's python3-nacl as the second,
independent implementation of Ed25519 and BLAKE2b.

Run from the repository root with Debian's Python (it has python3-nacl; another python3 may not):
    /usr/bin/python3 -m tests.tools.test_keygen [--binary build/nexus-keygen]
Prints `PASS keygen.<name>` or `FAIL keygen.<name>: <detail>` per check; exits 1 if any failed.
"""
import argparse
import os
import re
import stat
import subprocess
import sys
import tempfile

import nacl.encoding
import nacl.hash
import nacl.signing

from tests.harness.report import Report

CELLID_TAG = b"libertaria-cellid-v1"  # docs/identity.md
MAGIC = b"NEXUS-ID\x01"
FILE_LEN = 73
# docs/identity.md's test vector: seed 00 01 .. 1f.
VECTOR_SEED = bytes(range(32))
VECTOR_PUBLIC = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
VECTOR_CELLID = "3ae2978d58bcdb754cb0ea58f3179c6c"

report = Report("keygen")


def run(binary, *args):
    proc = subprocess.run([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def identity(stdout):
    """(CellID, public key) as the tool prints them, or (None, None)."""
    cellid = re.search(r"^CellID:\s+([0-9a-f]{32})$", stdout, re.M)
    public = re.search(r"^public key:\s+([0-9a-f]{64})$", stdout, re.M)
    return (cellid.group(1) if cellid else None, public.group(1) if public else None)


def nacl_identity(seed):
    public = bytes(nacl.signing.SigningKey(seed).verify_key)
    cellid = nacl.hash.blake2b(CELLID_TAG + public, digest_size=16, encoder=nacl.encoding.HexEncoder)
    return cellid.decode(), public.hex()


def check_create(binary, scratch):
    path = os.path.join(scratch, "node.key")
    rc, out, err = run(binary, path)
    report("create_exits_0", rc == 0, err)
    data = open(path, "rb").read() if os.path.exists(path) else b""
    mode = stat.S_IMODE(os.stat(path).st_mode) if data else None
    report("create_mode_0600", mode == 0o600, oct(mode or 0))
    report("create_layout", len(data) == FILE_LEN and data.startswith(MAGIC), f"{len(data)} bytes, {data[:9]!r}")
    printed = identity(out)
    if len(data) == FILE_LEN:
        seed, public = data[9:41], data[41:]
        want = nacl_identity(seed)
        report("public_key_is_the_seeds_per_nacl", want[1] == public.hex(), f"file {public.hex()}, nacl {want[1]}")
        report("printed_identity_matches_nacl", printed == want, f"printed {printed}, nacl {want}")
    rc, shown, err = run(binary, "--show", path)
    report("show_prints_the_same", rc == 0 and identity(shown) == printed and None not in printed, f"{rc} {shown} {err}")
    before = open(path, "rb").read()
    rc, out, err = run(binary, path)
    report("refuses_overwrite", rc != 0 and "refusing to overwrite" in err and open(path, "rb").read() == before,
           f"exit {rc}: {err}")
    other = os.path.join(scratch, "other.key")
    run(binary, other)
    report("two_keys_differ", identity(run(binary, "--show", other)[1]) != printed, "the same identity twice")
    return path


def check_vector(binary, scratch):
    """docs/identity.md's test vector, through the tool and through nacl."""
    path = os.path.join(scratch, "vector.key")
    public = bytes.fromhex(VECTOR_PUBLIC)
    with open(path, "wb") as f:
        f.write(MAGIC + VECTOR_SEED + public)
    rc, out, err = run(binary, "--show", path)
    report("vector_by_tool", rc == 0 and identity(out) == (VECTOR_CELLID, VECTOR_PUBLIC), f"{out} {err}")
    report("vector_by_nacl", nacl_identity(VECTOR_SEED) == (VECTOR_CELLID, VECTOR_PUBLIC), nacl_identity(VECTOR_SEED))


def check_refusals(binary, scratch, good):
    data = open(good, "rb").read()
    bad = {
        "flipped_public_key": (data[:60] + bytes([data[60] ^ 1]) + data[61:], "does not match the seed"),
        "flipped_seed": (data[:20] + bytes([data[20] ^ 1]) + data[21:], "does not match the seed"),
        "truncated": (data[:-1], "73 bytes"),
        "appended": (data + b"\n", "73 bytes"),
        "other_version": (data[:8] + b"\x02" + data[9:], "version"),
        "not_a_key_file": (b"-----BEGIN OPENSSH PRIVATE KEY-----\n", "not a Nexus key file"),
        "empty": (b"", "not a Nexus key file"),
    }
    for name, (content, message) in bad.items():
        path = os.path.join(scratch, name)
        with open(path, "wb") as f:
            f.write(content)
        rc, out, err = run(binary, "--show", path)
        report(f"refuses_{name}", rc != 0 and message in err and "CellID" not in out, f"exit {rc}: {err.strip()}")
    rc, out, err = run(binary, "--show", os.path.join(scratch, "absent.key"))
    report("refuses_missing_file", rc != 0 and "cannot open" in err, err)
    rc, out, err = run(binary)
    report("usage_without_arguments", rc == 2 and "usage:" in err, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/nexus-keygen")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        good = check_create(args.binary, scratch)
        check_vector(args.binary, scratch)
        check_refusals(args.binary, scratch, good)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
