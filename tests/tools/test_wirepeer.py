"""Tests of tools/wirepeer.py on loopback, without QEMU (standard library only).

Run from the repository root: python3 -m tests.tools.test_wirepeer
Prints `PASS wirepeer.<name>` or `FAIL wirepeer.<name>: <detail>` per check; exits 1 if any
check failed.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from tests.harness.net import free_ports
from tests.harness.report import Checks, Fail, Report, expect
from tools import wirepeer
from tools.wirepeer import (DgramPort, EmptyFrameError, Impairment, NonLoopbackError, PcapWriter, Relay,
                            StreamPort, ether_frame, mac, parse_ether, read_pcap)

WIREPEER = os.path.join("tools", "wirepeer.py")  # the command line as docs/wirepeer.md shows it
check = Checks()
A = mac("02:00:00:00:00:0a")
B = mac("02:00:00:00:00:0b")
C = mac("02:00:00:00:00:0c")


def frame(i, size=64, src=A, dst=B):
    body = struct.pack("!I", i) + bytes((i + k) & 0xFF for k in range(max(0, size - 18)))
    return ether_frame(dst, src, 0x88B5, body)


def dgram_pair():
    """Two DgramPorts pointed at each other, like the tool and a QEMU dgram netdev."""
    for _ in range(20):
        pa, pb = free_ports(2, socket.SOCK_DGRAM)
        try:
            a = DgramPort(pa, pb)
        except OSError:
            continue
        try:
            b = DgramPort(pb, pa)
        except OSError:
            a.close()
            continue
        return a, b
    raise Fail("could not bind two free UDP ports")


def stream_raw_pair():
    """A listening StreamPort and a raw TCP socket connected to it (the 'QEMU' side)."""
    port = StreamPort.listen(0)
    raw = socket.create_connection(("127.0.0.1", port.port), timeout=2)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    expect(port.accept(2.0), "listener did not accept")
    return port, raw


# --------------------------------------------------------------------------- helpers


@check
def ether_helpers():
    f = ether_frame(B, A, 0x0800, b"xyz")
    expect(len(f) == 17 and f[:6] == B and f[6:12] == A and f[12:14] == b"\x08\x00",
           "bad layout %r" % f)
    expect(parse_ether(f) == (B, A, 0x0800, b"xyz"), "parse_ether round trip")
    expect(mac("02-00-00-00-00-0A") == A, "mac() with dashes/upper case")
    for bad in ("02:00:00", "zz:00:00:00:00:00"):
        try:
            mac(bad)
            raise Fail("mac(%r) accepted" % bad)
        except ValueError:
            pass
    try:
        parse_ether(b"short")
        raise Fail("parse_ether accepted 5 bytes")
    except ValueError:
        pass


# --------------------------------------------------------------------------- dgram


@check
def dgram_send_recv():
    a, b = dgram_pair()
    try:
        frames = [frame(i, 60 + i) for i in range(50)] + [b"\x01", frame(99, 1514)]
        for f in frames:
            a.send(f)
        got = [b.recv(1.0) for _ in frames]
        expect(got == frames, "frames differ (got %d non-None)" % sum(g is not None for g in got))
        expect(b.recv(0.05) is None, "extra frame received")
        b.send(frame(7))
        expect(a.recv(1.0) == frame(7), "reverse direction")
        expect(a.tx_frames == len(frames) and b.rx_frames == len(frames)
               and b.rx_bytes == sum(map(len, frames)), "counters")
        expect("local.port=%d" % a.remote_port in a.qemu_netdev("n0")
               and "remote.port=%d" % a.local_port in a.qemu_netdev("n0"), "qemu_netdev ports")
    finally:
        a.close()
        b.close()


@check
def dgram_ignores_strays_and_empty():
    a, b = dgram_pair()
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.1", 0))
    try:
        stranger.sendto(b"not from the peer", ("127.0.0.1", b.local_port))
        # an empty datagram from the right source must be ignored, not returned
        a.sock.sendto(b"", ("127.0.0.1", b.local_port))
        a.send(frame(1))
        expect(b.recv(1.0) == frame(1), "real frame not received after stray/empty")
        expect(b.stray == 1 and b.empty == 1, "stray=%d empty=%d" % (b.stray, b.empty))
    finally:
        stranger.close()
        a.close()
        b.close()


@check
def refuses_empty_frame():
    a, b = dgram_pair()
    sp = StreamPort.listen(0)
    try:
        for port in (a, sp):
            for empty in (b"", bytearray(), memoryview(b"")):
                try:
                    port.send(empty)
                    raise Fail("%s accepted an empty frame" % port.name)
                except EmptyFrameError:
                    pass
        expect(b.recv(0.1) is None, "something was sent")
        expect(a.tx_frames == 0, "tx counted")
        try:
            a.send(b"x" * (DgramPort.MAX_FRAME + 1))
            raise Fail("oversized frame accepted")
        except ValueError:
            pass
    finally:
        a.close()
        b.close()
        sp.close()


@check
def refuses_non_loopback():
    for host in ("0.0.0.0", "10.0.2.2", "192.168.1.1", "::1", "example.com", "", "127.0.0.2"):
        for make in (lambda h: DgramPort(0, 9, host=h), lambda h: StreamPort.listen(0, h),
                     lambda h: StreamPort.connect(9, h, timeout=0.1)):
            try:
                p = make(host)
                p.close()
                raise Fail("host %r accepted" % host)
            except NonLoopbackError as e:
                expect("127.0.0.1" in str(e), "message does not say loopback: %s" % e)
    expect(wirepeer.check_host("localhost") == "127.0.0.1", "localhost not mapped")


# --------------------------------------------------------------------------- stream


@check
def stream_one_byte_writes():
    port, raw = stream_raw_pair()
    try:
        frames = [frame(1, 60), frame(2, 1514), b"\xaa"]
        wire = b"".join(struct.pack("!I", len(f)) + f for f in frames)
        got = []
        for k in range(len(wire)):
            raw.sendall(wire[k:k + 1])
            f = port.recv(0.02 if k % 97 == 0 else 0.0)
            if f is not None:
                got.append((k, f))
        deadline = time.monotonic() + 2
        while len(got) < len(frames) and time.monotonic() < deadline:
            f = port.recv(0.1)
            if f is not None:
                got.append((len(wire), f))
        expect([f for _, f in got] == frames, "frames differ: %d received" % len(got))
        # no frame may come out before its last byte was written
        ends, pos = [], 0
        for f in frames:
            pos += 4 + len(f)
            ends.append(pos - 1)
        expect(all(k >= e for (k, _), e in zip(got, ends)), "frame delivered early")
    finally:
        raw.close()
        port.close()


@check
def stream_many_frames_one_write():
    port, raw = stream_raw_pair()
    try:
        frames = [frame(i, 20 + i * 7) for i in range(100)]
        raw.sendall(b"".join(struct.pack("!I", len(f)) + f for f in frames))
        got = []
        deadline = time.monotonic() + 3
        while len(got) < len(frames) and time.monotonic() < deadline:
            f = port.recv(0.2)
            if f is not None:
                got.append(f)
        expect(got == frames, "got %d of %d frames, equal=%s" % (len(got), len(frames),
                                                               got == frames[:len(got)]))
        # and the other way: port -> raw, with the 4-byte big-endian length
        port.send(b"hello-frame-0123")
        raw.settimeout(2)
        data = b""
        while len(data) < 20:
            data += raw.recv(100)
        expect(data == struct.pack(">I", 16) + b"hello-frame-0123", "wire format %r" % data)
    finally:
        raw.close()
        port.close()


@check
def stream_peer_close():
    port, raw = stream_raw_pair()
    try:
        f = frame(5)
        raw.sendall(struct.pack("!I", len(f)) + f + struct.pack("!I", 100) + b"partial")
        raw.close()
        expect(port.recv(1.0) == f, "complete frame before close lost")
        expect(port.recv(0.3) is None, "partial frame returned")
        expect(port.eof and not port.connected, "eof not seen")
        try:
            port.send(frame(6))
            raise Fail("send after close did not raise")
        except ConnectionError:
            pass
        # listen mode: a new peer (a restarted QEMU) can connect again
        raw2 = socket.create_connection(("127.0.0.1", port.port), timeout=2)
        raw2.sendall(struct.pack("!I", len(f)) + f)
        expect(port.recv(2.0) == f and port.connections == 2, "no reconnection")
        raw2.close()
    finally:
        port.close()


@check
def stream_oversized_length():
    port, raw = stream_raw_pair()
    try:
        raw.sendall(struct.pack("!I", StreamPort.MAX_FRAME + 1) + b"x" * 64)
        expect(port.recv(0.5) is None and port.errors == 1, "oversized length not refused")
    finally:
        raw.close()
        port.close()


@check
def stream_listen_connect_pair():
    server = StreamPort.listen(0)
    client = StreamPort.connect(server.port, timeout=2)
    try:
        expect(server.accept(2.0), "not accepted")
        for i in range(20):
            client.send(frame(i))
            server.send(frame(100 + i))
        got_s = [server.recv(1.0) for _ in range(20)]
        got_c = [client.recv(1.0) for _ in range(20)]
        expect(got_s == [frame(i) for i in range(20)], "client->server")
        expect(got_c == [frame(100 + i) for i in range(20)], "server->client")
        expect("server=off" in server.qemu_netdev() and "server=on" in client.qemu_netdev(),
               "qemu_netdev server flag")
        server.close()
        expect(client.recv(1.0) is None and client.eof, "connect side did not see close")
    finally:
        server.close()
        client.close()


# --------------------------------------------------------------------------- pcap


@check
def pcap_round_trip():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.pcap")
        frames = [frame(i, 60 + i) for i in range(10)] + [b"\x01", b"y" * 70000]
        with PcapWriter(path, snaplen=65535) as w:
            for k, f in enumerate(frames):
                w.write(f, ts=1700000000.25 + k * 0.000001 if k != 3 else 1700000000.9999999)
        raw = open(path, "rb").read()
        magic, vmaj, vmin, zone, sigfigs, snaplen, linktype = struct.unpack_from("<IHHiIII", raw)
        expect(magic == 0xA1B2C3D4, "magic %#x" % magic)
        expect((vmaj, vmin) == (2, 4), "version %d.%d" % (vmaj, vmin))
        expect(zone == 0 and sigfigs == 0, "thiszone/sigfigs")
        expect(snaplen == 65535, "snaplen %d" % snaplen)
        expect(linktype == 1, "linktype %d" % linktype)
        recs = read_pcap(path)
        expect(len(recs) == len(frames), "%d records" % len(recs))
        expect([r[1] for r in recs[:-1]] == frames[:-1], "frames differ")
        expect(recs[-1][1] == frames[-1][:65535], "snaplen truncation")
        # the original length is kept in the record header
        off = 24
        for f in frames[:-1]:
            off += 16 + len(f)
        expect(struct.unpack_from("<IIII", raw, off)[3] == 70000, "orig_len")
        expect(abs(recs[0][0] - 1700000000.25) < 1e-6 and abs(recs[1][0] - 1700000000.250001)
               < 1e-6, "timestamps %r %r" % (recs[0][0], recs[1][0]))
        sec, usec = struct.unpack_from("<II", raw, 24 + sum(16 + len(f) for f in frames[:3]))
        expect((sec, usec) == (1700000001, 0), "usec carry: %d.%06d" % (sec, usec))


# --------------------------------------------------------------------------- impairments


@check
def impairment_passthrough():
    imp = Impairment(seed=1)
    frames = [frame(i) for i in range(100)]
    out = [o for f in frames for o in imp.apply(f)] + imp.flush()
    expect(out == frames, "default Impairment changed the stream")
    expect(imp.counters() == dict(seen=100, lost=0, corrupted=0, duplicated=0, reordered=0,
                                  passed=100), "counters %r" % imp.counters())


@check
def impairment_loss_rate():
    n = 10000
    imp = Impairment(loss=0.3, seed=42)
    out = [o for i in range(n) for o in imp.apply(frame(i))]
    expect(abs(imp.lost - 0.3 * n) < 0.03 * n, "lost %d of %d" % (imp.lost, n))
    expect(len(out) == n - imp.lost == imp.passed, "passed %d out %d" % (imp.passed, len(out)))
    kept = [struct.unpack("!I", o[14:18])[0] for o in out]
    expect(kept == sorted(kept), "loss reordered frames")
    # same seed, same decisions; other settings do not change the loss pattern
    imp2 = Impairment(loss=0.3, corrupt=0.5, duplicate=0.1, seed=42)
    lost2 = [not imp2.apply(frame(i)) for i in range(n)]
    imp3 = Impairment(loss=0.3, seed=42)
    lost3 = [not imp3.apply(frame(i)) for i in range(n)]
    expect(imp2.lost == imp.lost == imp3.lost and lost2 == lost3, "not reproducible")
    imp4 = Impairment(loss=0.3, seed=43)
    for i in range(n):
        imp4.apply(frame(i))
    expect(imp4.lost != imp.lost, "seed has no effect")


@check
def impairment_corrupt_payload_only():
    n = 2000
    imp = Impairment(corrupt=0.5, seed=7)
    changed = 0
    for i in range(n):
        f = frame(i, 64)
        (o,) = imp.apply(f)
        expect(len(o) == len(f), "length changed")
        expect(o[:14] == f[:14], "header corrupted without corrupt_header")
        if o != f:
            changed += 1
            diff = sum(bin(x ^ y).count("1") for x, y in zip(o, f))
            expect(diff == 1, "%d bits flipped, expected 1" % diff)
    expect(changed == imp.corrupted and abs(changed - n / 2) < 0.05 * n,
           "corrupted %d (counter %d)" % (changed, imp.corrupted))
    # a header-only frame cannot be corrupted without corrupt_header
    hdr_only = ether_frame(B, A, 0x88B5, b"")
    imp = Impairment(corrupt=1.0, seed=1)
    expect(imp.apply(hdr_only) == [hdr_only] and imp.corrupted == 0, "header-only frame")
    imp = Impairment(corrupt=1.0, corrupt_bits=5, seed=1)
    (o,) = imp.apply(frame(1))
    expect(sum(bin(x ^ y).count("1") for x, y in zip(o, frame(1))) == 5, "corrupt_bits=5")


@check
def impairment_corrupt_header():
    imp = Impairment(corrupt=1.0, corrupt_header=True, seed=3)
    hdr_hits = 0
    for i in range(2000):
        f = frame(i, 28)
        (o,) = imp.apply(f)
        expect(o != f, "corrupt=1.0 left a frame intact")
        if o[:14] != f[:14]:
            hdr_hits += 1
    # 14 of 28 bytes are header: about half the flips land there
    expect(600 < hdr_hits < 1400, "header hit %d of 2000" % hdr_hits)


@check
def impairment_duplicate():
    n = 5000
    imp = Impairment(duplicate=0.2, seed=11)
    out = []
    for i in range(n):
        o = imp.apply(frame(i))
        expect(len(o) in (1, 2) and all(x == frame(i) for x in o), "bad duplicate")
        out += o
    expect(abs(imp.duplicated - 0.2 * n) < 0.03 * n, "duplicated %d" % imp.duplicated)
    expect(len(out) == n + imp.duplicated == imp.passed, "count")


@check
def impairment_reorder():
    n = 3000
    for depth in (1, 3):
        imp = Impairment(reorder=0.2, reorder_depth=depth, seed=5)
        frames = [frame(i) for i in range(n)]
        out = [o for f in frames for o in imp.apply(f)] + imp.flush()
        expect(sorted(out) == sorted(frames), "reorder lost or added frames (depth %d)" % depth)
        expect(out != frames, "order unchanged (depth %d)" % depth)
        expect(abs(imp.reordered - 0.2 * n) < 0.03 * n, "reordered %d" % imp.reordered)
        expect(imp.passed == n and imp.held == 0, "passed %d held %d" % (imp.passed, imp.held))
        pos = {f: k for k, f in enumerate(out)}
        late = max(pos[f] - k for k, f in enumerate(frames))
        expect(late <= depth * 10, "a frame was held too long: %d" % late)
    # depth 1, one frame held: it comes right after the next one
    imp = Impairment(reorder=1.0, seed=0)
    o1 = imp.apply(frame(1))
    imp.reorder = 0.0
    o2 = imp.apply(frame(2))
    expect(o1 == [] and o2 == [frame(2), frame(1)], "depth-1 swap: %r %r" % (len(o1), len(o2)))


@check
def impairment_reorder_delay():
    now = [100.0]
    imp = Impairment(reorder=1.0, reorder_depth=0, reorder_delay=0.5, seed=1,
                     clock=lambda: now[0])
    expect(imp.apply(frame(1)) == [] and imp.apply(frame(2)) == [], "released too early")
    expect(imp.next_deadline() == 100.5, "deadline %r" % imp.next_deadline())
    now[0] = 100.4
    expect(imp.poll() == [], "released before the delay")
    now[0] = 100.6
    expect(imp.poll() == [frame(1), frame(2)] and imp.passed == 2, "not released after delay")
    try:
        Impairment(reorder=0.5, reorder_depth=0)
        raise Fail("reorder with neither depth nor delay accepted")
    except ValueError:
        pass
    for bad in (dict(loss=1.5), dict(corrupt=-0.1), dict(reorder_depth=-1),
                dict(corrupt_bits=0)):
        try:
            Impairment(**bad)
            raise Fail("accepted %r" % bad)
        except ValueError:
            pass


@check
def impairment_all_together():
    n = 5000
    imp = Impairment(loss=0.1, corrupt=0.1, duplicate=0.1, reorder=0.1, reorder_depth=2,
                     seed=99)
    out = [o for i in range(n) for o in imp.apply(frame(i))] + imp.flush()
    expect(imp.passed == len(out) == n - imp.lost + imp.duplicated,
           "passed %d out %d lost %d dup %d" % (imp.passed, len(out), imp.lost, imp.duplicated))
    again = Impairment(loss=0.1, corrupt=0.1, duplicate=0.1, reorder=0.1, reorder_depth=2,
                       seed=99)
    out2 = [o for i in range(n) for o in again.apply(frame(i))] + again.flush()
    expect(out == out2, "same seed gave a different output")


# --------------------------------------------------------------------------- relay


def relay_nodes(k):
    """k (relay-side port, node-side port) DgramPort pairs."""
    return [dgram_pair() for _ in range(k)]


@check
def relay_three_ports():
    nodes = relay_nodes(3)
    relay_ports = [r for r, _ in nodes]
    ends = [n for _, n in nodes]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "relay.pcap")
        relay = Relay(relay_ports, pcap=path)
        stop = threading.Event()
        result = {}
        t = threading.Thread(target=lambda: result.update(relay.run(duration=5, stop_event=stop)))
        t.start()
        try:
            sent = {0: [frame(i, src=A) for i in range(20)],
                    1: [frame(100 + i, src=B, dst=C) for i in range(5)]}
            for k, fs in sent.items():
                for f in fs:
                    ends[k].send(f)
            want = {0: sent[1], 1: sent[0], 2: sent[0] + sent[1]}
            for k in range(3):
                got = []
                deadline = time.monotonic() + 2
                while len(got) < len(want[k]) and time.monotonic() < deadline:
                    f = ends[k].recv(0.2)
                    if f is not None:
                        got.append(f)
                expect(sorted(got) == sorted(want[k]), "node %d got %d of %d"
                       % (k, len(got), len(want[k])))
                expect(ends[k].recv(0.05) is None, "node %d got an extra frame" % k)
        finally:
            stop.set()
            t.join(3)
        expect(not t.is_alive(), "relay did not stop")
        c = result["ports"]
        expect(c[0]["rx_frames"] == 20 and c[1]["rx_frames"] == 5 and c[2]["rx_frames"] == 0,
               "rx counters %r" % c)
        expect(c[0]["tx_frames"] == 5 and c[1]["tx_frames"] == 20 and c[2]["tx_frames"] == 25,
               "tx counters %r" % c)
        expect(c[1]["tx_bytes"] == sum(map(len, sent[0])), "tx bytes")
        expect(result["directions"]["0->2"]["forwarded"] == 20, "direction counters")
        expect(len(read_pcap(path)) == 25, "pcap has %d frames" % len(read_pcap(path)))
    for r, n in nodes:
        r.close()
        n.close()


@check
def relay_learning_and_impairment():
    nodes = relay_nodes(3)
    ends = [n for _, n in nodes]
    imps = {(0, 1): Impairment(loss=0.5, seed=1)}
    relay = Relay([r for r, _ in nodes], impairments=imps, learning=True)
    stop = threading.Event()
    t = threading.Thread(target=relay.run, kwargs=dict(duration=5, stop_event=stop))
    t.start()
    try:
        ends[1].send(frame(0, src=B, dst=A))       # teaches the relay that B is on port 1
        expect(ends[0].recv(1.0) == frame(0, src=B, dst=A), "flooded frame not at 0")
        expect(ends[2].recv(1.0) == frame(0, src=B, dst=A), "flooded frame not at 2")
        for i in range(200):
            ends[0].send(frame(i, src=A, dst=B))   # unicast to B: port 1 only, 50% loss
        time.sleep(0.5)
        got = 0
        while ends[1].recv(0.05) is not None:
            got += 1
        expect(ends[2].recv(0.1) is None, "learned unicast leaked to port 2")
        expect(got == 200 - imps[(0, 1)].lost and 60 < got < 140, "got %d lost %d"
               % (got, imps[(0, 1)].lost))
    finally:
        stop.set()
        t.join(3)
    expect(relay.stats()["macs"] == {"02:00:00:00:00:0a": 0, "02:00:00:00:00:0b": 1},
           "macs %r" % relay.stats()["macs"])
    for r, n in nodes:
        r.close()
        n.close()


@check
def relay_stream_and_dgram():
    d_relay, d_node = dgram_pair()
    s_relay = StreamPort.listen(0)
    relay = Relay([d_relay, s_relay])
    stop = threading.Event()
    t = threading.Thread(target=relay.run, kwargs=dict(duration=5, stop_event=stop))
    t.start()
    raw = socket.create_connection(("127.0.0.1", s_relay.port), timeout=2)
    try:
        f = frame(1)
        raw.sendall(struct.pack("!I", len(f))[:2])
        time.sleep(0.05)
        raw.sendall(struct.pack("!I", len(f))[2:] + f)
        expect(d_node.recv(2.0) == f, "stream -> dgram")
        time.sleep(0.1)
        d_node.send(frame(2))
        raw.settimeout(2)
        data = b""
        while len(data) < 4 + len(frame(2)):
            data += raw.recv(4096)
        expect(data == struct.pack("!I", len(frame(2))) + frame(2), "dgram -> stream")
    finally:
        stop.set()
        t.join(3)
        raw.close()
        d_relay.close()
        d_node.close()
        s_relay.close()


@check
def relay_bounded():
    a, b = dgram_pair()
    c, d = dgram_pair()
    relay = Relay([a, c])
    t0 = time.monotonic()
    relay.run(duration=0.3)
    el = time.monotonic() - t0
    expect(0.25 < el < 1.5, "duration 0.3 took %.2fs" % el)
    try:
        relay.run()
        raise Fail("run() without a bound accepted")
    except ValueError:
        pass
    for p in (a, b, c, d):
        p.close()


# --------------------------------------------------------------------------- CLI


def cli(*args, timeout=10):
    return subprocess.run([sys.executable, WIREPEER] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, universal_newlines=True)


@check
def cli_send():
    pa, pb = free_ports(2, socket.SOCK_DGRAM)
    node = DgramPort(pb, pa)
    try:
        r = cli("send", "--dgram", "%d:%d" % (pa, pb), "--ethertype", "0x88b5",
                "--payload-hex", "deadbeef", "--count", "3", "--dst", "02:00:00:00:00:0b")
        expect(r.returncode == 0, "rc %d: %s" % (r.returncode, r.stderr.strip()))
        want = ether_frame(B, mac("02:00:00:00:00:01"), 0x88B5, bytes.fromhex("deadbeef"))
        got = [node.recv(1.0) for _ in range(3)]
        expect(got == [want] * 3, "got %r" % got)
    finally:
        node.close()


@check
def cli_refusals():
    r = cli("send", "--host", "10.0.2.2", "--dgram", "40000:40001", "--payload-hex", "00")
    expect(r.returncode == 2 and "127.0.0.1" in r.stderr, "non-loopback: rc %d %r"
           % (r.returncode, r.stderr))
    r = cli("send", "--dgram", "40000:40001", "--raw-hex", "")
    expect(r.returncode == 2 and "empty" in r.stderr, "empty: rc %d %r"
           % (r.returncode, r.stderr))
    r = cli("relay", "--dgram", "40000:40001", "--seconds", "1")
    expect(r.returncode != 0, "relay with one node accepted")
    r = cli("netdev", "--dgram", "40002:40001", "--stream-listen", "40010")
    expect(r.returncode == 0 and "local.port=40001" in r.stdout
           and "remote.port=40002" in r.stdout and "server=off" in r.stdout,
           "netdev output %r" % r.stdout)


def wait_attached(proc, nodes, timeout=30.0):
    """Reads the tool's stderr until it has said how to attach each of `nodes` nodes, which it
    says once their ports are open: frames sent before that are lost (a fixed pause was too
    short on a loaded host). Returns the lines read, for communicate() misses them."""
    lines, deadline = [], time.monotonic() + timeout
    while sum(l.startswith("# node ") for l in lines) < nodes and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
    return "".join(lines)


@check
def cli_relay_and_capture():
    # node0 -> relay (a subprocess) -> node1; then capture from node0's side
    p = free_ports(4, socket.SOCK_DGRAM)
    n0, n1 = DgramPort(p[1], p[0]), DgramPort(p[3], p[2])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.pcap")
        proc = subprocess.Popen(
            [sys.executable, WIREPEER, "relay",
             "--dgram", "%d:%d" % (p[0], p[1]), "--dgram", "%d:%d" % (p[2], p[3]),
             "--seconds", "1.0", "--pcap", path, "--json", "--seed", "3"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        try:
            said = wait_attached(proc, 2)
            for i in range(10):
                n0.send(frame(i))
            got = [n1.recv(1.0) for _ in range(10)]
            out, err = proc.communicate(timeout=5)
            err = said + err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        expect(proc.returncode == 0, "relay rc %d: %s" % (proc.returncode, err.strip()))
        expect(got == [frame(i) for i in range(10)], "relayed frames differ")
        stats = json.loads(out)
        expect(stats["ports"][0]["rx_frames"] == 10 and stats["ports"][1]["tx_frames"] == 10,
               "stats %r" % stats["ports"])
        expect(len(read_pcap(path)) == 10, "pcap")

        cap = os.path.join(d, "c.pcap")
        proc = subprocess.Popen(
            [sys.executable, WIREPEER, "capture",
             "--dgram", "%d:%d" % (p[0], p[1]), "--pcap", cap, "--seconds", "1.0", "-q"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        try:
            said = wait_attached(proc, 1)
            for i in range(5):
                n0.send(frame(i))
            out, err = proc.communicate(timeout=5)
            err = said + err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        expect(proc.returncode == 0 and "captured 5" in out, "capture: %r %r" % (out, err))
        expect([f for _, f in read_pcap(cap)] == [frame(i) for i in range(5)], "capture pcap")
    n0.close()
    n1.close()


def main():
    t0 = time.monotonic()
    report = Report("wirepeer")
    check.run(report)
    print("# %d checks, %d failed, %.1fs" % (len(check), len(report.failed), time.monotonic() - t0),
          file=sys.stderr)
    return report.exit_status()

if __name__ == "__main__":
    sys.exit(main())
