"""utcp_dissector: the Wireshark dissector tools/wireshark/utcp.lua under Debian's tshark.

From the spec's test vectors (tests/host/data/utcp_vectors.txt: HELLO, WELCOME, CONFIRM, WINDOW,
DATA, an empty DATA opening a stream, NACK and an epoch-1 FIN) it builds a pcap, each frame behind an Ethernet header, and asserts
what tshark shows for every field against a decode written here in Python from docs/utcp.md, and
against the vectors' own values (CellIDs, session id, ephemerals, public keys). Frames broken one
rule at a time (short, another version, a length that is not the frame's, HELLO padding, an
unknown type, REPLY on DATA, a zero session id) must each carry their expert info, and the valid
ones none. Every truncation of every vector frame, and each frame with every other type byte,
dissect without a Lua error (the dissector's fuzzing: tshark is its harness). Last, the tshark
command docs/utcp.md shows runs as written on the same capture.

    python3 -m tests.tools.utcp_dissector [--tshark tshark] [--pcap-dir build/test-logs/utcp-dissector]
"""
import os
import random
import re
import shlex
import subprocess

from tests.tools.lwf_dissector import flag, read_vectors, start, tshark_fields
from tools.wirepeer import PcapWriter

LUA = "tools/wireshark/utcp.lua"
VECTORS = "tests/host/data/utcp_vectors.txt"
SPEC = "docs/utcp.md"
EXPERT = "_ws.expert.message"
HEADER_FIELDS = ("utcp.version", "utcp.type", "utcp.flags", "utcp.flags.key_phase", "utcp.flags.reply",
                 "utcp.reserved", "utcp.dst", "utcp.src", "utcp.session", "utcp.stream", "utcp.length",
                 "utcp.sequence", "utcp.window")
# docs/utcp.md section 4: the cleartext bodies, (field, offset, length).
HANDSHAKE_BODIES = {
    1: (("utcp.hello.ephemeral", 0, 32), ("utcp.hello.public_key", 32, 32), ("utcp.hello.padding", 64, 64)),
    2: (("utcp.welcome.ephemeral", 0, 32), ("utcp.welcome.public_key", 32, 32), ("utcp.welcome.signature", 64, 64)),
    3: (("utcp.confirm.initiator_ephemeral", 0, 32), ("utcp.confirm.responder_ephemeral", 32, 32),
        ("utcp.confirm.public_key", 64, 32), ("utcp.confirm.signature", 96, 64)),
}
BODY_FIELDS = tuple(name for body in HANDSHAKE_BODIES.values() for name, _, _ in body)
SEALED_FIELDS = ("utcp.space", "utcp.nonce", "utcp.ciphertext", "utcp.plaintext_length", "utcp.tag")
FIELDS = HEADER_FIELDS + BODY_FIELDS + ("utcp.hello.padding_zero",) + SEALED_FIELDS + (EXPERT,)
BYTE_FIELDS = {"utcp.dst", "utcp.src", "utcp.nonce", "utcp.ciphertext", "utcp.tag"} | set(BODY_FIELDS)
STREAM_SPACE = {4, 8}  # DATA, FIN; every other sealed type counts in the control space
VECTOR_FRAMES = ("hello_frame", "welcome_frame", "confirm_frame", "window_frame", "data_frame", "open_frame",
                 "nack_frame", "fin_frame")
MAC_A, MAC_B = bytes.fromhex("525400000a0a"), bytes.fromhex("525400000b0b")


def ethernet(utcp, src=MAC_A, dst=MAC_B):
    return dst + src + b"\x88\xb5" + utcp


