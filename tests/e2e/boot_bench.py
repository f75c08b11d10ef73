"""Where the time goes, by the guest's own clock, for `make bench` (tools/bench.py): from QEMU's
launch to the first HTTP 200, and from a Membrane fault to serving again. Measures; never judges.

The kernel publishes the guest clock (microseconds since the machine's reset) at each boot stage
(/Bus/boot/time_us/), at each fiber's start and end (/Bus/fibers/NAME/started_us, ended_us), and
the Membrane at each step on its way to serving (/Bus/net/membrane/time_us/, membrane/milestones.h).
The host's wall clock adds what the guest cannot see: QEMU's own start before the guest clock runs.
"""
import statistics
import time

from tests.e2e.run_qemu_containment import boot_test_kernel, crash_membrane
from tests.harness.console import said_by
from tests.harness.guest import Guest
from tests.harness.http_probe import first_success
from tests.harness.net import UserNet

# A try starts every 5 ms while earlier ones wait (each up to 1 s): a SYN that QEMU's user
# network forwards before the guest has its lease is lost and retried by slirp only after
# seconds, so http_bench's one-at-a-time 50 ms tries put up to 52 ms of the probe's own period
# into its figure; overlapping tries find the moment the guest answers within 5 ms.
TRY_EVERY_S = 0.005
TRY_TIMEOUT_S = 1.0
SNAPSHOT_AGE_S = 0.15     # /bus.json is a listing reused for up to 100 ms (apps/httpd/snapshot.h)

MEMBRANE = "/Bus/net/membrane/time_us/"
# (label, key): the boot's stages in the order they happen.
BOOT_STAGES = [
    ("OpenSBI (guest clock 0 to the kernel's entry)", "/Bus/boot/time_us/kernel_entry"),
    ("kernel init: device tree, memory, devices, packet pool", "/Bus/boot/time_us/devices_ready"),
    ("services loaded from their images", "/Bus/boot/time_us/fibers_loaded"),
    ("boot /Bus listing printed, scheduler entered", "/Bus/boot/time_us/scheduler"),
    ("Membrane runs", MEMBRANE + "start"),
    ("DHCPDISCOVER sent", MEMBRANE + "dhcp_discover"),
    ("offer in, DHCPREQUEST sent", MEMBRANE + "dhcp_request"),
    ("DHCPACK in: lease bound", MEMBRANE + "lease"),
    ("first app listener (httpd, rinetd or mosquitto)", MEMBRANE + "first_listen"),
    ("first connection accepted by an app", MEMBRANE + "first_accept"),
]
# (label, key): a restart's steps, timed from the fault (the kernel's ended_us).
RESTART_STEPS = [
    ("new Membrane spawned", "/Bus/fibers/membrane/started_us"),
    ("new Membrane runs", MEMBRANE + "start"),
    ("address configured", MEMBRANE + "address"),
    ("its loop takes frames (ready)", MEMBRANE + "ready"),
    ("first frame processed", MEMBRANE + "first_frame"),
    ("lease confirmed (DHCPACK)", MEMBRANE + "lease"),
    ("an app listens again", MEMBRANE + "first_listen"),
    ("first connection accepted by an app", MEMBRANE + "first_accept"),
]


def _us(bus, key):
    v = bus.get(key, "")
    return int(v) if v.isdigit() else None


def one_boot(qemu, limit=30.0):
    """(wall seconds from QEMU's launch to the first 200, /Bus as /bus.json served it), or None."""
    with Guest(qemu, UserNet(tcp=[80])) as g:
        done = first_success(g.http_port, "/", limit, TRY_TIMEOUT_S, TRY_EVERY_S, g.alive)
        if done is None:
            return None
        # The Membrane publishes at most every 100 ms of guest time and a listing is reused as
        # long (under -icount the guest clock can run behind the wall): wait for the accept.
        for _ in range(20):
            time.sleep(SNAPSHOT_AGE_S)
            bus = g.bus_json()
            if MEMBRANE + "first_accept" in bus:
                break
        return done - g.started, bus


def _stage_times(runs, key):
    got = [u for u in (_us(bus, key) for _, bus in runs) if u is not None]
    return statistics.median(got) / 1000 if got else None


