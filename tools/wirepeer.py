#!/usr/bin/env python3
"""wirepeer: a host-side peer for QEMU guest NICs (standard library only).

It attaches to QEMU's `-netdev dgram` (UDP, one datagram = one Ethernet frame) and
`-netdev stream` (TCP, each frame preceded by a 4-byte big-endian length) backends, on
127.0.0.1 only, and can send frames, capture frames to a pcap file, and relay frames between
several nodes with seeded, reproducible impairments. See docs/wirepeer.md.

Library API (from the project root `from tools.wirepeer import ...`; elsewhere put tools/ on
sys.path, then `from wirepeer import ...`):

  Ports. Every port has .send(frame), .recv(timeout) -> bytes | None, .fileno(), .close()
  and counters .rx_frames .rx_bytes .tx_frames .tx_bytes.  .send() refuses an empty frame
  (EmptyFrameError) and a frame over the port's MAX_FRAME (ValueError).  .recv(timeout)
  returns one frame, or None when nothing came within `timeout` seconds (0 = poll, None =
  wait without limit) or the connection ended.

  DgramPort(local_port, remote_port, host="127.0.0.1")
      A node attached with -netdev dgram.  The ports are the tool's: it binds local_port
      (QEMU's remote.port) and sends to remote_port (QEMU's local.port).  local_port=0 binds
      an ephemeral port, read back in .local_port.  Datagrams from any source other than
      host:remote_port are ignored (.stray counts them); empty datagrams are ignored
      (.empty counts them).  .qemu_netdev(id) gives the matching -netdev option.

  StreamPort.listen(port, host="127.0.0.1")
      For -netdev stream,server=off (QEMU connects).  Returns at once; the connection is
      accepted on the next recv()/send() or by .accept(timeout).  port=0 picks a free port
      (.port).  When the peer closes, the port listens again (a restarted QEMU can reconnect).
  StreamPort.connect(port, host="127.0.0.1", timeout=5.0)
      For -netdev stream,server=on (QEMU listens).  When the peer closes, .eof is set and the
      port stays closed.
      Both: .connected, .eof, .qemu_netdev(id); partial reads and frames split over TCP
      segments are reassembled; a length over MAX_FRAME is a protocol error that drops the
      connection (.errors counts it).

  PcapWriter(path, snaplen=65535)  .write(frame, ts=None)  .close()   (context manager)
      Classic libpcap file: magic 0xa1b2c3d4, version 2.4, LINKTYPE_ETHERNET (1),
      microsecond timestamps; ts defaults to time.time().  Each record is flushed.
  read_pcap(path) -> list[(ts: float, frame: bytes)]
      Reads classic pcap (either byte order, micro- or nanosecond magic).

  Impairment(loss=0.0, corrupt=0.0, corrupt_header=False, duplicate=0.0, reorder=0.0,
             reorder_depth=1, seed=0, corrupt_bits=1, reorder_delay=None,
             clock=time.monotonic)
      .apply(frame) -> list[bytes]   frames to emit now (0, 1, 2, plus released held ones)
      .poll(now=None) -> list[bytes] held frames whose reorder_delay has expired
      .flush() -> list[bytes]        every held frame, in the order it was held
      .next_deadline() -> float | None
      Counters: .seen .lost .corrupted .duplicated .reordered .passed (frames emitted).
      After flush(): passed == seen - lost + duplicated.  See docs/wirepeer.md for the exact
      order of decisions.

  Relay(ports, impairments=None, pcap=None, learning=False)
      .run(duration=None, stop_event=None, max_frames=None, flush=True) -> dict (stats())
      Forwards every frame received on one port to every other port (flooding hub; with
      learning=True, unicast to a learned MAC goes to its port only), through the
      Impairment of that (src, dst) direction.  impairments: None, a dict
      {(src_index, dst_index): Impairment}, or a callable (src_index, dst_index) ->
      Impairment | None.  pcap: a path or PcapWriter; every frame received (before
      impairment) is written.  run() needs duration or stop_event and returns by itself.
      .counters: one dict per port (rx_frames rx_bytes tx_frames tx_bytes tx_errors);
      .stats(): counters, per-direction impairment counters, learned MACs.

  Helpers: ether_frame(dst, src, ethertype, payload) -> bytes; mac("02:00:00:00:00:01") ->
  bytes; mac_str(b) -> str; parse_ether(frame) -> (dst, src, ethertype, payload);
  check_host(host) -> "127.0.0.1" or NonLoopbackError.

CLI:  wirepeer.py send | capture | relay | netdev   (--help on each).  Every command is
bounded by --seconds and/or --count and exits by itself.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

__all__ = [
    "WirepeerError", "NonLoopbackError", "EmptyFrameError", "NotConnected",
    "DgramPort", "StreamPort", "PcapWriter", "read_pcap", "Impairment", "Relay",
    "ether_frame", "mac", "mac_str", "parse_ether", "check_host",
    "LOOPBACK", "ETH_HLEN", "LINKTYPE_ETHERNET", "PCAP_MAGIC", "main",
]

LOOPBACK = "127.0.0.1"
ETH_HLEN = 14
LINKTYPE_ETHERNET = 1
PCAP_MAGIC = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
BROADCAST = b"\xff" * 6


# --------------------------------------------------------------------------- errors


class WirepeerError(Exception):
    """Base class of this module's own errors."""


