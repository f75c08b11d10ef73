"""HTTP figures for `make bench` (tools/bench.py): Nexus booted with its port 80 forwarded to a
loopback port, measured with wrk and Python's http.client. Measures; never judges."""
import http.client
import json
import os
import re
import statistics
import subprocess
import time

from tests.e2e.http_checks import stream_body
from tests.harness.guest import Guest
from tests.harness.net import UserNet

# Each try for the first 200 gives up after this: QEMU's user network accepts the host
# connection at once, and a SYN it forwards before the guest has its address is only retried
# after seconds.
FIRST_TRY_TIMEOUT = 0.05


def http_guest(qemu, mem=None):
    """Nexus booted with its port 80 forwarded to a loopback port (.http_port)."""
    return Guest(qemu, UserNet(tcp=[80]), mem=mem)


def first_200(guest, limit=30.0):
    """Seconds from QEMU's launch to the first 200 for GET /, or None; one try at a time."""
    done = guest.first_success("/", limit, FIRST_TRY_TIMEOUT)
    return None if done is None else done - guest.started


def wrk_rate(port, connections, seconds=5, path="/"):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (float(m.group(1)) if m else None), (int(errors.group(1)) if errors else 0)


# QEMU names its threads with this (the vCPU's is "CPU 0/TCG"), so the bench can read the host CPU
# time the guest's CPU used per request: steadier than requests/s on a shared host, where wrk,
# QEMU's network thread and other work compete for the same cores.
NAMED_THREADS = " -name nexus,debug-threads=on"


def vcpu_seconds(pid):
    """CPU seconds (user + system) QEMU's vCPU thread has used, or None."""
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if not f.read().startswith("CPU "):
                    continue
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return None


def wrk_row(guest, connections, path):
    """wrk's requests/s, and the host CPU QEMU's vCPU thread spent per request meanwhile."""
    before = vcpu_seconds(guest.proc.pid)
    start = time.monotonic()
    rate, bad = wrk_rate(guest.http_port, connections, path=path)
    after = vcpu_seconds(guest.proc.pid)
    cpu = ""
    if rate and before is not None and after is not None:
        cpu = ", vCPU thread %.0f us of host CPU per request" % ((after - before) * 1e6 / (rate * (time.monotonic() - start)))
    return (f"wrk -t1 -c{connections} GET {path} (keep-alive)",
            "%.0f requests/s%s%s" % (rate or 0, f", {bad} non-2xx" if bad else "", cpu))


def bulk_mb_s(port, size=64 << 20):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.monotonic()
    conn.request("GET", f"/bytes/{size}")
    got = stream_body(conn.getresponse())
    conn.close()
    return got / (time.monotonic() - start) / 1e6 if got == size else None


# Long enough that the transfer takes well over the 100 ms for which httpd reuses a listing
# (apps/httpd/snapshot.h), so the listing read after it is a fresh one: 16 MiB came to ~100 ms
# of guest time once a byte cost ~6 instructions, and the reading after it was the one before.
BULK_COUNTED = 64 << 20


def guest_uptime_ms(guest, settle=0.0):
    """The guest's clock through /bus.json. A listing is reused for up to 100 ms
    (apps/httpd/snapshot.h): settle lets the previous one expire first."""
    time.sleep(settle)
    status, body = guest.get("/bus.json", 30)
    return json.loads(body)["uptime_ms"] if status == 200 else None


def bulk_instructions_per_byte(qemu):
    """Guest instructions per payload byte of a bulk GET: under -icount shift=0 a guest
    nanosecond is one instruction, so the guest clock's advance over the transfer counts them
    (the guest is idle for a few percent of it, counted too). Deterministic where MB/s drifts
    with the host's load."""
    with http_guest(qemu + " -icount shift=0") as g:
        if first_200(g, 60) is None:
            return None
        before = guest_uptime_ms(g, settle=0.3)
        if bulk_mb_s(g.http_port, BULK_COUNTED) is None:
            return None
        after = guest_uptime_ms(g)  # the last listing is older than the transfer: a fresh one
    if before is None or after is None:
        return None
    return (after - before) * 1e6 / BULK_COUNTED


