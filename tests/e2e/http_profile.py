"""The guest-time profile of HTTP for `make bench` (tools/bench.py): guest instructions per layer
for one status page (`GET /`), one keep-alive `GET /bytes/1024`, one `GET /bytes/1024` with
`Connection: close` (a connection of its own: handshake, accept, close, TIME_WAIT) and one MiB
of a bulk `GET`.

The test kernel (build/nexus-test.elf) charges every guest instruction to the activity that ran
it (kernel/profile.h: each fiber's U-mode code and its syscalls, device and timer interrupts,
the scheduler) and its Membrane splits its own by phase of its loop (membrane/phase_profile.h);
both are published under /Bus. Under `-icount shift=0` they are guest instruction counts. A
workload runs N times (on one keep-alive connection, or each on its own) between two readings
of /bus.json; a
reading taken the same way with no workload between (the reading request itself, and whatever
the idle system does meanwhile) is subtracted, and the rest divided by N.

    python3 -m tests.e2e.http_profile --qemu "QEMU COMMAND" [--kernel build/nexus-test.elf]
"""
import argparse
import http.client
import json
import sys
import time

from tests.e2e.http_bench import first_200
from tests.e2e.http_checks import stream_body
from tests.harness.guest import Guest
from tests.harness.net import UserNet

# Long enough for every publisher to have written what it counted: the kernel every 20 ms
# (kernel/trap.c), the Membrane every 100 ms, and httpd's listing reuse of 100 ms to expire.
SETTLE_S = 0.3

WORKLOADS = (  # label, path, repetitions, what one unit is (bytes per unit for a bulk one), one connection each
    ("GET / (status page)", "/", 100, None, False),
    ("keep-alive GET /bytes/1024", "/bytes/1024", 300, None, False),
    ("Connection: close GET /bytes/1024", "/bytes/1024", 200, None, True),
    ("bulk, per MiB of GET /bytes/8MiB", "/bytes/%d" % (8 << 20), 1, 1 << 20, False),
)


def reading(port):
    """Every instret figure under /Bus as {name: count} (fiber figures split into user/kernel)."""
    time.sleep(SETTLE_S)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/bus.json")
    bus = json.loads(conn.getresponse().read())["bus"]
    conn.close()
    figures = {}
    for key, value in bus.items():
        if key.startswith("/Bus/fibers/") and key.endswith("/instret"):
            name = key.split("/")[3]
            for part in value.split():
                k, _, v = part.partition("=")
                figures[f"{name}.{k}"] = int(v)
        elif key.startswith("/Bus/kernel/syscalls/"):
            figures["syscall:" + key.rsplit("/", 1)[1]] = int(value)
        elif key.startswith(("/Bus/kernel/instret/", "/Bus/net/membrane/instret/")) or \
                key in ("/Bus/net/switch/rx_instret/frames", "/Bus/net/switch/rx_instret/median",
                        "/Bus/net/membrane/rx_frames", "/Bus/net/membrane/tx_frames",
                        "/Bus/net/membrane/socket_requests", "/Bus/mem/satp_writes", "/Bus/mem/tlb_flushes"):
            figures[key] = int(value)
    return figures


def run_workload(port, path, repeat, close=False):
    """repeat GETs on one keep-alive connection, or (close) each on a connection of its own
    that asks the server to close it, the way `wrk -H 'Connection: close'` does."""
    if close:
        for _ in range(repeat):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", path, headers={"Connection": "close"})
            stream_body(conn.getresponse())
            conn.close()
        return
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(repeat):
        conn.request("GET", path)
        stream_body(conn.getresponse())
    conn.close()


