"""`make bench`: prints Nexus's figures as a table. Measures; never fails on a number.

    python3 -m tools.bench --qemu "QEMU COMMAND"   (from the project root)

Figures so far:
  - boot to first fiber: wall time from QEMU's launch until the first U-mode fiber prints
    (the `hello` service), median of 5 boots;
  - kernel image size: loadable bytes of build/nexus.elf (text + data, services included),
    each embedded service image, the kernel alone, and build/nexus-serving.elf (the kernel with
    the Membrane's and httpd's images alone: what serves HTTP), with the smallest `-m` with
    which that image serves (as below);
  - NetSwitch guest instructions per received frame (demux, enqueue, counters, the wake-flag
    look; rdinstret), median over every frame of a 3 s flood. Only the test kernel
    (build/nexus-test.elf) carries the histogram, so that run boots it; QEMU's instret is only a
    guest instruction count with -icount, so that run uses `-icount shift=0`. The kernel also
    publishes its bracket's calibration (an empty bracket, 32 nops, a 33-instruction loop), and
    the row prints the median less the empty bracket: the exact count when the calibration
    reads 32 and 33 (docs/testing.md);
  - frames/s from the wire peer into a sink service, and the frames the switch dropped
    (ring full) meanwhile, from a run without -icount;
  - LWF between two test-kernel nodes on the wire peer (tests/e2e/run_qemu_lwf.py --bench): the
    time on the wire from a node's soliciting ANNOUNCE to its first DATA frame, and frames/s of
    64 KiB lwfping round trips each way;
  - UTCP between two test-kernel nodes (tests/e2e/run_qemu_utcp.py --bench): MB/s of 16 MiB each
    way at once with utcpcat, lossless and under 1 % and 5 % loss, with the receivers' reports
    (NACK + WINDOW frames) per MiB moved and the UTCP frames the nodes' NetSwitch dropped (a
    receiver that cannot keep up); and httpd over UTCP, node 1's utcpget of 16 MiB from node 0's
    httpd (one way, lossless);
  - UTCP against lwIP's TCP between the same two test-kernel nodes, static addresses on the
    wire (tests/e2e/run_qemu_tcp_vs_utcp.py): MB/s of node 1 fetching 16 MiB from node 0's httpd
    with curl -o /dev/null and with utcpget, at 0 % and 5 % loss (the same seeded loss on every
    frame), the frames node 1 sent back per MiB: TCP segments vs UTCP's NACK + WINDOW, and the
    frames node 1's NetSwitch dropped for each (ring full or over budget);
  - UTCP's host simulation (build/bench/utcp_sim: tests/host/test_utcp_sim.c at -O2 without
    sanitizers): wire frames per wall-clock second of its 64-node mesh, 2016 sessions moving
    4032 streams under 5 % loss, cores, crypto, switch and byte checks included;
  - libsodium in the guest: microseconds of guest time per Ed25519 sign and verify, XChaCha20-
    Poly1305 seal and open of 1 KiB, and X25519 (tests/qemu/cryptocheck.c, test kernel);
  - HTTP through QEMU's user network (guest port 80 forwarded to a loopback port): wall time
    from QEMU's launch to the first `200` for `GET /` (median of 5), wrk requests/s on `/`
    with one and eight connections (keep-alive), bulk MB/s of `GET /bytes/64MiB`, the RX bytes
    copied after all that, and the smallest `-m` with which Nexus still serves (`GET /`,
    `GET /bytes/1024` and a 16 MiB bulk GET, whole), its bulk MB/s and which services could not
    start there;
  - the guest-time profile of HTTP (tests/e2e/http_profile.py, test kernel, -icount): guest
    instructions per layer (kernel interrupts, syscalls and scheduler, the Membrane's loop
    phases, httpd) for one GET /, one keep-alive GET /bytes/1024, one Connection: close
    GET /bytes/1024 and one bulk MiB;
  - rinetd 0.73 (tests/e2e/run_qemu_rinetd.py): MB/s of GET /bytes/4MiB straight from httpd and
    through rinetd's :8081 forward (lwIP's loopback inside the guest);
  - mosquitto 2.0.11 (tests/e2e/run_qemu_mosquitto.py): MQTT messages/s host -> broker -> host
    at QoS 0 and 1, Debian's mosquitto_pub -l to mosquitto_sub;
  - curl 7.88.1 in the test kernel (tests/e2e/run_qemu_curl.py): MB/s of `curl -o` of 960 KiB
    from the host's loopback into its file area, as curl measures it, median of 3;
  - where boot and a restart spend their time (tests/e2e/boot_bench.py): each boot stage by the
    guest's clock (median of 5 boots) and by guest instructions (one boot under -icount), from
    OpenSBI through the kernel's init, the services' loading and the Membrane's DHCP to the
    first accepted connection; and a Membrane fault (test kernel, 10 crashes) to the new
    Membrane running, its address, its first frame, the lease confirmed and the next accept.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

from tests.e2e.boot_bench import boot_breakdown, restart_breakdown
from tests.e2e.http_bench import http_bench, smallest_memory
from tests.e2e.http_profile import profile_rows as http_profile_rows
from tests.e2e.run_qemu_containment import boot_test_kernel, measure_recoveries
from tests.e2e.run_qemu_curl import BENCH_BYTES as CURL_BENCH_BYTES, bench_download as curl_download
from tests.e2e.run_qemu_mosquitto import BENCH_MESSAGES, bench_rates, start_guest as start_mosquitto_guest
from tests.e2e.run_qemu_rinetd import BULK_BYTES, bulk_figures, start_guest as start_rinetd_guest
from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.qemu.run_cryptocheck import measure as crypto_measure

RECOVERY_CRASHES = 20


def recovery_bench(qemu, kernel, logdir):
    """Membrane crash to the next HTTP 200, over RECOVERY_CRASHES memory and instruction faults
    of the test build's Membrane (tests/e2e/run_qemu_containment.py)."""
    with boot_test_kernel(qemu, kernel, logdir) as guest:
        if guest.console.wait_for(said_by("httpd", "httpd: listening"), 90) is None:
            return [("Membrane recovery", "the test kernel did not come up")]
        runs = measure_recoveries(guest, RECOVERY_CRASHES, ["null", "wild", "illegal"])
    times = [s for _, s, _ in runs if s is not None]
    if not times:
        return [("Membrane recovery", "no crash recovered")]
    return [("Membrane crash to next HTTP 200 (median, %d crashes)" % len(times),
             "%.1f ms" % (statistics.median(times) * 1000)),
            ("Membrane crash to next HTTP 200 (min .. max)",
             "%.1f .. %.1f ms" % (min(times) * 1000, max(times) * 1000))]