def http_bench(qemu, boots):
    rows = []
    times = []
    for _ in range(boots):
        with http_guest(qemu) as g:
            t = first_200(g)
        if t is not None:
            times.append(t)
    if times:
        rows.append(("boot to first HTTP 200 (median of %d)" % len(times), "%.3f s (min %.3f, max %.3f)" % (
            statistics.median(times), min(times), max(times))))
    with http_guest(qemu + NAMED_THREADS) as g:
        if first_200(g) is None:
            return rows + [("HTTP", "no answer from httpd")]
        for c, path in ((1, "/"), (8, "/"), (1, "/bytes/1024"), (8, "/bytes/1024")):
            rows.append(wrk_row(g, c, path))
        before_bulk = g.bus_json()
        mb = bulk_mb_s(g.http_port)
        rows.append(("bulk GET /bytes/64MiB", "%.1f MB/s" % mb if mb else "transfer failed"))
        time.sleep(0.3)  # the Membrane publishes every 100 ms, httpd reuses a listing for 100 ms
        bus = g.bus_json()
        rows.append(("RX payload bytes copied after the HTTP runs", bus.get("/Bus/net/switch/rx_copied_bytes", "?")))
        # The Membrane's own copies out of the read-only RX pool (docs/security.md): TCP headers,
        # and whole frames only for echo requests and fragments.
        membrane = {k: bus.get("/Bus/net/membrane/" + k, "?") for k in ("rx_copied_frames", "rx_copied_bytes", "rx_header_bytes")}
        rows.append(("Membrane RX copies after the HTTP runs", "{rx_copied_frames} whole frames ({rx_copied_bytes} bytes), "
                     "{rx_header_bytes} TCP header bytes".format(**membrane)))
        rows += tx_copy_rows(bus)
        rows += tx_copy_rows(bus, before_bulk, "the bulk GET alone")[1:2]
    per_byte = bulk_instructions_per_byte(qemu)
    rows.append(("bulk guest instructions per payload byte (GET /bytes/64MiB, -icount)",
                 "%.1f" % per_byte if per_byte else "not measured"))
    rows.append(("smallest -m that serves GET /", smallest_memory(qemu)))
    return rows


TX_COPY_KEYS = ("tx_slot_bytes", "tx_area_bytes", "tx_stack_copied_bytes", "tx_frame_copied_bytes")


def tx_copy_rows(bus, since=None, what=None):
    """What sending cost in copies and software checksums (docs/ion.md): the kernel's TX payload
    copies (0), and the Membrane's per payload byte an app sent; with since (an earlier /Bus),
    only what was sent between the two, `what` saying what that was."""
    rows = [("TX payload bytes copied by the kernel (/Bus/net/switch/tx_copied_bytes)",
             bus.get("/Bus/net/switch/tx_copied_bytes", "?"))]
    count = lambda b, k: int(b.get("/Bus/net/membrane/" + k, 0))  # noqa: E731
    membrane = {k: count(bus, k) - (count(since, k) if since else 0)
                for k in TX_COPY_KEYS + ("tx_payload_bytes", "tx_header_bytes", "checksummed_bytes")}
    payload = membrane["tx_payload_bytes"]
    if not payload:
        return rows + [("TX payload bytes copied per payload byte", "no payload sent")]
    copied = sum(membrane[k] for k in TX_COPY_KEYS)
    rows.append(("TX payload bytes copied per payload byte" + (", " + what if what else "") +
                 " (app->slot, app->send area, slot->lent TX buffer or lwIP, whole frames->TX buffer)",
                 "%.2f (%.2f + %.2f + %.2f + %.2f, of %d payload bytes)" % (
                     copied / payload, *(membrane[k] / payload for k in TX_COPY_KEYS), payload)))
    rows.append(("TX header bytes written in front of payload sent in place, per payload byte",
                 "%.3f" % (membrane["tx_header_bytes"] / payload)))
    frames, in_place = int(bus.get("/Bus/net/membrane/tx_frames", 0)), int(bus.get("/Bus/net/membrane/tx_frames_in_place", 0))
    area = int(bus.get("/Bus/net/membrane/tx_area_frames", 0))
    rows.append(("TX frames sent from the app's send area / in place from a lent buffer (docs/ion.md, zero-copy TX)",
                 "%d / %d of %d" % (area, in_place, frames)))
    rows.append(("bytes checksummed in software per payload byte (both directions)",
                 "%.2f" % (membrane["checksummed_bytes"] / payload)))
    return rows


SMALLEST_BULK = 16 << 20


def serves(guest):
    """Serving, not just answering: GET /, GET /bytes/1024 whole, and a 16 MiB bulk GET whole.
    Returns the bulk's MB/s, or None."""
    if first_200(guest, limit=15.0) is None:
        return None
    status, body = guest.get("/bytes/1024", 10)
    if status != 200 or len(body) != 1024:
        return None
    return bulk_mb_s(guest.http_port, SMALLEST_BULK)


def smallest_memory(qemu):
    """The smallest -m of the list with which Nexus serves (serves()), with its bulk MB/s and the
    services that could not start there (the kernel's "cannot start image NAME (error 12)": ENOMEM,
    and nothing else is stopped for it)."""
    best = None
    for mem in ("64M", "32M", "16M", "12M", "10M", "8M", "7M", "6M", "5M", "4M", "3M"):
        with http_guest(qemu, mem) as g:
            mb = serves(g)
            down = sorted({m.group(1) for m in (re.search(r"(\S+): cannot start image .* \(error 12\)", l)
                                                for l in g.console.since(0)) if m})
        if mb is None:
            break
        best = "%s (bulk GET /bytes/16MiB %.1f MB/s; could not start: %s)" % (mem, mb, ", ".join(down) or "none")
    return best or "none of the sizes tried"
