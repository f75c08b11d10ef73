"""Drives the zero-copy frame path end to end and turns it into test results.

    python3 -m tests.qemu.run_nettest --qemu "QEMU COMMAND" [--bench]   (from the project root)

Boots Nexus with `nettest` in bootargs and its NIC on a `-netdev dgram` socket pair on
127.0.0.1, with this script as the wire peer (tools/wirepeer.py). The kernel binds a test
service (tests/qemu/netsvc.c) to every NetSwitch port and prints NETTEST READY. Then:

  - a frame of every routed EtherType must come back from the right service, its payload being
    the service's tag followed by the sent frame byte for byte (route + intact RX and TX);
  - unknown EtherTypes, runts and oversized frames get no answer and are counted as drops;
  - a frame of an EtherType the service is not granted is refused by the kernel and counted;
  - a flood into a paused service overruns its ring: drops are counted, the rest answered;
  - a service that keeps every RX buffer it reads (HOARD) is stopped at its RX budget, counted
    as over_budget, while the other ports still answer and the device's queue stays full of
    the spare buffers;
  - a FINISH frame lets the kernel check zero copy, the pool's return to its baseline and
    that every service is alive, and print the /Bus/net counters, which are compared with
    what was sent here.

Output: PASS/FAIL lines (qemu_net.<name>) for tests/run.py. Console log and a pcap of every
frame the peer saw: nettest.{log,pcap} in --logdir. With --bench it also measures frames/s
into a sink service and prints the kernel's instructions-per-frame figure, which only the test
kernel (build/nexus-test.elf) measures and publishes (/Bus/net/switch/rx_instret/...).
"""
import argparse
import os
import random
import re
import socket
import sys
import time

from tests.harness.abi import abi_constant
from tests.harness.guest import Guest
from tests.harness.net import free_port
from tests.harness.report import Report
from tools.wirepeer import DgramPort, PcapWriter, ether_frame, mac, parse_ether

NIC_MAC = mac("52:54:00:12:34:56")  # QEMU's default for the first NIC
PEER_MAC = mac("02:00:00:00:00:01")
ROUTES = {0x0800: "membrane", 0x0806: "membrane", 0x86DD: "membrane", 0x88B5: "utcp", 0x4C57: "lwf"}
TYPE_OF = {"membrane": 0x0800, "utcp": 0x88B5, "lwf": 0x4C57}
COUNTER_LINE = re.compile(r"^(/Bus/(?:net|test)/\S+)=(.*)$")
HOARD_SECONDS = 4.0  # tests/qemu/netsvc.c HOARD_NS



RX_BUFS = abi_constant("NEXUS_ION_RX_BUFS")


def frame_to_service(ethertype, payload):
    return ether_frame(NIC_MAC, PEER_MAC, ethertype, payload)