class NonLoopbackError(WirepeerError, ValueError):
    """A host other than 127.0.0.1 was given."""


class EmptyFrameError(WirepeerError, ValueError):
    """An empty frame was to be sent (it would stop a QEMU dgram netdev for good)."""


class NotConnected(WirepeerError, ConnectionError):
    """A stream port has no connection (not yet accepted, or the peer closed)."""


# --------------------------------------------------------------------------- helpers


def check_host(host: str) -> str:
    """Return "127.0.0.1" for "127.0.0.1" or "localhost"; refuse anything else.

    "localhost" is mapped literally, never resolved (it could resolve to ::1 or worse).
    """
    if host in (LOOPBACK, "localhost"):
        return LOOPBACK
    raise NonLoopbackError(
        "refusing host %r: wirepeer talks to 127.0.0.1 (loopback) only" % (host,))


def mac(s: str) -> bytes:
    """'02:00:00:00:00:01' (or with '-' or no separators) -> 6 bytes."""
    t = s.strip().replace(":", "").replace("-", "").replace(".", "")
    if len(t) != 12:
        raise ValueError("bad MAC address %r" % (s,))
    try:
        return bytes.fromhex(t)
    except ValueError:
        raise ValueError("bad MAC address %r" % (s,)) from None


def mac_str(b: bytes) -> str:
    return ":".join("%02x" % x for x in bytes(b))


def ether_frame(dst: bytes, src: bytes, ethertype: int, payload: bytes = b"") -> bytes:
    """Build an Ethernet II frame (no FCS, no padding: QEMU frames carry neither)."""
    dst, src = bytes(dst), bytes(src)
    if len(dst) != 6 or len(src) != 6:
        raise ValueError("MAC addresses must be 6 bytes")
    if not 0 <= ethertype <= 0xFFFF:
        raise ValueError("ethertype out of range: %r" % (ethertype,))
    return dst + src + struct.pack("!H", ethertype) + bytes(payload)


def parse_ether(frame: bytes):
    """frame -> (dst, src, ethertype, payload); ValueError if shorter than 14 bytes."""
    frame = bytes(frame)
    if len(frame) < ETH_HLEN:
        raise ValueError("frame of %d bytes is shorter than an Ethernet header" % len(frame))
    return frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0], frame[14:]


def _check_frame(frame, max_frame: int) -> bytes:
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        raise TypeError("frame must be bytes, not %s" % type(frame).__name__)
    frame = bytes(frame)
    if not frame:
        raise EmptyFrameError("refusing to send an empty frame (a zero-length datagram "
                              "stops a QEMU dgram netdev from receiving for good)")
    if len(frame) > max_frame:
        raise ValueError("frame of %d bytes exceeds the limit of %d" % (len(frame), max_frame))
    return frame


def _check_port(port: int, allow_zero: bool = True) -> int:
    port = int(port)
    if not (0 if allow_zero else 1) <= port <= 65535:
        raise ValueError("bad port number %r" % (port,))
    return port


def _wait_readable(fd, timeout) -> bool:
    r, _, _ = select.select([fd], [], [], timeout)
    return bool(r)


# --------------------------------------------------------------------------- ports


class _Port:
    MAX_FRAME = 65507
    name = "port"

    def __init__(self):
        self.rx_frames = self.rx_bytes = self.tx_frames = self.tx_bytes = 0

    def _count_rx(self, frame):
        self.rx_frames += 1
        self.rx_bytes += len(frame)
        return frame

    def _count_tx(self, frame):
        self.tx_frames += 1
        self.tx_bytes += len(frame)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.name)


class DgramPort(_Port):
    """A QEMU node attached with -netdev dgram: one UDP datagram per frame."""

    MAX_FRAME = 65507  # largest UDP payload over IPv4

    def __init__(self, local_port: int, remote_port: int, host: str = LOOPBACK):
        super().__init__()
        self.host = check_host(host)
        self.remote_port = _check_port(remote_port, allow_zero=False)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((self.host, _check_port(local_port)))
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            raise
        self.local_port = self.sock.getsockname()[1]
        self.stray = 0   # datagrams from an unexpected source, ignored
        self.empty = 0   # zero-length datagrams, ignored
        self.name = "dgram:%d:%d" % (self.local_port, self.remote_port)

    def fileno(self) -> int:
        return self.sock.fileno()

    def qemu_netdev(self, netdev_id: str = "n0") -> str:
        return ("dgram,id=%s,local.type=inet,local.host=%s,local.port=%d,"
                "remote.type=inet,remote.host=%s,remote.port=%d"
                % (netdev_id, LOOPBACK, self.remote_port, LOOPBACK, self.local_port))

    def send(self, frame: bytes) -> None:
        frame = _check_frame(frame, self.MAX_FRAME)
        self.sock.sendto(frame, (self.host, self.remote_port))
        self._count_tx(frame)

    def recv(self, timeout: float | None = 0.0) -> bytes | None:
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                data = addr = None
            except ConnectionRefusedError:
                # An ICMP error from an earlier send; nothing to read.
                data = addr = None
            if data is not None:
                if addr != (self.host, self.remote_port):
                    self.stray += 1
                elif not data:
                    self.empty += 1
                else:
                    return self._count_rx(data)
                continue
            if deadline is None:
                _wait_readable(self.sock, None)
                continue
            left = deadline - time.monotonic()
            if left <= 0 or not _wait_readable(self.sock, left):
                return None

    def close(self) -> None:
        self.sock.close()


