"""lwf_dissector: the Wireshark dissector tools/wireshark/lwf.lua under Debian's tshark.

From the spec's test vectors (tests/host/data/lwf_vectors.txt) it builds a pcap, adds a copy of
one frame with a flipped bit, and asserts what tshark shows for every field against a decode
written here in Python from docs/lwf.md (and against the vectors' own values: sequence, message
id, CellIDs, MACs). check_capture() does the same for a real capture (run_lwf_host_node's).

    python3 -m tests.tools.lwf_dissector [--tshark tshark] [--pcap-dir build/test-logs/lwf-dissector]
"""
import argparse
import os
import shutil
import subprocess

from tests.harness.report import Report
from tools.wirepeer import PcapWriter, read_pcap

LUA = "tools/wireshark/lwf.lua"
VECTORS = "tests/host/data/lwf_vectors.txt"
FIELDS = ("lwf.version", "lwf.flags", "lwf.flags.encrypted", "lwf.flags.signed", "lwf.flags.fragmented",
          "lwf.type", "lwf.hop_limit", "lwf.service", "lwf.src", "lwf.dst", "lwf.sequence", "lwf.message_id",
          "lwf.fragment_index", "lwf.fragment_count", "lwf.payload_length", "lwf.src_service", "lwf.nonce",
          "lwf.class", "lwf.signature.present", "lwf.crc", "lwf.crc.status", "lwf.announce.public_key",
          "lwf.announce.mac", "lwf.announce.solicit")


def read_vectors(path=VECTORS):
    """name -> bytes; a value continues on indented lines."""
    values, name = {}, None
    for line in open(path, encoding="ascii"):
        if line.startswith("#") or not line.strip():
            continue
        if line[0] in " \t" and name:
            values[name] += line.strip()
        else:
            name, _, value = line.partition(" = ")
            name = name.strip()
            values[name] = value.strip()
    return {k: bytes.fromhex(v) for k, v in values.items()}


def flag(value):
    """How tshark prints a bool field with -T fields: 1 / 0 in 4.0 (True/False in later ones)."""
    return "1" if value else "0"


def expected(frame):
    """The fields tshark must show for one Ethernet frame, decoded from docs/lwf.md."""
    lwf = frame[14:]
    flags, payload_length = lwf[3], int.from_bytes(lwf[56:58], "big")
    want = {
        "lwf.version": str(lwf[2]), "lwf.flags": f"0x{flags:02x}",
        "lwf.flags.encrypted": flag(flags & 1), "lwf.flags.signed": flag(flags & 2),
        "lwf.flags.fragmented": flag(flags & 8), "lwf.type": str(lwf[4]), "lwf.hop_limit": str(lwf[5]),
        "lwf.service": str(int.from_bytes(lwf[6:8], "big")), "lwf.src": lwf[8:24].hex(), "lwf.dst": lwf[24:40].hex(),
        "lwf.sequence": str(int.from_bytes(lwf[40:48], "big")),
        "lwf.message_id": f"0x{int.from_bytes(lwf[48:52], 'big'):08x}",
        "lwf.fragment_index": str(int.from_bytes(lwf[52:54], "big")),
        "lwf.fragment_count": str(int.from_bytes(lwf[54:56], "big")), "lwf.payload_length": str(payload_length),
        "lwf.src_service": str(int.from_bytes(lwf[58:60], "big")), "lwf.nonce": lwf[60:84].hex(),
        "lwf.class": str(len(lwf)), "lwf.signature.present": flag(flags & 2),
        "lwf.crc": f"0x{int.from_bytes(lwf[-4:], 'big'):08x}", "lwf.crc.status": "good",
        "lwf.announce.public_key": "", "lwf.announce.mac": "", "lwf.announce.solicit": "",
    }
    if lwf[4] == 2:
        body = lwf[84:124]
        want["lwf.announce.public_key"] = body[:32].hex()
        want["lwf.announce.mac"] = ":".join(f"{b:02x}" for b in body[32:38])
        want["lwf.announce.solicit"] = str(body[38])
    return want