def rinetd_bench(qemu, logdir):
    """Bulk MB/s through rinetd against httpd straight, in the product kernel."""
    guest, started = start_rinetd_guest(qemu, logdir)
    try:
        if not started:
            return [("rinetd bulk MB/s", "rinetd did not start")]
        direct, through = bulk_figures(guest)
    finally:
        guest.stop()
    shown = lambda v: "%.2f" % v if v else "failed"  # noqa: E731
    return [("rinetd bulk MB/s, GET /bytes/%dMiB straight vs through rinetd :8081" % (BULK_BYTES >> 20),
             "%s vs %s" % (shown(direct), shown(through)))]


def mosquitto_bench(qemu, logdir):
    """MQTT messages/s through the guest broker at QoS 0 and 1, in the product kernel."""
    guest, broker = start_mosquitto_guest(qemu, logdir)
    try:
        rates = bench_rates(broker) if broker else {}
    finally:
        guest.stop()
    label = "mosquitto messages/s host -> broker -> host, %d messages, QoS %d"
    if not broker:
        return [(label % (BENCH_MESSAGES, 0), "the broker did not start")]
    return [(label % (BENCH_MESSAGES, qos), "%.0f" % rate if rate else "failed") for qos, rate in rates.items()]


FIRST_FIBER_LINE = said_by("hello", "hello from hello")