def boot_breakdown(qemu, boots=5):
    """Rows: the first 200's wall time (median of the boots), then each stage by the guest clock
    (median over the boots, with the gap from the stage before) and by guest instructions in one
    boot under -icount shift=0 (a guest nanosecond is one instruction there: deterministic where
    the host's load moves the clock)."""
    runs = [r for r in (one_boot(qemu) for _ in range(boots)) if r is not None]
    counted = one_boot(qemu + " -icount shift=0")
    if not runs:
        return [("boot breakdown", "no boot answered")]
    walls = [w for w, _ in runs]
    rows = [("boot stages: first HTTP 200, wall from QEMU's launch, tries every 5 ms (median of %d)" % len(runs),
             "%.3f s (min %.3f, max %.3f)" % (statistics.median(walls), min(walls), max(walls)))]
    before = before_n = 0.0
    for label, key in BOOT_STAGES:
        at = _stage_times(runs, key)
        n = _us(counted[1], key) / 1000 if counted and _us(counted[1], key) is not None else None
        text = "at %7.2f ms (+%5.2f)" % (at, at - before) if at is not None else "not published"
        if n is not None:
            text += ";  %6.2f M instructions (+%5.2f)" % (n, n - before_n)
            before_n = n
        before = at if at is not None else before
        rows.append(("  guest " + label, text))
    accepts = [(w, _us(bus, MEMBRANE + "first_accept")) for w, bus in runs]
    outside = [w * 1000 - a / 1000 for w, a in accepts if a is not None]
    if outside:
        rows.append(("  wall minus guest clock at the first accept (QEMU's start, the host side)",
                     "%.1f ms (median)" % statistics.median(outside)))
    return rows


def _restart_steps(qemu, kernel, logdir, crashes):
    """({key: [ms from the fault, one per crash]}, [host wall seconds to the next 200]), or None
    when the guest did not come up."""
    kinds = ["null", "wild", "illegal"]
    steps = {key: [] for _, key in RESTART_STEPS}
    walls = []
    with boot_test_kernel(qemu, kernel, logdir) as guest:
        if guest.console.wait_for(said_by("httpd", "httpd: listening"), 90) is None:
            return None
        time.sleep(0.6)  # a Membrane younger than stable_ms counts as a crash loop (kernel/supervisor.c)
        for i in range(crashes):
            seconds, _ = crash_membrane(guest, kinds[i % len(kinds)], i + 1)
            if seconds is None:
                break
            walls.append(seconds)
            time.sleep(SNAPSHOT_AGE_S)
            bus = guest.bus_json()
            fault = _us(bus, "/Bus/fibers/membrane/ended_us")
            for _, key in RESTART_STEPS:
                at = _us(bus, key)
                if fault is not None and at is not None and at >= fault:
                    steps[key].append((at - fault) / 1000)
            time.sleep(0.6)
    return steps, walls


def restart_breakdown(qemu, kernel, logdir, crashes=10, counted_crashes=5):
    """Rows: Membrane fault to each restart step by the guest clock (median over the crashes,
    and the slowest), and the host's wall figure to the next 200 beside them; then the same steps
    in guest instructions from a second run under -icount shift=0 (median of counted_crashes),
    where a guest nanosecond is one instruction: deterministic up to the spans the guest sleeps
    waiting for the host (QEMU's user network's answer, the probe's connection), which the
    virtual clock jumps over in host time."""
    timed = _restart_steps(qemu, kernel, logdir, crashes)
    counted = _restart_steps(qemu + " -icount shift=0", kernel, logdir + "-icount", counted_crashes)
    if timed is None:
        return [("Membrane restart breakdown", "the test kernel did not come up")]
    steps, walls = timed
    if not walls:
        return [("Membrane restart breakdown", "no crash recovered")]
    median = lambda got: statistics.median(got) if got else None  # noqa: E731
    rows = []
    for label, key in RESTART_STEPS:
        got = steps[key]
        text = "%.2f ms median, %.2f max (%d crashes)" % (median(got), max(got), len(got)) if got else "not published"
        n = median(counted[0][key]) if counted else None
        if n is not None:
            text += ";  %.3f M instructions" % n
        rows.append(("  guest fault to " + label, text))
    rows.append(("  host wall fault to next HTTP 200 (same crashes)", "%.1f ms median, %.1f max" % (
        statistics.median(walls) * 1000, max(walls) * 1000)))
    show = lambda v, unit: "%.2f %s" % (v, unit) if v is not None else "?"  # noqa: E731
    summary = "fault to frames again %s, to the next accept %s (median)" % (
        show(median(steps[MEMBRANE + "first_frame"]), "ms"), show(median(steps[MEMBRANE + "first_accept"]), "ms"))
    if counted:
        summary += "; under -icount %s, %s" % (show(median(counted[0][MEMBRANE + "first_frame"]), "M instructions"),
                                               show(median(counted[0][MEMBRANE + "first_accept"]), "M instructions"))
    return [("Membrane restart by the guest clock (test kernel, %d crashes)" % len(walls), summary)] + rows