def delta(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


LAYERS = (  # label, how the layer's count comes from one delta
    ("kernel: device interrupts (virtio driver, NetSwitch, wake-ups)", lambda d: d.get("/Bus/kernel/instret/device_irq", 0)),
    ("  of which NetSwitch demux + enqueue (median x frames)", lambda d: d.get("netswitch", 0)),
    ("kernel: timer interrupts", lambda d: d.get("/Bus/kernel/instret/timer_irq", 0)),
    ("kernel: scheduler, idle loop, /Bus publishing (with clock jumps)", lambda d: d.get("/Bus/kernel/instret/scheduler", 0)),
    ("  spans x their median (robust to the jumps)", lambda d: scheduler_robust(d)),
    ("kernel: the Membrane's syscalls", lambda d: d.get("membrane.kernel", 0)),
    ("kernel: httpd's syscalls", lambda d: d.get("httpd.kernel", 0)),
    ("Membrane: frames in through lwIP (and the ACKs it sends at once)", lambda d: d.get("/Bus/net/membrane/instret/rx", 0)),
    ("Membrane: the link (socket requests, lwIP send path, statuses)", lambda d: d.get("/Bus/net/membrane/instret/sockets", 0)),
    ("Membrane: lwIP timers, loopback", lambda d: d.get("/Bus/net/membrane/instret/timers", 0)),
    ("Membrane: publishing to /Bus", lambda d: d.get("/Bus/net/membrane/instret/publish", 0)),
    ("Membrane: frames out to the kernel", lambda d: d.get("/Bus/net/membrane/instret/tx", 0)),
    ("Membrane: U-mode total", lambda d: d.get("membrane.user", 0)),
    ("httpd: U-mode (httpd + libnexus's link client)", lambda d: d.get("httpd.user", 0)),
    ("other fibers (U-mode and syscalls)", lambda d: sum(v for k, v in d.items() if is_fiber_instret(k) and
                                                         k.split(".")[0] not in ("httpd", "membrane"))),
    ("total (idle not included; the scheduler as spans x median)", lambda d: scheduler_robust(d) + sum(
        v for k, v in d.items() if k in KERNEL_WORKS or is_fiber_instret(k))),
    ("idle in wfi (virtual ns under -icount, not instructions)", lambda d: d.get("/Bus/kernel/instret/idle", 0)),
)


KERNEL_WORKS = ("/Bus/kernel/instret/device_irq", "/Bus/kernel/instret/timer_irq")


def scheduler_robust(d):
    return d.get("/Bus/kernel/instret/scheduler_spans", 0) * d.get("scheduler_span_median", 0)


def is_fiber_instret(key):
    return key.endswith((".user", ".kernel"))


def syscall_rows(results, labels):
    """Syscalls per unit: httpd's and the Membrane's, then each kind that any workload makes at
    least once per unit."""
    rows = [("  frames in / out of the Membrane", "  |  ".join(
        "%.1f / %.1f" % (results[w]["calls"]["frames_in"], results[w]["calls"]["frames_out"]) for w in labels)),
            ("  socket requests to the Membrane (link round trips)", "  |  ".join(
                "%.1f" % results[w]["calls"]["requests"] for w in labels)),
            ("  address-space switches (satp writes) / whole-TLB flushes", "  |  ".join(
                "%.1f / %.1f" % (results[w]["calls"]["satp_writes"], results[w]["calls"]["tlb_flushes"])
                for w in labels))]
    for fiber in ("httpd", "membrane"):
        rows.append((f"  syscalls by {fiber}", "  |  ".join("%.1f" % results[w]["calls"].get(f"{fiber}.syscalls", 0)
                                                          for w in labels)))
    kinds = sorted({k for w in labels for k, v in results[w]["calls"].items() if k.startswith("syscall:") and v >= 1},
                   key=lambda k: -results[labels[0]]["calls"].get(k, 0))
    for k in kinds:
        rows.append((f"    {k[len('syscall:'):]}", "  |  ".join("%.1f" % results[w]["calls"].get(k, 0) for w in labels)))
    return rows


def with_netswitch(d, after):
    """Adds the NetSwitch's estimated share: its per-frame median times the frames it demuxed."""
    d = dict(d)
    d["netswitch"] = after.get("/Bus/net/switch/rx_instret/median", 0) * d.get("/Bus/net/switch/rx_instret/frames", 0)
    d["scheduler_span_median"] = after.get("/Bus/kernel/instret/scheduler_span_median", 0)
    return d


def profile(qemu, kernel):
    """{workload label: {layer label: instructions per unit}}, or {} if httpd did not answer."""
    results = {}
    with Guest(qemu + " -icount shift=0", UserNet(tcp=[80]), kernel=kernel) as g:
        if first_200(g, 90) is None:
            return {}
        port = g.http_port
        run_workload(port, "/", 3)  # first listings, first renderings, ARP: not a request's cost
        a = reading(port)
        b = reading(port)
        idle = delta(a, b)  # one reading request plus the idle system over one settle
        for label, path, repeat, unit, close in WORKLOADS:
            before = reading(port)
            run_workload(port, path, repeat, close)
            after = reading(port)
            d = delta(before, after)
            d = {k: v - idle.get(k, 0) for k, v in d.items()}
            d = with_netswitch(d, after)
            units = repeat * (int(path.rsplit("/", 1)[1]) / unit) if unit else repeat
            results[label] = {layer: fn(d) / units for layer, fn in LAYERS}
            results[label]["calls"] = {k: v / units for k, v in d.items() if k.startswith("syscall:") or
                                       k.endswith(".syscalls")}
            results[label]["calls"]["frames_in"] = d.get("/Bus/net/membrane/rx_frames", 0) / units
            results[label]["calls"]["frames_out"] = d.get("/Bus/net/membrane/tx_frames", 0) / units
            results[label]["calls"]["requests"] = d.get("/Bus/net/membrane/socket_requests", 0) / units
            results[label]["calls"]["satp_writes"] = d.get("/Bus/mem/satp_writes", 0) / units
            results[label]["calls"]["tlb_flushes"] = d.get("/Bus/mem/tlb_flushes", 0) / units
    return results


def profile_rows(qemu, kernel):
    """make bench rows: one per layer, the workloads side by side."""
    results = profile(qemu, kernel)
    if not results:
        return [("guest-time profile (test kernel, -icount)", "httpd did not answer")]
    labels = [w[0] for w in WORKLOADS]
    rows = [("guest instructions per layer (test kernel, -icount; idle subtracted)", "  |  ".join(labels))]
    for layer, _ in LAYERS:
        rows.append(("  " + layer, "  |  ".join("%.0f" % results[w][layer] for w in labels)))
    return rows + syscall_rows(results, labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    args = ap.parse_args()
    rows = profile_rows(args.qemu, args.kernel)
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