def boot_to_first_fiber(qemu, timeout=60.0):
    with Guest(qemu) as guest:
        if guest.console.wait_for(FIRST_FIBER_LINE, timeout) is None:
            return None
        return time.monotonic() - guest.started


def net_bench(qemu, logdir):
    """Runs tests.qemu.run_nettest --bench; returns its BENCH figures as a dict."""
    return bench_figures([sys.executable, "-m", "tests.qemu.run_nettest", "--qemu", qemu, "--bench",
                          "--logdir", logdir])


def lwf_bench(qemu, kernel, logdir):
    """Runs tests.e2e.run_qemu_lwf --bench (Debian's python: it imports python3-nacl); returns
    its BENCH figures as a dict."""
    return bench_figures(["/usr/bin/python3", "-m", "tests.e2e.run_qemu_lwf", "--qemu", qemu, "--kernel", kernel,
                          "--bench", "--logdir", logdir])


def bench_figures(cmd):
    """The name=number figures of the BENCH lines a measuring run prints."""
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    figures = {}
    for m in re.finditer(r"(\w+)=([0-9.]+)", " ".join(l for l in out.splitlines() if l.startswith("BENCH"))):
        figures[m.group(1)] = float(m.group(2))
    return figures


def tcp_vs_utcp_bench(qemu, kernel, logdir):
    """UTCP against lwIP's TCP between the same two nodes (tests/e2e/run_qemu_tcp_vs_utcp.py):
    node 1 fetching 16 MiB from node 0's httpd by curl and by utcpget, at 0 % and 5 % loss, and
    what node 1 sent back per MiB: TCP segments (ACKs) against UTCP's NACK + WINDOW reports, and
    the frames node 1's NetSwitch dropped for each (a receiver that could not keep up)."""
    got = bench_figures([sys.executable, "-m", "tests.e2e.run_qemu_tcp_vs_utcp", "--qemu", qemu, "--kernel", kernel,
                         "--logdir", logdir])
    shown = lambda key, form: form % got[key] if key in got else "failed"  # noqa: E731
    rows = []
    for loss in ("0", "5"):
        k = f"loss_{loss}pct_"
        whole = "" if got.get(k + "tcp_whole") or k + "tcp_mb_s" not in got else \
            " (curl's 60 s limit: %.1f MiB arrived)" % got.get(k + "tcp_mib_received", 0)
        rows.append((f"node 1 <- node 0 httpd, 16 MiB, {loss} % loss: lwIP TCP (curl) vs UTCP (utcpget)",
                     shown(k + "tcp_mb_s", "%.2f MB/s") + whole + " vs " + shown(k + "utcp_mb_s", "%.2f MB/s")))
        rows.append((f"  control frames from the receiver per MiB, {loss} % loss: TCP ACKs vs UTCP NACK+WINDOW",
                     shown(k + "tcp_acks_per_mib", "%.1f") + " vs " + shown(k + "utcp_reports_per_mib", "%.1f")))
        rows.append((f"  frames the receiver's NetSwitch dropped, {loss} % loss: TCP vs UTCP",
                     shown(k + "tcp_receiver_drops", "%d") + " vs " + shown(k + "utcp_receiver_drops", "%d")))
    return rows


def utcp_sim_bench(build):
    """The host simulation's mesh run: frames/s of the wall clock (the counts are the seeds')."""
    sim = bench_figures([os.path.join(build, "bench", "utcp_sim")])
    label = "UTCP host simulation frames/s (%d nodes, every pair, 5 %% loss, -O2)" % sim.get("utcp_sim_mesh64_nodes", 64)
    if "utcp_sim_mesh64_frames_per_s" not in sim:
        return [(label, "not measured")]
    return [(label, "%.0f (%d frames in %.2f s)" % (sim["utcp_sim_mesh64_frames_per_s"], sim["utcp_sim_mesh64_frames"],
                                                    sim["utcp_sim_mesh64_seconds"]))]


