"""Reads a classic pcap file (what QEMU's filter-dump writes) and finds the DHCP exchange and the
HTTP requests in it, with Python's standard library only. Frames are Ethernet; IPv4 only."""
import struct

DHCP_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE"}
BOOTP_COOKIE = b"\x63\x82\x53\x63"


def frames(path):
    """The frames of the file, as bytes; raises ValueError on a file that is not a pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("shorter than a pcap header")
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        order = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        order = ">"
    else:
        raise ValueError(f"not a pcap file (magic {magic.hex()})")
    linktype = struct.unpack(order + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"link type {linktype}, not Ethernet")
    out, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack(order + "I", data[pos + 8:pos + 12])[0]
        out.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    if pos != len(data):
        raise ValueError(f"truncated record at byte {pos}")
    return out


def ipv4_payload(frame):
    """(protocol, src, dst, transport bytes) of an IPv4 frame, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    return ip[9], ip[12:16], ip[16:20], ip[ihl:total]


def dhcp_messages(frames_):
    """The DHCP message types (names) in order, from UDP between ports 67 and 68."""
    seen = []
    for fr in frames_:
        p = ipv4_payload(fr)
        if not p or p[0] != 17 or len(p[3]) < 8:
            continue
        sport, dport = struct.unpack("!HH", p[3][:4])
        bootp = p[3][8:]
        if {sport, dport} != {67, 68} or bootp[236:240] != BOOTP_COOKIE:
            continue
        opts, i = bootp[240:], 0
        while i + 1 < len(opts) and opts[i] != 255:
            if opts[i] == 0:
                i += 1
                continue
            if opts[i] == 53 and opts[i + 1] == 1:
                seen.append(DHCP_TYPES.get(opts[i + 2], str(opts[i + 2])))
            i += 2 + opts[i + 1]
    return seen


def http_request_lines(frames_, port=80):
    """First lines of the TCP payloads sent to `port` that start an HTTP request."""
    lines = []
    for fr in frames_:
        p = ipv4_payload(fr)
        if not p or p[0] != 6 or len(p[3]) < 20:
            continue
        dport = struct.unpack("!H", p[3][2:4])[0]
        payload = p[3][(p[3][12] >> 4) * 4:]
        if dport == port and payload[:4] in (b"GET ", b"HEAD", b"POST"):
            lines.append(payload.split(b"\r\n", 1)[0].decode("latin-1"))
    return lines