class StreamPort(_Port):
    """A QEMU node attached with -netdev stream: TCP, 4-byte big-endian length per frame.

    Build it with StreamPort.listen(port) (QEMU has server=off) or StreamPort.connect(port)
    (QEMU has server=on).
    """

    MAX_FRAME = 4096 + 65536  # QEMU's NET_BUFSIZE: the largest frame its reader accepts
    SEND_TIMEOUT = 5.0

    def __init__(self, host: str = LOOPBACK):
        super().__init__()
        self.host = check_host(host)
        self.listener = None
        self.conn = None
        self.port = 0
        self.mode = None
        self.eof = False     # the peer closed (connect mode: for good)
        self.errors = 0      # protocol errors (oversized length)
        self.connections = 0
        self._buf = bytearray()
        self._frames = collections.deque()

    # construction

    @classmethod
    def listen(cls, port: int, host: str = LOOPBACK) -> "StreamPort":
        self = cls(host)
        self.mode = "listen"
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((self.host, _check_port(port)))
            ls.listen(1)
            ls.setblocking(False)
        except OSError:
            ls.close()
            raise
        self.listener = ls
        self.port = ls.getsockname()[1]
        self.name = "stream-listen:%d" % self.port
        return self

    @classmethod
    def connect(cls, port: int, host: str = LOOPBACK, timeout: float = 5.0) -> "StreamPort":
        self = cls(host)
        self.mode = "connect"
        self.port = _check_port(port, allow_zero=False)
        self.name = "stream-connect:%d" % self.port
        deadline = time.monotonic() + timeout
        while True:
            try:
                s = socket.create_connection((self.host, self.port),
                                             timeout=max(0.1, deadline - time.monotonic()))
                break
            except ConnectionRefusedError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)  # QEMU may not be listening yet
        self._adopt(s)
        return self

    def _adopt(self, s) -> None:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(self.SEND_TIMEOUT)
        self.conn = s
        self.eof = False
        self.connections += 1
        self._buf = bytearray()

    def qemu_netdev(self, netdev_id: str = "n0") -> str:
        server = "off" if self.mode == "listen" else "on"
        return ("stream,id=%s,server=%s,addr.type=inet,addr.host=%s,addr.port=%d"
                % (netdev_id, server, LOOPBACK, self.port))

    @property
    def connected(self) -> bool:
        return self.conn is not None

    def fileno(self) -> int:
        if self.conn is not None:
            return self.conn.fileno()
        if self.listener is not None:
            return self.listener.fileno()
        return -1

    def accept(self, timeout: float | None = 0.0) -> bool:
        """Listen mode: take a pending connection, waiting up to `timeout`. True if connected."""
        if self.conn is not None:
            return True
        if self.listener is None:
            return False
        if timeout is None or timeout > 0:
            if not _wait_readable(self.listener, timeout):
                return False
        try:
            s, addr = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return False
        if addr[0] != LOOPBACK:  # cannot happen when bound to 127.0.0.1; be safe anyway
            s.close()
            return False
        self._adopt(s)
        return True

    def _drop_conn(self, error: bool = False) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.eof = True
        if error:
            self.errors += 1
        self._buf = bytearray()

    def _parse(self) -> None:
        buf = self._buf
        while len(buf) >= 4:
            n = struct.unpack_from("!I", buf, 0)[0]
            if n > self.MAX_FRAME:
                self._drop_conn(error=True)
                return
            if len(buf) < 4 + n:
                return
            frame = bytes(buf[4:4 + n])
            del buf[:4 + n]
            if frame:  # a zero length carries nothing: skip it
                self._frames.append(frame)

    def _read_some(self) -> bool:
        """One recv() on a readable connection. False if the connection ended."""
        try:
            data = self.conn.recv(65536)
        except (BlockingIOError, InterruptedError, socket.timeout):
            return True
        except OSError:
            self._drop_conn()
            return False
        if not data:
            self._drop_conn()
            return False
        self._buf += data
        self._parse()
        return self.conn is not None

    def recv(self, timeout: float | None = 0.0) -> bytes | None:
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            if self._frames:
                return self._count_rx(self._frames.popleft())
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self.conn is None:
                if self.mode != "listen" or self.listener is None:
                    return None
                if not self.accept(left):
                    return None
                continue
            if _wait_readable(self.conn, left):
                self._read_some()
                continue
            return None

    def send(self, frame: bytes) -> None:
        frame = _check_frame(frame, self.MAX_FRAME)
        if self.conn is None and self.mode == "listen":
            self.accept(0.0)
        if self.conn is None:
            raise NotConnected("%s: no connection" % self.name)
        try:
            self.conn.sendall(struct.pack("!I", len(frame)) + frame)
        except OSError:
            self._drop_conn()
            raise
        self._count_tx(frame)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None