def expected(frame):
    """The fields tshark must show for one valid Ethernet frame, decoded from docs/utcp.md."""
    u = frame[14:]
    ftype, flags, length = u[1], u[2], int.from_bytes(u[42:44], "big")
    sequence = int.from_bytes(u[44:52], "big")
    want = dict.fromkeys(FIELDS, "")
    want.update({
        "utcp.version": str(u[0]), "utcp.type": f"0x{ftype:02x}", "utcp.flags": f"0x{flags:02x}",
        "utcp.flags.key_phase": flag(flags & 1), "utcp.flags.reply": flag(flags & 2),
        "utcp.reserved": f"0x{u[3]:02x}", "utcp.dst": u[4:20].hex(), "utcp.src": u[20:36].hex(),
        "utcp.session": f"0x{int.from_bytes(u[36:40], 'big'):08x}", "utcp.stream": str(int.from_bytes(u[40:42], "big")),
        "utcp.length": str(length), "utcp.sequence": str(sequence), "utcp.window": str(int.from_bytes(u[52:56], "big")),
    })
    body = u[56:]
    if ftype in HANDSHAKE_BODIES:
        for name, offset, size in HANDSHAKE_BODIES[ftype]:
            want[name] = body[offset:offset + size].hex()
        if ftype == 1:
            want["utcp.hello.padding_zero"] = flag(body[64:128] == bytes(64))
    else:
        space = 0 if ftype in STREAM_SPACE else 1
        want.update({"utcp.space": str(space), "utcp.nonce": (space.to_bytes(4, "big") + u[44:52]).hex(),
                     "utcp.ciphertext": body[:-16].hex(), "utcp.plaintext_length": str(length - 16),
                     "utcp.tag": body[-16:].hex()})
    return want


def normalise(shown):
    """tshark's spellings to the decode's: bools as 1/0, byte fields without separators."""
    out = {}
    for k, v in shown.items():
        v = {"True": "1", "False": "0"}.get(v, v)
        out[k] = v.replace(":", "") if k in BYTE_FIELDS else v
    return out


def broken_frames(v):
    """(name, frame, the expert message it must carry): one rule of docs/utcp.md broken in each."""
    hello, data = bytearray(v["hello_frame"]), bytearray(v["data_frame"])
    def changed(frame, offset, value):
        out = bytearray(frame)
        out[offset] = value
        return bytes(out)
    zero_session = bytearray(hello)
    zero_session[36:40] = bytes(4)
    return [
        ("short", bytes(data[:30]), "Shorter than the 56-byte UTCP header"),
        ("header_only_short", bytes(data[:55]), "Shorter than the 56-byte UTCP header"),
        ("version_2", changed(hello, 0, 2), "Version is not 1: the rest is not decoded"),
        ("length_not_frame", bytes(data) + b"\x00", "Body length is not the frame's length minus 56"),
        ("hello_padding", changed(hello, 56 + 100, 1), "HELLO padding is not all zero"),
        ("unknown_type", changed(hello, 1, 0x0B), "Unknown type"),
        ("reply_on_data", changed(data, 2, 0x02), "Flags not allowed for this type"),
        ("session_zero", bytes(zero_session), "Session id 0"),
    ]