def tshark_fields(pcap, tshark="tshark", lua=LUA, proto="lwf", fields=FIELDS):
    """One dict per `proto` frame of the pcap, as tshark with the dissector `lua` shows `fields`
    (the first occurrence of each)."""
    cmd = [tshark, "-r", pcap, "-X", f"lua_script:{lua}", "-Y", proto, "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=f"] + [a for name in fields for a in ("-e", name)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
                          env=dict(os.environ, HOME=os.environ.get("HOME", "/tmp")))
    if proc.returncode != 0:
        raise RuntimeError(f"tshark exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return [dict(zip(fields, line.split("\t"))) for line in proc.stdout.splitlines()]


def normalise(shown):
    """tshark's spellings to the decode's: bools as 1/0, byte fields without separators."""
    out = {}
    for k, v in shown.items():
        v = {"True": "1", "False": "0"}.get(v, v)
        if k in ("lwf.src", "lwf.dst", "lwf.nonce", "lwf.announce.public_key"):
            v = v.replace(":", "")
        out[k] = v
    return out


def differences(frame, shown):
    want, got = expected(frame), normalise(shown)
    return {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}


def lwf_frames(pcap):
    return [f for _, f in read_pcap(pcap) if f[12:14] == b"\x4c\x57"]


def check_capture(report, pcap, tshark="tshark", name="dissector"):
    """Every LWF frame of a real capture, dissected field for field, CRC good."""
    frames = lwf_frames(pcap)
    try:
        shown = tshark_fields(pcap, tshark)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        report(f"{name}.tshark_runs", False, str(e))
        return
    report(f"{name}.every_lwf_frame_dissected", frames and len(shown) == len(frames),
           f"{len(shown)} dissected of {len(frames)} LWF frames")
    bad = [(i, d) for i, (f, s) in enumerate(zip(frames, shown)) if (d := differences(f, s))]
    report(f"{name}.fields_match_the_spec", not bad, f"{len(bad)} frames differ; first: {bad[:1]}",
           note=f"{len(frames)} frames")


def vector_frames(v):
    names = ("unicast_frame", "small_frame", "announce_frame", "fragment0_frame", "fragment1_frame", "fragment2_frame")
    return [(n, v[n]) for n in names]


def start(group, pcap_dir):
    """A dissector group's command line (--tshark, --pcap-dir) and report; ready is false when
    tshark is missing (reported as a failure)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--pcap-dir", default=pcap_dir)
    args = ap.parse_args()
    report = Report(group)
    ready = report("tshark_installed", shutil.which(args.tshark), f"{args.tshark} not found (tools/bootstrap.sh installs it)")
    if ready:
        os.makedirs(args.pcap_dir, exist_ok=True)
    return args, report, ready


def main():
    args, report, ready = start("lwf_dissector", "build/test-logs/lwf-dissector")
    if not ready:
        return 1
    v = read_vectors()
    frames = vector_frames(v)
    damaged = bytearray(v["unicast_frame"])
    damaged[14 + 100] ^= 0x01  # one bit of the ciphertext: only the CRC can tell
    pcap = os.path.join(args.pcap_dir, "vectors.pcap")
    w = PcapWriter(pcap)
    for _, frame in frames:
        w.write(frame)
    w.write(bytes(damaged))
    w.close()
    shown = tshark_fields(pcap, args.tshark)
    report("every_vector_dissected", len(shown) == len(frames) + 1, f"{len(shown)} rows for {len(frames) + 1} frames")
    for (name, frame), fields in zip(frames, shown):
        diff = differences(frame, fields)
        report(f"{name}.fields", not diff, f"tshark vs spec: {diff}")
    rows = dict(zip((n for n, _ in frames), shown))
    # The vectors' own values, not only the decode above.
    frag0 = rows.get("fragment0_frame", {})
    report("fragment0.sequence", frag0.get("lwf.sequence") == str(int.from_bytes(v["fragment0_seq"], "big")), frag0)
    report("fragment0.message_id", frag0.get("lwf.message_id") == "0x" + v["fragmented_id"].hex(), frag0)
    report("fragment0.src_is_a", normalise(frag0).get("lwf.src") == v["cellid_a"].hex(), frag0)
    report("fragment0.dst_is_b", normalise(frag0).get("lwf.dst") == v["cellid_b"].hex(), frag0)
    ann = normalise(rows.get("announce_frame", {}))
    report("announce.public_key_is_a", ann.get("lwf.announce.public_key") == v["public_a"].hex(), ann)
    report("announce.mac_is_a", ann.get("lwf.announce.mac") == ":".join(f"{b:02x}" for b in v["mac_a"]), ann)
    report("announce.type", ann.get("lwf.type") == "2" and ann.get("lwf.signature.present") == "1", ann)
    small = rows.get("small_frame", {})
    report("small.class_128_unsigned", small.get("lwf.class") == "128" and
           normalise(small).get("lwf.signature.present") == "0", small)
    report("damaged.crc_bad", len(shown) > len(frames) and shown[-1].get("lwf.crc.status") == "bad",
           shown[-1] if shown else "no row")
    return report.exit_status()


if __name__ == "__main__":
    raise SystemExit(main())