# --------------------------------------------------------------------------- pcap


class PcapWriter:
    """Classic libpcap writer: LINKTYPE_ETHERNET, microsecond timestamps."""

    def __init__(self, path: str, snaplen: int = 65535, linktype: int = LINKTYPE_ETHERNET):
        self.path = path
        self.snaplen = snaplen
        self.count = 0
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, snaplen, linktype))
        self.f.flush()

    def write(self, frame: bytes, ts: float | None = None) -> None:
        frame = bytes(frame)
        if ts is None:
            ts = time.time()
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        if usec >= 1000000:
            sec, usec = sec + 1, usec - 1000000
        data = frame[:self.snaplen]
        self.f.write(struct.pack("<IIII", sec, usec, len(data), len(frame)) + data)
        self.f.flush()
        self.count += 1

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_pcap(path: str):
    """Read a classic pcap file -> list of (timestamp seconds as float, frame bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: too short for a pcap header" % path)
    for endian in ("<", ">"):
        magic = struct.unpack_from(endian + "I", data, 0)[0]
        if magic in (PCAP_MAGIC, PCAP_MAGIC_NS):
            break
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    div = 1e9 if magic == PCAP_MAGIC_NS else 1e6
    out = []
    off = 24
    rec = struct.Struct(endian + "IIII")
    while off + 16 <= len(data):
        sec, frac, incl, _orig = rec.unpack_from(data, off)
        off += 16
        if off + incl > len(data):
            raise ValueError("%s: truncated record" % path)
        out.append((sec + frac / div, data[off:off + incl]))
        off += incl
    if off != len(data):
        raise ValueError("%s: trailing bytes" % path)
    return out


# --------------------------------------------------------------------------- impairment


def _prob(name, p):
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError("%s must be within [0, 1], got %r" % (name, p))
    return p


class Impairment:
    """Seeded, reproducible impairments for one direction of traffic.

    For each frame, four random numbers are drawn in a fixed order (loss, corrupt,
    duplicate, reorder), whatever the settings, so the loss pattern for a seed does not
    depend on the other probabilities.  Then:
      1. loss:      dropped (counted in .lost); it still advances held frames' countdowns.
      2. corrupt:   corrupt_bits distinct random bits are flipped, in bytes 14.. (or
                    anywhere with corrupt_header=True); a frame with nothing to corrupt
                    passes unchanged and is not counted.  Bit positions come from a second
                    generator seeded from `seed`.
      3. duplicate: the (possibly corrupted) frame is emitted twice.
      4. reorder:   the frame (with its duplicate) is held and released after
                    reorder_depth more frames have been applied (reorder_depth=0: no count
                    limit), or once reorder_delay seconds have passed (see poll()),
                    whichever comes first, or by flush().
    apply() returns the current frame's copies first, then any frames released.
    """

    def __init__(self, loss=0.0, corrupt=0.0, corrupt_header=False, duplicate=0.0,
                 reorder=0.0, reorder_depth=1, seed=0, corrupt_bits=1, reorder_delay=None,
                 clock=time.monotonic):
        self.loss = _prob("loss", loss)
        self.corrupt = _prob("corrupt", corrupt)
        self.duplicate = _prob("duplicate", duplicate)
        self.reorder = _prob("reorder", reorder)
        self.corrupt_header = bool(corrupt_header)
        self.corrupt_bits = int(corrupt_bits)
        if self.corrupt_bits < 1:
            raise ValueError("corrupt_bits must be >= 1")
        self.reorder_depth = int(reorder_depth)
        if self.reorder_depth < 0:
            raise ValueError("reorder_depth must be >= 0")
        if reorder_delay is not None and float(reorder_delay) <= 0:
            raise ValueError("reorder_delay must be > 0 or None")
        self.reorder_delay = None if reorder_delay is None else float(reorder_delay)
        if self.reorder > 0 and self.reorder_depth == 0 and self.reorder_delay is None:
            raise ValueError("reorder needs reorder_depth >= 1 or a reorder_delay")
        self.seed = seed
        self.clock = clock
        self._rng = random.Random(seed)
        self._bitrng = random.Random("wirepeer-bits-%s" % (seed,))
        self._held = []  # entries [countdown, deadline or None, [frames]], in hold order
        self.seen = self.lost = self.corrupted = self.duplicated = 0
        self.reordered = self.passed = 0

    @property
    def held(self) -> int:
        """Frames held back right now."""
        return sum(len(h[2]) for h in self._held)

    def counters(self) -> dict:
        return {k: getattr(self, k) for k in
                ("seen", "lost", "corrupted", "duplicated", "reordered", "passed")}

    def _corrupt(self, frame: bytes) -> bytes:
        start = 0 if self.corrupt_header else ETH_HLEN
        nbits = (len(frame) - start) * 8
        if nbits <= 0:
            return frame
        b = bytearray(frame)
        for bit in self._bitrng.sample(range(nbits), min(self.corrupt_bits, nbits)):
            b[start + bit // 8] ^= 1 << (bit % 8)
        self.corrupted += 1
        return bytes(b)

    def _expired(self, now=None) -> list:
        if self.reorder_delay is None or not self._held:
            return []
        now = self.clock() if now is None else now
        out, keep = [], []
        for h in self._held:
            if h[1] <= now:
                out.extend(h[2])
            else:
                keep.append(h)
        self._held = keep
        return out

    def apply(self, frame: bytes) -> list:
        """Impair one frame; return the frames to emit now, in order."""
        frame = bytes(frame)
        self.seen += 1
        r_loss, r_cor, r_dup, r_reo = [self._rng.random() for _ in range(4)]
        out = []
        if r_loss < self.loss:
            self.lost += 1
        else:
            if r_cor < self.corrupt:
                frame = self._corrupt(frame)
            copies = [frame]
            if r_dup < self.duplicate:
                copies.append(frame)
                self.duplicated += 1
            if r_reo < self.reorder:
                self.reordered += 1
                deadline = (None if self.reorder_delay is None
                            else self.clock() + self.reorder_delay)
                # +1: the decrement below belongs to this frame's own apply()
                self._held.append([self.reorder_depth + 1, deadline, copies])
            else:
                out.extend(copies)
        if self.reorder_depth and self._held:
            keep = []
            for h in self._held:
                h[0] -= 1
                if h[0] <= 0:
                    out.extend(h[2])
                else:
                    keep.append(h)
            self._held = keep
        out.extend(self._expired())
        self.passed += len(out)
        return out

    def poll(self, now: float | None = None) -> list:
        """Return held frames whose reorder_delay has expired (to be emitted now)."""
        out = self._expired(now)
        self.passed += len(out)
        return out

    def next_deadline(self):
        """The clock() value at which poll() next has something, or None."""
        ds = [h[1] for h in self._held if h[1] is not None]
        return min(ds) if ds else None

    def flush(self) -> list:
        """Return every held frame, in the order they were held."""
        out = []
        for h in self._held:
            out.extend(h[2])
        self._held = []
        self.passed += len(out)
        return out


# --------------------------------------------------------------------------- relay


class Relay:
    """A hub between ports, with an optional Impairment per (src, dst) direction."""

    BURST = 256  # frames read from one port before looking at the others

    def __init__(self, ports, impairments=None, pcap=None, learning=False):
        self.ports = list(ports)
        if len(self.ports) < 2:
            raise ValueError("a relay needs at least two ports")
        n = len(self.ports)
        self.impairments = {}
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                if impairments is None:
                    imp = None
                elif callable(impairments):
                    imp = impairments(i, j)
                else:
                    imp = impairments.get((i, j))
                if imp is not None:
                    self.impairments[(i, j)] = imp
        self._own_pcap = isinstance(pcap, (str, bytes, os.PathLike))
        self.pcap = PcapWriter(pcap) if self._own_pcap else pcap
        self.learning = bool(learning)
        self.macs = {}
        self.counters = [dict(rx_frames=0, rx_bytes=0, tx_frames=0, tx_bytes=0, tx_errors=0)
                         for _ in self.ports]
        self.forwarded = {(i, j): 0 for i in range(n) for j in range(n) if i != j}
        self.frames = 0

    def _deliver(self, i, j, frames) -> None:
        port, c = self.ports[j], self.counters[j]
        for f in frames:
            try:
                port.send(f)
            except (OSError, ValueError):
                c["tx_errors"] += 1
                continue
            c["tx_frames"] += 1
            c["tx_bytes"] += len(f)
            self.forwarded[(i, j)] += 1

    def _targets(self, i, frame):
        others = [j for j in range(len(self.ports)) if j != i]
        if not self.learning or len(frame) < 12:
            return others
        dst, src = frame[0:6], frame[6:12]
        if not src[0] & 1:
            self.macs[src] = i
        if not dst[0] & 1 and dst in self.macs:
            j = self.macs[dst]
            return [] if j == i else [j]
        return others

    def _handle(self, i, frame) -> None:
        c = self.counters[i]
        c["rx_frames"] += 1
        c["rx_bytes"] += len(frame)
        self.frames += 1
        if self.pcap is not None:
            self.pcap.write(frame)
        for j in self._targets(i, frame):
            imp = self.impairments.get((i, j))
            self._deliver(i, j, imp.apply(frame) if imp is not None else [frame])

    def run(self, duration=None, stop_event=None, max_frames=None, flush=True) -> dict:
        """Forward until `duration` seconds pass, `stop_event` is set, or `max_frames`
        frames were received.  With flush, held frames are emitted at the end."""
        if duration is None and stop_event is None:
            raise ValueError("Relay.run needs a duration or a stop_event (it must end)")
        end = None if duration is None else time.monotonic() + float(duration)
        try:
            while True:
                now = time.monotonic()
                if end is not None and now >= end:
                    break
                if stop_event is not None and stop_event.is_set():
                    break
                if max_frames is not None and self.frames >= max_frames:
                    break
                busy = False
                for i, p in enumerate(self.ports):
                    for _ in range(self.BURST):
                        if max_frames is not None and self.frames >= max_frames:
                            break
                        f = p.recv(0.0)
                        if f is None:
                            break
                        self._handle(i, f)
                    else:
                        busy = True
                wait = 0.0 if busy else 0.05
                for (i, j), imp in self.impairments.items():
                    out = imp.poll()
                    if out:
                        self._deliver(i, j, out)
                    d = imp.next_deadline()
                    if d is not None:
                        wait = min(wait, max(0.0, d - time.monotonic()))
                if end is not None:
                    wait = min(wait, max(0.0, end - time.monotonic()))
                fds = [p for p in self.ports if p.fileno() >= 0]
                if fds:
                    select.select(fds, [], [], wait)
                else:
                    time.sleep(wait)
        finally:
            if flush:
                for (i, j), imp in self.impairments.items():
                    out = imp.flush()
                    if out:
                        self._deliver(i, j, out)
            if self._own_pcap and self.pcap is not None:
                self.pcap.close()
        return self.stats()

    def stats(self) -> dict:
        return {
            "frames": self.frames,
            "ports": [dict(name=p.name, **c) for p, c in zip(self.ports, self.counters)],
            "directions": {
                "%d->%d" % k: dict(forwarded=v, **(self.impairments[k].counters()
                                                   if k in self.impairments else {}))
                for k, v in sorted(self.forwarded.items())},
            "macs": {mac_str(m): i for m, i in sorted(self.macs.items())},
        }


# --------------------------------------------------------------------------- CLI


def _parse_pair(s: str):
    try:
        a, b = s.split(":")
        a, b = _check_port(a, allow_zero=False), _check_port(b, allow_zero=False)
    except ValueError:
        raise argparse.ArgumentTypeError("expected LOCAL:REMOTE port numbers, got %r" % s)
    return a, b


def _parse_port(s: str) -> int:
    try:
        return _check_port(s, allow_zero=False)
    except ValueError:
        raise argparse.ArgumentTypeError("bad port number %r" % s)


def _parse_int(s: str) -> int:
    try:
        return int(s, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("bad number %r" % s)


def _parse_hex(s: str) -> bytes:
    t = "".join(s.split()).replace(":", "")
    if t.startswith(("0x", "0X")):
        t = t[2:]
    try:
        return bytes.fromhex(t)
    except ValueError:
        raise argparse.ArgumentTypeError("bad hex string %r" % s)


def _parse_mac(s: str) -> bytes:
    try:
        return mac(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


class _PortAction(argparse.Action):
    """Collects --dgram / --stream-listen / --stream-connect in command-line order."""

    def __call__(self, parser, ns, value, option_string=None):
        lst = list(getattr(ns, "ports", None) or [])
        lst.append((option_string.lstrip("-"), value))
        ns.ports = lst


def _add_port_args(p, help_suffix=""):
    g = p.add_argument_group("nodes" + help_suffix)
    g.add_argument("--dgram", action=_PortAction, type=_parse_pair, dest="ports",
                   metavar="LOCAL:REMOTE",
                   help="a node on -netdev dgram: the tool binds LOCAL (QEMU's remote.port) "
                        "and sends to REMOTE (QEMU's local.port)")
    g.add_argument("--stream-listen", action=_PortAction, type=_parse_port, dest="ports",
                   metavar="PORT", help="a node on -netdev stream,server=off: listen on PORT")
    g.add_argument("--stream-connect", action=_PortAction, type=_parse_port, dest="ports",
                   metavar="PORT", help="a node on -netdev stream,server=on: connect to PORT")
    g.add_argument("--host", default=LOOPBACK,
                   help="must be 127.0.0.1 (or localhost); anything else is refused")


def _netdev_line(kind, value, netdev_id):
    if kind == "dgram":
        local, remote = value
        return ("dgram,id=%s,local.type=inet,local.host=%s,local.port=%d,"
                "remote.type=inet,remote.host=%s,remote.port=%d"
                % (netdev_id, LOOPBACK, remote, LOOPBACK, local))
    server = "off" if kind == "stream-listen" else "on"
    return ("stream,id=%s,server=%s,addr.type=inet,addr.host=%s,addr.port=%d"
            % (netdev_id, server, LOOPBACK, value))


def _open_ports(specs, host, connect_timeout):
    ports = []
    try:
        for kind, value in specs:
            if kind == "dgram":
                ports.append(DgramPort(value[0], value[1], host))
            elif kind == "stream-listen":
                ports.append(StreamPort.listen(value, host))
            else:
                ports.append(StreamPort.connect(value, host, timeout=connect_timeout))
    except BaseException:
        for p in ports:
            p.close()
        raise
    return ports


def _describe(frame: bytes) -> str:
    if len(frame) < ETH_HLEN:
        return "%d bytes (short)" % len(frame)
    dst, src, et, _ = parse_ether(frame)
    return "%s > %s type 0x%04x len %d" % (mac_str(src), mac_str(dst), et, len(frame))


def _cmd_netdev(args):
    for n, (kind, value) in enumerate(args.ports):
        print("-netdev %s" % _netdev_line(kind, value, "%s%d" % (args.id_prefix, n)))
    return 0


def _cmd_send(args):
    if len(args.ports) != 1:
        raise WirepeerError("send takes exactly one node")
    if args.raw_hex is not None:
        frame = args.raw_hex
    else:
        payload = args.payload_hex or b""
        frame = ether_frame(args.dst, args.src, args.ethertype, payload)
    if args.pad and len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    if not frame:
        raise EmptyFrameError("refusing to send an empty frame (it would stop a QEMU dgram "
                              "netdev from receiving for good)")
    if args.count < 1:
        raise WirepeerError("--count must be >= 1")
    (port,) = _open_ports(args.ports, args.host, args.wait)
    try:
        if isinstance(port, StreamPort) and port.mode == "listen":
            if not port.accept(args.wait):
                raise WirepeerError("no QEMU connected to port %d within %.1fs"
                                    % (port.port, args.wait))
        for k in range(args.count):
            if k and args.interval:
                time.sleep(args.interval)
            port.send(frame)
        print("sent %d frame(s) of %d bytes to %s" % (args.count, len(frame), port.name))
    finally:
        port.close()
    return 0


def _cmd_capture(args):
    if not args.ports:
        raise WirepeerError("capture needs at least one node")
    if args.seconds <= 0:
        raise WirepeerError("--seconds must be > 0")
    ports = _open_ports(args.ports, args.host, min(args.seconds, 5.0))
    for n, (kind, value) in enumerate(args.ports):
        print("# node %d: attach QEMU with -netdev %s" % (n, _netdev_line(kind, value, "n%d" % n)),
              file=sys.stderr)
    w = PcapWriter(args.pcap)
    got = 0
    t0 = time.monotonic()
    end = t0 + args.seconds
    try:
        while time.monotonic() < end and (args.count is None or got < args.count):
            for n, p in enumerate(ports):
                while args.count is None or got < args.count:
                    f = p.recv(0.0)
                    if f is None:
                        break
                    w.write(f)
                    got += 1
                    if not args.quiet:
                        print("%.6f node%d %s" % (time.monotonic() - t0, n, _describe(f)))
            fds = [p for p in ports if p.fileno() >= 0]
            wait = max(0.0, min(0.05, end - time.monotonic()))
            if fds:
                select.select(fds, [], [], wait)
            else:
                time.sleep(wait)
    except KeyboardInterrupt:
        pass
    finally:
        w.close()
        for p in ports:
            p.close()
    print("captured %d frame(s) to %s" % (got, args.pcap))
    return 0


_IMP_KEYS = {"loss": float, "corrupt": float, "corrupt_header": lambda v: v.lower() in
             ("1", "true", "yes", "on"), "corrupt_bits": int, "duplicate": float,
             "reorder": float, "reorder_depth": int, "reorder_delay": float, "seed": int}


def _parse_dir(s: str):
    """'SRC:DST:key=val,key=val' -> ((src, dst), {key: val})"""
    try:
        src, dst, rest = s.split(":", 2)
        kv = {}
        for item in filter(None, rest.split(",")):
            k, v = item.split("=", 1)
            k = k.strip().replace("-", "_")
            if k not in _IMP_KEYS:
                raise ValueError("unknown key %r" % k)
            kv[k] = _IMP_KEYS[k](v.strip())
        return (int(src), int(dst)), kv
    except ValueError as e:
        raise argparse.ArgumentTypeError("bad --dir %r (%s); expected SRC:DST:key=value,..."
                                         % (s, e))


def _cmd_relay(args):
    if len(args.ports) < 2:
        raise WirepeerError("relay needs at least two nodes")
    if args.seconds <= 0:
        raise WirepeerError("--seconds must be > 0")
    n = len(args.ports)
    base = dict(loss=args.loss, corrupt=args.corrupt, corrupt_header=args.corrupt_header,
                corrupt_bits=args.corrupt_bits, duplicate=args.duplicate, reorder=args.reorder,
                reorder_depth=args.reorder_depth, reorder_delay=args.reorder_delay)
    per_dir = {}
    for (i, j), kv in args.dir or []:
        if not (0 <= i < n and 0 <= j < n and i != j):
            raise WirepeerError("--dir %d:%d: no such direction among %d nodes" % (i, j, n))
        per_dir.setdefault((i, j), {}).update(kv)
    imps = {}
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            kw = dict(base, seed=args.seed * 65536 + i * 256 + j)
            kw.update(per_dir.get((i, j), {}))
            imps[(i, j)] = Impairment(**kw)  # validates before any socket is opened
    ports = _open_ports(args.ports, args.host, min(args.seconds, 5.0))
    for k, (kind, value) in enumerate(args.ports):
        print("# node %d: attach QEMU with -netdev %s" % (k, _netdev_line(kind, value, "n%d" % k)),
              file=sys.stderr)
    relay = Relay(ports, impairments=imps, pcap=args.pcap, learning=args.learning)
    stop = threading.Event()
    try:
        stats = relay.run(duration=args.seconds, stop_event=stop)
    except KeyboardInterrupt:
        stats = relay.stats()
    finally:
        for p in ports:
            p.close()
    if args.json:
        print(json.dumps(stats, indent=1, sort_keys=True))
    else:
        print("relayed %d frame(s)" % stats["frames"])
        for k, pc in enumerate(stats["ports"]):
            print("node %d %-24s rx %d/%dB tx %d/%dB tx_errors %d"
                  % (k, pc["name"], pc["rx_frames"], pc["rx_bytes"], pc["tx_frames"],
                     pc["tx_bytes"], pc["tx_errors"]))
        for d, dc in stats["directions"].items():
            print("dir %s " % d + " ".join("%s %d" % kv for kv in sorted(dc.items())))
    return 0


def _build_parser():
    ap = argparse.ArgumentParser(
        prog="wirepeer.py",
        description="Host-side peer for QEMU -netdev dgram/stream NICs (127.0.0.1 only).")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("send", help="send Ethernet frames to one node")
    _add_port_args(p)
    p.add_argument("--dst", type=_parse_mac, default=BROADCAST, help="default ff:ff:ff:ff:ff:ff")
    p.add_argument("--src", type=_parse_mac, default=mac("02:00:00:00:00:01"),
                   help="default 02:00:00:00:00:01")
    p.add_argument("--ethertype", type=_parse_int, default=0x88B5, help="default 0x88b5")
    p.add_argument("--payload-hex", type=_parse_hex, help="payload after the 14-byte header")
    p.add_argument("--raw-hex", type=_parse_hex,
                   help="the whole frame in hex (overrides --dst/--src/--ethertype/--payload-hex)")
    p.add_argument("--pad", action="store_true", help="pad the frame with zeros to 60 bytes")
    p.add_argument("--count", type=int, default=1, help="frames to send (default 1)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between frames")
    p.add_argument("--wait", type=float, default=10.0,
                   help="stream: seconds to wait for the connection (default 10)")
    p.set_defaults(func=_cmd_send)

    p = sub.add_parser("capture", help="capture frames from nodes to a pcap file")
    _add_port_args(p)
    p.add_argument("--pcap", required=True, help="output file (classic pcap, Ethernet)")
    p.add_argument("--seconds", type=float, required=True, help="how long to capture")
    p.add_argument("--count", type=int, help="stop after this many frames")
    p.add_argument("--quiet", "-q", action="store_true", help="no line per frame")
    p.set_defaults(func=_cmd_capture)

    p = sub.add_parser("relay", help="relay frames between nodes, with impairments")
    _add_port_args(p)
    p.add_argument("--seconds", type=float, required=True, help="how long to relay")
    p.add_argument("--pcap", help="write every frame received (before impairment) here")
    p.add_argument("--learning", action="store_true",
                   help="learn source MACs; unicast to a known MAC goes to its node only")
    g = p.add_argument_group("impairments (every direction; --dir overrides one)")
    g.add_argument("--loss", type=float, default=0.0, help="probability a frame is dropped")
    g.add_argument("--corrupt", type=float, default=0.0, help="probability bits are flipped")
    g.add_argument("--corrupt-header", action="store_true",
                   help="corruption may hit the 14-byte Ethernet header too")
    g.add_argument("--corrupt-bits", type=int, default=1, help="bits flipped per corruption")
    g.add_argument("--duplicate", type=float, default=0.0, help="probability of a duplicate")
    g.add_argument("--reorder", type=float, default=0.0, help="probability a frame is held")
    g.add_argument("--reorder-depth", type=int, default=1,
                   help="a held frame is released after this many later frames (default 1)")
    g.add_argument("--reorder-delay", type=float, help="or after this many seconds")
    g.add_argument("--seed", type=int, default=0,
                   help="seed; direction i->j uses seed*65536 + i*256 + j")
    g.add_argument("--dir", action="append", type=_parse_dir, metavar="SRC:DST:K=V,...",
                   help="per-direction settings, e.g. 0:1:loss=0.2,reorder=0.1")
    p.add_argument("--json", action="store_true", help="print the counters as JSON")
    p.set_defaults(func=_cmd_relay)

    p = sub.add_parser("netdev", help="print the QEMU -netdev options matching the nodes")
    _add_port_args(p)
    p.add_argument("--id-prefix", default="n", help="netdev ids are PREFIX0, PREFIX1, ...")
    p.set_defaults(func=_cmd_netdev)
    return ap


def main(argv=None) -> int:
    ap = _build_parser()
    args = ap.parse_args(argv)
    if not getattr(args, "ports", None):
        args.ports = []
    try:
        check_host(args.host)
        return args.func(args)
    except (NonLoopbackError, EmptyFrameError) as e:
        print("wirepeer: error: %s" % e, file=sys.stderr)
        return 2
    except (WirepeerError, OSError, ValueError) as e:
        print("wirepeer: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