def hostile_frames(v):
    """Every truncation of every vector frame, each frame under every type byte, and seeded
    random byte flips: what a dissector meets on a hostile wire."""
    out = []
    for name in VECTOR_FRAMES:
        frame = v[name]
        out += [frame[:n] for n in range(len(frame))]
        out += [frame[:1] + bytes([t]) + frame[2:] for t in range(256)]
    rng = random.Random(0x88B5)
    for _ in range(500):
        frame = bytearray(v[rng.choice(VECTOR_FRAMES)])
        for _ in range(rng.randint(1, 4)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        out.append(bytes(frame))
    return out


def lua_errors(pcap, tshark):
    """(rows, the expert messages that are Lua errors) for every frame of the pcap."""
    cmd = [tshark, "-r", pcap, "-X", f"lua_script:{LUA}", "-T", "fields", "-E", "occurrence=a", "-e", "utcp.version",
           "-e", EXPERT]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    lines = proc.stdout.splitlines()
    return len(lines), [line for line in lines if "Lua Error" in line] + ([proc.stderr[-300:]] if proc.returncode else [])


def documented_command(path=SPEC):
    """The tshark line docs/utcp.md shows for this dissector."""
    for line in open(path, encoding="utf-8"):
        m = re.search(r"`(tshark -r \S+ -X lua_script:tools/wireshark/utcp\.lua[^`]*)`", line)
        if m:
            return m.group(1)
    return None


def main():
    args, report, ready = start("utcp_dissector", "build/test-logs/utcp-dissector")
    if not ready:
        return 1
    v = read_vectors(VECTORS)
    frames = [(name, ethernet(v[name])) for name in VECTOR_FRAMES]
    broken = [(name, ethernet(frame), message) for name, frame, message in broken_frames(v)]
    pcap = os.path.join(args.pcap_dir, "vectors.pcap")
    w = PcapWriter(pcap)
    for _, frame in frames:
        w.write(frame)
    for _, frame, _ in broken:
        w.write(frame)
    w.close()

    shown = tshark_fields(pcap, args.tshark, lua=LUA, proto="utcp", fields=FIELDS)
    report("every_frame_dissected", len(shown) == len(frames) + len(broken),
           f"{len(shown)} rows for {len(frames) + len(broken)} frames")
    rows = {}
    for (name, frame), fields in zip(frames, shown):
        got = normalise(fields)
        rows[name] = got
        diff = {k: (got.get(k), want) for k, want in expected(frame).items() if got.get(k) != want}
        report(f"{name}.fields", not diff, f"tshark vs spec: {diff}")
    # The vectors' own values, not only the decode above.
    a, b, sid = v["cellid_a"].hex(), v["cellid_b"].hex(), "0x" + v["session_id"].hex()
    for name, row in rows.items():
        a_sends = name in ("hello_frame", "confirm_frame", "data_frame", "open_frame", "fin_frame")
        report(f"{name}.cellids_and_session",
               (row["utcp.src"], row["utcp.dst"], row["utcp.session"]) == ((a, b) if a_sends else (b, a)) + (sid,), row)
    hello, welcome, confirm = rows["hello_frame"], rows["welcome_frame"], rows["confirm_frame"]
    report("hello.keys_of_a", (hello["utcp.hello.ephemeral"], hello["utcp.hello.public_key"],
                               hello["utcp.hello.padding_zero"]) == (v["ephemeral_a"].hex(), v["public_a"].hex(), "1"), hello)
    report("welcome.keys_of_b", (welcome["utcp.welcome.ephemeral"], welcome["utcp.welcome.public_key"]) ==
           (v["ephemeral_b"].hex(), v["public_b"].hex()), welcome)
    report("confirm.both_ephemerals_and_a", (confirm["utcp.confirm.initiator_ephemeral"],
                                             confirm["utcp.confirm.responder_ephemeral"],
                                             confirm["utcp.confirm.public_key"]) ==
           (v["ephemeral_a"].hex(), v["ephemeral_b"].hex(), v["public_a"].hex()), confirm)
    fin, window = rows["fin_frame"], rows["window_frame"]
    report("fin.epoch_1_stream_3", (fin["utcp.flags.key_phase"], fin["utcp.stream"], fin["utcp.sequence"],
                                    fin["utcp.nonce"]) == ("1", "3", "8193", "00000000" + "0000000000002001"), fin)
    report("window.control_space", (window["utcp.space"], window["utcp.nonce"], window["utcp.window"]) ==
           ("1", "00000001" + "0000000000000001", str(int.from_bytes(v["window"], "big"))), window)
    report("data.plaintext_length", rows["data_frame"]["utcp.plaintext_length"] == str(len(v["data_message"])),
           rows["data_frame"])
    report("open.empty_data_on_stream_5", rows["open_frame"]["utcp.plaintext_length"] == "0"
           and rows["open_frame"].get("utcp.stream") == "5", rows["open_frame"])

    for (name, _, message), fields in zip(broken, shown[len(frames):]):
        report(f"malformed.{name}.expert", fields.get(EXPERT) == message, f"expert {fields.get(EXPERT)!r}, want {message!r}")

    hostile = hostile_frames(v)
    hostile_pcap = os.path.join(args.pcap_dir, "hostile.pcap")
    w = PcapWriter(hostile_pcap)
    for frame in hostile:
        w.write(ethernet(frame))
    w.close()
    rows_seen, errors = lua_errors(hostile_pcap, args.tshark)
    report("hostile.no_lua_error", rows_seen == len(hostile) and not errors,
           f"{rows_seen} rows for {len(hostile)} frames; {len(errors)} errors, first {errors[:1]}",
           note=f"{len(hostile)} frames")

    command = documented_command()
    if report("documented_command.found", command, f"no tshark line for {LUA} in {SPEC}"):
        words = [pcap if w == "wire.pcap" else w for w in shlex.split(command)]
        words[0] = args.tshark
        proc = subprocess.run(words, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        lines = proc.stdout.splitlines()
        types = [line.split("\t")[0] for line in lines[:len(frames)]]
        report("documented_command.runs", proc.returncode == 0 and len(lines) == len(frames) + len(broken) and
               types == [expected(f)["utcp.type"] for _, f in frames], f"exit {proc.returncode}: {lines[:3]} "
               f"{proc.stderr.strip()[-200:]}")
    return report.exit_status()


if __name__ == "__main__":
    raise SystemExit(main())
