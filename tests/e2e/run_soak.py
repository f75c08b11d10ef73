"""A bounded soak (`make soak`, default 20 minutes; not in CI): load, crashes and memory over time.

    python3 -m tests.e2e.run_soak --qemu "QEMU COMMAND" [--minutes N]

Boots the test kernel (manifest=containment: the Membrane with fault injection) with port 80 and
the Membrane's fault trigger forwarded to loopback ports. For --minutes, wrk keeps WRK_CONNECTIONS
keep-alive connections busy with GET / and GET /bytes/BULK_BYTES in turn (in rounds of WRK_ROUND_S), while the Membrane is
made to fault every CRASH_EVERY_S (the fault kinds of qemu_containment, a runaway loop among them)
and /Bus is sampled on the console every SAMPLE_EVERY_S: free pages, the packet pool (home, held
by the Membrane), the number of /Bus keys, the Membrane's restarts.

Checks: every crash recovered (HTTP answered again within the containment limit); the kernel
never panicked; wrk got answers; HTTP answers at the end; the pool is back at its first sample;
free pages at the end are no fewer than at the first sample after the first crash, and /Bus keys
no more then either, but for counters of bounded families that appear the first time they count
(COUNTER_FAMILIES: a drop cause first seen, a syscall first made): the first crash costs once
(the fault record, the restarted Membrane's memory), a leak grows with every crash and every
minute. INFO lines give wrk's requests and errors (a crash resets the
connections it held, so errors are expected and reported, not judged) and each sample.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

from tests.e2e.run_qemu_containment import FAULT_KINDS, boot_test_kernel, crash_membrane, pool_state
from tests.harness.console import said_by
from tests.harness.report import Report

BOOT_TIMEOUT = 90.0
WRK_CONNECTIONS = 32
WRK_ROUND_S = 10
BULK_BYTES = 16384
SAMPLE_EVERY_S = 10.0
CRASH_EVERY_S = 30.0
# Pages a sample may be below the first: a page or two can be in flight (an app's stack
# growing, a link being set up) at the moment it is read; a leak is many times this.
PAGES_SLACK = 4
# /Bus keys made the first time something is counted: one per drop cause or syscall name, so a
# bounded set, however long the soak.
COUNTER_FAMILIES = ("/Bus/net/membrane/drop/", "/Bus/net/membrane/shed/", "/Bus/net/switch/drop/",
                    "/Bus/kernel/syscalls/")

report = Report("soak")

# wrk's request hook, alternating the two paths on every connection.
WRK_SCRIPT = """
local paths = {"/", "/bytes/%d"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[n %% 2 + 1])
end
""" % BULK_BYTES


class Wrk:
    """wrk in rounds of WRK_ROUND_S for the whole soak, in the background. Rounds, because a
    connection whose request was in flight when the Membrane crashed is never answered nor reset
    (the restarted Membrane knows nothing of it and the user network sends nothing more), and
    wrk keeps waiting on it: after a few crashes one long run would measure nothing. .result()
    sums the rounds."""

    def __init__(self, port, seconds, logdir):
        self.script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        self.script.write(WRK_SCRIPT)
        self.script.close()
        self.port, self.until = port, time.monotonic() + seconds
        self.log = open(os.path.join(logdir, "wrk.log"), "w")
        self.totals = {"rounds": 0, "requests": 0, "non_2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
        self.proc = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set() and self.until - time.monotonic() >= 1:
            seconds = int(min(WRK_ROUND_S, self.until - time.monotonic()))
            self.proc = subprocess.Popen(["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
                                          "-s", self.script.name, f"http://127.0.0.1:{self.port}/"],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            out = self.proc.communicate()[0]
            self.log.write(out)
            self._add(out)

    def _add(self, out):
        def number(rx):
            m = re.search(rx, out)
            return int(m.group(1)) if m else 0
        self.totals["rounds"] += 1
        self.totals["requests"] += number(r"(\d+) requests in")
        self.totals["non_2xx"] += number(r"Non-2xx or 3xx responses: (\d+)")
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        for kind, n in zip(("connect", "read", "write", "timeout"), errors.groups() if errors else ()):
            self.totals[kind] += int(n)

    def result(self):
        self._stop.set()
        self._thread.join(WRK_ROUND_S + 30)
        self.stop()
        self.log.close()
        os.unlink(self.script.name)
        return dict(self.totals)

    def stop(self):
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()


def sample(guest):
    """One look at memory on the console (no network needed): free pages, the pool, /Bus keys."""
    values = {}
    for prefix in ("/Bus/mem/pages_free", "/Bus/bus/keys", "/Bus/fibers/membrane/restarts"):
        values.update(guest.console_bus(prefix))
    home, held, total, _ = pool_state(guest)
    names = set(guest.bus_json())  # the console's listing stops at 16 KiB
    def number(key):
        value = values.get(key, "")
        return int(value) if value.isdigit() else None
    return {"pages_free": number("/Bus/mem/pages_free"), "bus_keys": number("/Bus/bus/keys"),
            "pool_home": home, "pool_held": held, "pool_total": total,
            "restarts": number("/Bus/fibers/membrane/restarts"), "key_names": names}


def describe(s):
    return (f"pages_free {s['pages_free']}, pool home {s['pool_home']} + held by the Membrane {s['pool_held']} "
            f"of {s['pool_total']}, /Bus keys {s['bus_keys']}, Membrane restarts {s['restarts']}")


def soak(guest, seconds, logdir):
    """Runs the load, crashes and samples; returns (samples, recoveries, wrk's result)."""
    samples, recoveries = [sample(guest)], []
    wrk = Wrk(guest.http_port, seconds, logdir)
    start = time.monotonic()
    next_sample, next_crash = start + SAMPLE_EVERY_S, start + CRASH_EVERY_S
    try:
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            if now >= next_crash and seconds - (now - start) > CRASH_EVERY_S / 2:
                kind = FAULT_KINDS[len(recoveries) % len(FAULT_KINDS)]
                took, detail = crash_membrane(guest, kind, len(recoveries) + 1)
                recoveries.append((kind, took, detail))
                report.info(f"soak: crash {len(recoveries)} ({kind}) at {now - start:.0f} s: "
                            + (f"serving again after {took:.2f} s" if took is not None else detail))
                if took is None:
                    break
                next_crash += CRASH_EVERY_S
            elif now >= next_sample:
                samples.append(sample(guest))
                report.info(f"soak: {now - start:.0f} s: {describe(samples[-1])}")
                next_sample += SAMPLE_EVERY_S
            else:
                time.sleep(min(next_sample, next_crash) - now)
        return samples, recoveries, wrk.result()
    finally:
        wrk.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line without -append")
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    ap.add_argument("--logdir", default="build/test-logs/soak")
    ap.add_argument("--minutes", type=float, default=20.0)
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)

    guest = boot_test_kernel(args.qemu, args.kernel, args.logdir)
    try:
        listening = guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("boot_httpd_listening", listening is not None, "no 'httpd: listening' on the console")
        if listening is None or guest.first_success("/", 30, 3.0) is None:
            report("http_before_the_soak", False, "no answer to GET / after boot")
            return report.exit_status()
        samples, recoveries, load = soak(guest, args.minutes * 60, args.logdir)
        recovered = [r for r in recoveries if r[1] is not None]
        report("every_crash_recovered", recoveries and len(recovered) == len(recoveries),
               f"{len(recovered)} of {len(recoveries)} crashes recovered: {recoveries[-1:]}")
        report("wrk_got_answers", load["requests"] > 0, f"wrk: {load}")
        report.info(f"soak: wrk -c{WRK_CONNECTIONS} GET / and /bytes/{BULK_BYTES} for {args.minutes:g} min in "
                    f"{load['rounds']} rounds: {load['requests']} requests ({load['requests'] / (args.minutes * 60):.1f}/s), "
                    f"socket errors connect {load['connect']}, read {load['read']}, write {load['write']}, "
                    f"timeout {load['timeout']}; non-2xx {load['non_2xx']}")
        if recovered:
            report.info(f"soak: {len(recovered)} crashes, back to serving after "
                        f"{min(r[1] for r in recovered):.2f}-{max(r[1] for r in recovered):.2f} s")
        report("answers_at_the_end", guest.first_success("/bytes/64", 20, 3.0) is not None, "no answer after the soak")
        report("kernel_never_faulted", guest.alive() and guest.console.count("PANIC") == 0,
               "QEMU exited or the kernel panicked")
        first, last = samples[0], sample(guest)
        report.info(f"soak: first: {describe(first)}")
        report.info(f"soak: last:  {describe(last)}")
        complete = None not in (first["pool_home"], first["pool_held"], last["pool_home"], last["pool_held"],
                                first["pages_free"], last["pages_free"], first["bus_keys"], last["bus_keys"])
        report("samples_read", complete, f"first {first}, last {last}")
        if complete:
            report("pool_back_to_first_sample", last["pool_home"] + last["pool_held"] == first["pool_home"] + first["pool_held"],
                   f"home+held {first['pool_home'] + first['pool_held']} -> {last['pool_home'] + last['pool_held']}")
            # The first crash costs once: the fault record on /Bus, the restarted Membrane's memory.
            after = next((s for s in samples if (s["restarts"] or 0) >= 1 and s["pages_free"] is not None
                          and s["bus_keys"] is not None and s["key_names"]), first)
            report("free_pages_kept", last["pages_free"] >= after["pages_free"] - PAGES_SLACK,
                   f"{first['pages_free']} at the start, {after['pages_free']} after the first crash -> "
                   f"{last['pages_free']} at the end")
            # names and number from one listing (/bus.json): the console's count is read a second
            # earlier, while a restarted Membrane may still be publishing its first keys
            new = sorted(last["key_names"] - after["key_names"])
            uncounted = [k for k in new if not k.startswith(COUNTER_FAMILIES)]
            report("bus_keys_kept", bool(last["key_names"]) and not uncounted,
                   f"{len(after['key_names'])} after the first crash -> {len(last['key_names'])} at the end; "
                   f"new: {new}")
    finally:
        guest.stop()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