def with_kernel(qemu, kernel):
    """The QEMU command line `qemu` booting `kernel` instead of its own."""
    cmd = shlex.split(qemu)
    cmd[cmd.index("-kernel") + 1] = kernel
    return shlex.join(cmd)


def embedded_images(images_s):
    """The image files the product kernel embeds (tools/gen-images.sh's .incbin lines)."""
    with open(images_s, encoding="utf-8") as f:
        return re.findall(r'\.incbin "([^"]+)"', f.read())


def loadable_bytes(elf, size_tool):
    out = subprocess.run([size_tool, elf], capture_output=True, text=True, check=True).stdout
    text, data = out.splitlines()[1].split()[:2]
    return int(text) + int(data)


def serving_rows(build, kernel, size_tool):
    """The kernel alone (its loadable bytes less the embedded images' object, build/k/images.o:
    the images with their page padding and their table) and build/nexus-serving.elf, the image
    that boots with the Membrane and httpd alone (make run IMAGE=serving)."""
    alone = loadable_bytes(kernel, size_tool) - loadable_bytes(os.path.join(build, "k", "images.o"), size_tool)
    serving = os.path.join(build, "nexus-serving.elf")
    return [("  kernel alone (loadable, less the embedded images)", "%d bytes" % alone),
            ("serving image, loadable (build/nexus-serving.elf: the Membrane and httpd alone)",
             "%d bytes" % loadable_bytes(serving, size_tool))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--boots", type=int, default=5)
    args = ap.parse_args()
    size_tool = "riscv64-unknown-elf-size"

    rows = []
    times = [t for t in (boot_to_first_fiber(args.qemu) for _ in range(args.boots)) if t is not None]
    if times:
        rows.append(("boot to first fiber (median of %d)" % len(times), "%.3f s" % statistics.median(times)))
        rows.append(("boot to first fiber (min .. max)", "%.3f .. %.3f s" % (min(times), max(times))))
    else:
        rows.append(("boot to first fiber", "no fiber output seen"))
    kernel = os.path.join(args.build, "nexus.elf")
    rows.append(("kernel image, loadable (services included)", "%d bytes" % loadable_bytes(kernel, size_tool)))
    images = embedded_images(os.path.join(args.build, "images.S"))
    for path in images:
        rows.append(("  embedded image " + os.path.basename(path), "%d bytes" % os.path.getsize(path)))
    rows += serving_rows(args.build, kernel, size_tool)
    rows.append(("  smallest -m with which the serving image serves GET /",
                 smallest_memory(with_kernel(args.qemu, os.path.join(args.build, "nexus-serving.elf")))))

    test_kernel = os.path.join(args.build, "nexus-test.elf")
    counted = net_bench(with_kernel(args.qemu, test_kernel) + " -icount shift=0",
                        os.path.join(args.build, "bench-icount"))
    if "instret_median" in counted:
        if "instret_bracket" in counted:
            rows.append(("NetSwitch instructions per RX frame (median)",
                         "%d exact: median %d less the bracket's %d, over %d frames (-icount, test kernel; "
                         "calibration 32 nops -> %d, 33-instruction loop -> %d)" % (
                             counted["instret_median"] - counted["instret_bracket"], counted["instret_median"],
                             counted["instret_bracket"], counted["instret_frames"],
                             counted.get("instret_straight32", -1), counted.get("instret_loop33", -1))))
        else:
            rows.append(("NetSwitch instructions per RX frame (median)",
                         "%d over %d frames (-icount, test kernel)" % (counted["instret_median"],
                                                                       counted["instret_frames"])))
    rate = net_bench(with_kernel(args.qemu, test_kernel), os.path.join(args.build, "bench-rate"))
    if "sink_frames" in rate:
        rows.append(("frames/s, wire peer into a sink service",
                     "%.0f (%d delivered in %.1f s, %d offered)" % (
                         rate["sink_frames"] / rate["seconds"], rate["sink_frames"], rate["seconds"],
                         rate["frames_sent"])))
        rows.append(("frames dropped by the switch meanwhile", "%d" % rate["dropped_in_switch"]))
        rows.append(("RX payload bytes copied (/Bus/net/switch/rx_copied_bytes)", "%d" % rate["rx_copied_bytes"]))

    ops = crypto_measure(with_kernel(args.qemu, test_kernel), os.path.join(args.build, "bench-crypto"))
    rows.append(("libsodium guest us per op (1 KiB messages, test kernel)",
                 ", ".join(f"{k} {v}" for k, v in ops.items()) if ops else "cryptocheck did not report"))
    lwf = lwf_bench(args.qemu, test_kernel, os.path.join(args.build, "bench-lwf"))
    rows.append(("LWF ANNOUNCE (solicit) to first DATA frame on the wire",
                 "%.1f ms" % lwf["announce_to_first_frame_ms"] if "announce_to_first_frame_ms" in lwf
                 else "not measured"))
    for node in (0, 1):
        if f"node{node}_frames_per_s" in lwf:
            rows.append((f"LWF frames/s node {node} to node {1 - node} (64 KiB lwfping, 64 fragments each way)",
                         "%.0f (round trip %.1f ms)" % (lwf[f"node{node}_frames_per_s"], lwf[f"node{node}_rtt_64k_ms"])))
    cryptocheck = os.path.join(args.build, "user-test", "cryptocheck.elf")
    rows.append(("cryptocheck image (libsodium linked, stripped)", "%d bytes" % os.path.getsize(cryptocheck)))
    rows += http_bench(args.qemu, args.boots)
    rows += http_profile_rows(args.qemu, test_kernel)
    rows += recovery_bench(args.qemu, test_kernel,
                           os.path.join(args.build, "bench-recovery"))
    rows += rinetd_bench(args.qemu, os.path.join(args.build, "bench-rinetd"))
    rows += mosquitto_bench(args.qemu, os.path.join(args.build, "bench-mosquitto"))
    curl = curl_download(args.qemu, test_kernel, os.path.join(args.build, "bench-curl"))
    rows.append(("curl in Nexus, -o %d KiB from the host into its file area (curl's own figure)" % (CURL_BENCH_BYTES >> 10),
                 "%.2f MB/s" % curl if curl else "failed"))
    utcp = bench_figures([sys.executable, "-m", "tests.e2e.run_qemu_utcp", "--qemu", args.qemu, "--kernel",
                          test_kernel, "--bench", "--logdir", os.path.join(args.build, "bench-utcp")])
    for loss in ("0", "1", "5"):
        figure = utcp.get(f"utcp_loss_{loss}pct_mb_s")
        reports = utcp.get(f"utcp_loss_{loss}pct_reports_per_mib")
        drops = utcp.get(f"utcp_loss_{loss}pct_receiver_drops")
        rows.append((f"UTCP node to node, 16 MiB each way at once, {loss} % loss (+1 % dup/reorder if lossy)",
                     ("%.2f MB/s" % figure if figure is not None else "not measured") +
                     (", %.1f NACK+WINDOW frames per MiB" % reports if reports is not None else "") +
                     (", %d frames dropped by the receivers' NetSwitch" % drops if drops is not None else "")))
    figure = utcp.get("httpd_over_utcp_mb_s")
    rows.append(("httpd over UTCP node to node, utcpget of /bytes/16 MiB, lossless",
                 "%.2f MB/s" % figure if figure is not None else "not measured"))

    rows += tcp_vs_utcp_bench(args.qemu, test_kernel, os.path.join(args.build, "bench-tcp-vs-utcp"))
    rows += utcp_sim_bench(args.build)
    rows += boot_breakdown(args.qemu, args.boots)
    rows += restart_breakdown(args.qemu, test_kernel, os.path.join(args.build, "bench-restart"))

    width = max(len(r[0]) for r in rows)
    print("Nexus bench")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