def expect_answer(port, sent, service, timeout=3.0):
    """The answer to `sent`: (ok, detail). It must come from `service` and carry `sent` intact."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = port.recv(timeout=deadline - time.monotonic())
        if got is None:
            break
        dst, src, etype, payload = parse_ether(got)
        if dst != PEER_MAC:
            continue  # not for us (e.g. a stray broadcast)
        tag = payload[:8].decode("ascii", "replace").strip()
        if tag != service:
            return False, f"answered by {tag!r}, expected {service!r}"
        if payload[8:8 + len(sent)] != sent:
            return False, "the echoed bytes differ from the frame sent"
        if src != NIC_MAC:
            return False, "source MAC is not the NIC's"
        if etype != int.from_bytes(sent[12:14], "big"):
            return False, f"answered with EtherType {etype:#06x}"
        return True, ""
    return False, f"no answer within {timeout} s"


def expect_silence(port, seconds):
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        if port.recv(timeout=deadline - time.monotonic()) is not None:
            n += 1
    return n


def drive(port, res, rng):
    sent = {"unknown": 0, "runt": 0, "oversized": 0}
    for etype, service in ROUTES.items():
        for size in (46, 600, 1500 - 8 - 14 - 14):  # the answer adds a tag and our header
            frame = frame_to_service(etype, bytes(rng.getrandbits(8) for _ in range(size)))
            port.send(frame)
            ok, detail = expect_answer(port, frame, service)
            res(f"route_{etype:04x}_{size}_to_{service}", ok, detail)
    header_only = frame_to_service(0x88B5, b"")
    port.send(header_only)
    ok, detail = expect_answer(port, header_only, "utcp")
    res("header_only_frame", ok, detail)

    for etype in (0x1234, 0x8100, 0x0000, 0x88B6):
        port.send(frame_to_service(etype, b"unknown type" * 4))
        sent["unknown"] += 1
    for size in (1, 10, 13):
        port.send(bytes(rng.getrandbits(8) for _ in range(size)))
        sent["runt"] += 1
    for size in (1515, 1600, 2000):
        port.send(frame_to_service(0x0800, b"x" * (size - 14)))
        sent["oversized"] += 1
    res("bad_frames_get_no_answer", expect_silence(port, 1.0) == 0, "something answered")

    port.send(frame_to_service(0x88B5, b"BADTX"))
    res("ungranted_tx_not_sent", expect_silence(port, 1.0) == 0, "a refused frame reached the wire")

    port.send(frame_to_service(0x88B5, b"BADPART"))
    res("bad_two_part_frames_not_sent", expect_silence(port, 1.0) == 0, "a refused two-part frame reached the wire")

    port.send(frame_to_service(0x88B5, b"PAUSE"))
    time.sleep(0.3)
    flood = 300
    for i in range(flood):
        port.send(frame_to_service(0x88B5, b"flood %05d " % i + b"." * 64))
    answers = 0
    deadline = time.monotonic() + 8.0
    while time.monotonic() < deadline:
        if port.recv(timeout=max(0.0, deadline - time.monotonic())) is None:
            break
        answers += 1
    sent["flood"] = flood
    sent["flood_answers"] = answers - 1  # one answer is the PAUSE frame's
    # UTCP frames sent besides the flood: 3 route sizes, header-only, BADTX, BADPART, PAUSE.
    sent["utcp_not_flood"] = 7
    res("flood_partly_answered", 0 < sent["flood_answers"] < flood,
        f"{sent['flood_answers']} of {flood} answered")

    # After the flood the path must work as before.
    frame = frame_to_service(0x4C57, b"after the flood")
    port.send(frame)
    ok, detail = expect_answer(port, frame, "lwf")
    res("works_after_flood", ok, detail)

    hoard(port, res)
    sent["utcp_not_flood"] += 1  # the frame after the hoard; the hoarded ones are counted apart
    return sent


def hoard(port, res):
    """UTCP's service keeps every RX buffer it reads for HOARD_SECONDS while its port is
    flooded: the switch must stop it at its budget, and the other ports must still receive."""
    port.send(frame_to_service(0x88B5, b"HOARD"))
    started = time.monotonic()
    time.sleep(0.2)
    for i in range(200):
        port.send(frame_to_service(0x88B5, b"hoard %05d " % i + b"." * 64))
        if i % 32 == 31:
            time.sleep(0.01)  # below the host socket's limit: the guest decides what is dropped
    time.sleep(0.3)
    for etype, service in ((0x4C57, "lwf"), (0x0800, "membrane")):
        frame = frame_to_service(etype, b"while utcp hoards")
        port.send(frame)
        ok, detail = expect_answer(port, frame, service, timeout=1.5)
        res(f"{service}_answers_while_utcp_hoards", ok, detail)
    time.sleep(max(0.0, started + HOARD_SECONDS + 0.5 - time.monotonic()))
    frame = frame_to_service(0x88B5, b"after the hoard")
    port.send(frame)
    ok, detail = expect_answer(port, frame, "utcp")
    res("utcp_answers_after_hoard", ok, detail)


def check_counters(counters, sent, res):
    def get(key):
        return int(counters.get("/Bus/net/switch/" + key, "-1"))

    res("counted_unknown_ethertypes", get("drop/unknown_ethertype") == sent["unknown"],
        f"{get('drop/unknown_ethertype')} counted, {sent['unknown']} sent")
    res("counted_runts", get("drop/runt") == sent["runt"],
        f"{get('drop/runt')} counted, {sent['runt']} sent")
    res("counted_oversized", get("drop/oversized") == sent["oversized"],
        f"{get('drop/oversized')} counted, {sent['oversized']} sent")
    res("counted_refused_tx", get("port/utcp/tx_refused_ethertype") == 1,
        f"{get('port/utcp/tx_refused_ethertype')} refused")
    res("counted_refused_two_part_frames", get("port/utcp/tx_refused_handle") == 5,
        f"{get('port/utcp/tx_refused_handle')} refused")
    full = get("port/utcp/rx_ring_full")
    res("flood_overran_ring_counted", full > 0 and full == get("drop/ring_full"),
        f"ring_full {full}, drop/ring_full {get('drop/ring_full')}")
    # Frames the service got = its port's rx_frames less the non-flood ones. A flood also loses
    # frames before the NIC (QEMU stops reading the socket while no buffer is posted and the
    # host drops what overflows): those are outside the guest and reported, not counted.
    hoarded = int(counters.get("/Bus/test/netsvc/utcp/hoarded", "-1"))
    budget = get("port/utcp/rx_budget")
    res("hoard_stopped_at_budget", 0 < budget == hoarded, f"UTCP's service held {hoarded}, budget {budget}")
    over = get("port/utcp/rx_over_budget")
    res("hoard_over_budget_counted", over > 0 and over == get("drop/over_budget"),
        f"rx_over_budget {over}, drop/over_budget {get('drop/over_budget')}")
    def pool(key):
        return int(counters.get("/Bus/net/pool/" + key, "-1"))
    slots = int(counters.get("/Bus/net/nic/rx_slots", "-1"))
    # The device's queue never went short: while UTCP held its budget and the ring flood held
    # another ring's worth, spare buffers (beyond the device's 128) filled every slot a frame left.
    res("device_queue_stayed_full", 0 < slots == pool("rx_posted_low") == pool("rx_posted"),
        f"rx_slots {slots}, rx_posted_low {pool('rx_posted_low')}, rx_posted {pool('rx_posted')}")
    # Once the services gave theirs back, each of the pool's RX buffers is posted or spare.
    res("spare_buffers_accounted", pool("rx_spare_errors") == 0 and pool("rx_posted") + pool("rx_spare") == RX_BUFS,
        f"posted {pool('rx_posted')} + spare {pool('rx_spare')}, errors {pool('rx_spare_errors')}")
    delivered = get("port/utcp/rx_frames") - sent["utcp_not_flood"] - max(hoarded, 0)
    res("flood_every_delivered_frame_answered", delivered == sent["flood_answers"],
        f"{delivered} delivered, {sent['flood_answers']} answered")
    print(f"nettest: flood of {sent['flood']}: {delivered} delivered, {full} dropped on the full ring, "
          f"{sent['flood'] - delivered - full} lost before the NIC", file=sys.stderr)
    res("rx_copied_bytes_zero", get("rx_copied_bytes") == 0, f"{get('rx_copied_bytes')} bytes copied")
    res("no_refused_returns", get("returns_refused") == 0 and
        int(counters.get("/Bus/net/pool/refused_transfers", "-1")) == 0,
        "a buffer changed hands wrongly")


def bench(port, seconds=3.0):
    """Frames/s into a sink service: the peer sends as fast as it can for `seconds`."""
    port.send(frame_to_service(0x4C57, b"SINK"))
    time.sleep(0.2)
    payload = b"s" * 46
    frame = frame_to_service(0x4C57, payload)
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        for _ in range(64):
            port.send(frame)
        n += 64
        time.sleep(0)  # let the receiving side of the loopback breathe
    return n, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line; its -netdev is replaced")
    ap.add_argument("--timeout", type=float, default=240.0)
    ap.add_argument("--logdir", default="build/test-logs")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--expect-transport", default="2", help="virtio-mmio version the NIC must use")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)

    port = DgramPort(0, free_port(socket.SOCK_DGRAM))
    pcap = PcapWriter(os.path.join(args.logdir, "nettest.pcap"))
    send, recv = port.send, port.recv

    def send_logged(frame):
        pcap.write(frame)
        send(frame)

    def recv_logged(timeout=0.0):
        frame = recv(timeout)
        if frame is not None:
            pcap.write(frame)
        return frame

    port.send, port.recv = send_logged, recv_logged

    guest = Guest(args.qemu, port, log=os.path.join(args.logdir, "nettest.log"), bootargs="nettest",
                  timeout=args.timeout)
    console = guest.console
    res = Report("qemu_net")
    try:
        ready = console.wait_for("NETTEST READY", 60)
        res("kernel_ready", ready is not None, "no NETTEST READY")
        if ready:
            sent = drive(port, res, random.Random(args.seed))
            if args.bench:
                n, dt = bench(port)
                print(f"BENCH frames_sent={n} seconds={dt:.2f}", flush=True)
            # A flood can leave the host socket full for a while: repeat FINISH until heard.
            for _ in range(60):
                port.send(frame_to_service(0x4C57, b"FINISH"))
                if console.wait_for("NETTEST COUNTERS", 1.0):
                    break
            console.wait_for("SELFTEST DONE", 30)
        status = guest.wait_exit(30)
    finally:
        guest.stop()
        pcap.close()
        port.close()

    for name, ok, detail in console.kernel_tests():
        res("kernel." + name, ok, detail)
    counters = {}
    for line in console.since(0):
        m = COUNTER_LINE.match(line)
        if m:
            counters[m.group(1)] = m.group(2)
    if ready and not args.bench:
        check_counters(counters, sent, res)
        transport = counters.get("/Bus/net/nic/transport", "")
        res("transport_v" + args.expect_transport, transport == "virtio-mmio v" + args.expect_transport,
            f"NIC transport is {transport!r}")
        # The instructions-per-frame histogram is a bench instrument of the test kernel, which
        # this runner boots (the product's absence of it: tests/frontdoor/product.py).
        measured = "/Bus/net/switch/rx_instret/median" in counters
        res("rx_cost_published_by_test_kernel", measured, "no /Bus/net/switch/rx_instret/median")
    if ready and args.bench:
        # Frames the sink got during the bench: everything the LWF port received less the
        # 9 route frames, the post-flood frame, SINK and the FINISH frames before it.
        got = int(counters.get("/Bus/net/switch/port/lwf/rx_frames", "0")) - 11
        dropped = sum(int(v) for k, v in counters.items() if k.startswith("/Bus/net/switch/drop/"))
        copied = counters.get("/Bus/net/switch/rx_copied_bytes", "-1")
        print(f"BENCH sink_frames={got} dropped_in_switch={dropped} rx_copied_bytes={copied}", flush=True)
        if "/Bus/net/switch/rx_instret/median" in counters:
            print("BENCH " + " ".join("instret_%s=%s" % (k, counters["/Bus/net/switch/rx_instret/" + k])
                                      for k in ("median", "frames", "bracket", "straight32", "loop33")
                                      if "/Bus/net/switch/rx_instret/" + k in counters), flush=True)
    lines = console.since(0)
    done = any(l.startswith("SELFTEST DONE") for l in lines)
    res("harness.completed", done, f"no SELFTEST DONE (QEMU status {status})")
    res("harness.no_panic", not any(l.startswith("PANIC") for l in lines), "the kernel panicked")
    res("harness.exit_status", status == (1 if any(n.startswith("kernel.") for n in res.failed) else 0),
        f"QEMU exit status {status}")
    if res.failed:
        print(f"nettest: first failed check: {res.failed[0]}", file=sys.stderr)
    return res.exit_status()


if __name__ == "__main__":
    sys.exit(main())
