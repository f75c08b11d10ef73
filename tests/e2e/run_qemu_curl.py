"""curl 7.88.1 (Debian's, unmodified, HTTP only) run from the Nexus console.

    python3 -m tests.e2e.run_qemu_curl --qemu "QEMU COMMAND"   (from the project root)

Boots the test kernel (curl is embedded there only: its build takes minutes); this script serves files on a free port of the host's loopback, which
the guest reaches as 10.0.2.2 (QEMU's user network). Each check types `run curl ARGS` on the
console, as an operator does, and reads curl's output and exit status from the console:
  - a page printed to the console;
  - a redirect followed (-L);
  - -o NAME into curl's writable area: `cat curl/NAME` prints the same bytes and
    /Bus/files/curl/NAME/size has the size; a 200 KiB binary file's size matches too;
  - -I: the response's headers only;
  - --max-time 2 against a server that does not answer: curl's own exit code 28;
  - a refused port (nothing listens there): exit code 7;
  - standard input: `run curl --data-binary @- URL`, then `attach curl` and two typed lines and
    Ctrl-D: the host's server gets exactly those lines as the POST body, curl exits 0;
  - the Membrane restarted (console `restart membrane`) while curl waits for an answer: curl
    fails with its own receive error (56, a reset connection, as on Linux when the peer's stack
    goes away) instead of hanging or being killed, and the next curl fetches the page.
No name is looked up: QEMU's resolver would ask the host's, outside the loopback.

Output: PASS/FAIL lines for tests/run.py and an INFO line with the download rate; the console
log goes to --logdir. tools/bench.py uses bench_download: curl's own download speed
(`-w %{speed_download}`, its clock in the guest) of a BENCH_BYTES body into its file area.
"""
import argparse
import os
import re
import statistics
import sys
import time

from tests.harness.console import said_by
from tests.harness.guest import Guest, report_guest_health
from tests.harness.net import HttpServer, UserNet, free_port
from tests.harness.report import Report

GUEST_HOST_ALIAS = "10.0.2.2"
PAGE = b"<html><body>curl on Nexus fetched this from the host</body></html>\n"
BINARY = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(200 * 1024))
BENCH_BYTES = 960 * 1024  # within curl's file area (its manifest entry's files:1024, in KiB)
BENCH_ROUNDS = 3
BOOT_TIMEOUT = 120.0
RUN_TIMEOUT = 120.0

report = Report("curl")


class HostFiles:
    """What this test's loopback server answers: /page.html, /binary, /moved (302 to /page.html),
    /stall (never answers in time; each such request is counted in .stalled), /posted (what a
    POST gets), /slow (the page, SLOW_S late)."""

    def __init__(self):
        self.stalled = 0

    def __call__(self, path):
        files = {"/page.html": ("text/html", PAGE), "/binary": ("application/octet-stream", BINARY),
                 "/bench": ("application/octet-stream", BENCH_BODY), "/posted": ("text/plain", POSTED)}
        if path == "/stall":
            self.stalled += 1
            time.sleep(30)
            return 200, {}, b""
        if path == "/slow":
            time.sleep(SLOW_S)
            return 200, {"Content-Type": "text/html"}, PAGE
        if path == "/moved":
            return 302, {"Location": "/page.html"}, b""
        if path not in files:
            return 404, {}, b""
        kind, body = files[path]
        return 200, {"Content-Type": kind}, body


BENCH_BODY = bytes((i * 13 + (i >> 10)) & 0xFF for i in range(BENCH_BYTES))
POSTED = b"the host has your lines\n"
SLOW_S = 4.0  # /slow answers this late: the Membrane restarts meanwhile
CURL_RECV_ERROR = 56  # curl's CURLE_RECV_ERROR: "Failure when receiving data from the peer"
TYPED = ["first line typed into curl", "and a second one"]


def membrane_restart_under_curl(guest, base):
    """A curl waiting for its answer loses its connection with the Membrane: it exits with its own
    error, and the next curl works."""
    start = guest.console.mark()
    guest.type_line(f"run curl -s {base}/slow")
    time.sleep(1.0)  # curl's request is out; the host holds the answer
    guest.type_line("restart membrane")
    end = guest.console.wait_match(r"^fiber curl#\d+ (exited with (-?\d+)|.*killed.*)$", RUN_TIMEOUT, start)
    code = int(end.group(2)) if end and end.group(2) is not None else None
    report("membrane_restart_curl_fails_with_its_error", code == CURL_RECV_ERROR,
           f"curl ended with {end.group(0) if end else 'nothing within the time'}")
    listening = guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT, start)
    code, said = run_curl(guest, f"-s {base}/page.html")
    report("membrane_restart_next_curl_works", listening is not None and code == 0 and PAGE.decode().strip() in said,
           f"httpd listening again {listening is not None}, exit {code}, said {said[:3]}")


def post_typed_lines(guest, host, base):
    """curl reads a POST body from its standard input, which the console feeds: the server must
    get exactly the typed lines."""
    start = guest.console.mark()
    guest.type_line(f"run curl -s --data-binary @- {base}/posted")
    started = guest.console.wait_match(r"^supervisor: started curl#\d+", 10, start)
    guest.type_line("attach curl")
    given = guest.console.wait_match(r"^attach: what you type now is curl's input", 10, start)
    for line in TYPED:
        guest.type_line(line)
        time.sleep(0.3)
    guest.type_key(b"\x04")  # Ctrl-D: the end of curl's input
    end = guest.console.wait_match(r"^fiber curl#\d+ (exited with (-?\d+)|.*killed.*)$", RUN_TIMEOUT, start)
    code = int(end.group(2)) if end and end.group(2) is not None else None
    said = guest.console.from_fiber("curl", start)
    want = "".join(f"{line}\n" for line in TYPED).encode()
    report("stdin_post_body_from_the_console", started is not None and given is not None and code == 0
           and host.posted == [("/posted", want)] and POSTED.decode().strip() in said,
           f"started {started is not None}, given {given is not None}, exit {code}, server got {host.posted}, "
           f"curl said {said[:3]}")


def bench_download(qemu, kernel, logdir):
    """MB/s (10^6 bytes) of `curl -o` from the host's loopback into curl's file area, as curl
    measures it, median of BENCH_ROUNDS; None if curl did not boot or every round failed."""
    os.makedirs(logdir, exist_ok=True)
    port = free_port()
    host = HttpServer(HostFiles(), port)
    guest = Guest(qemu, UserNet(tcp=[80]), kernel=kernel, log=os.path.join(logdir, "console.log"))
    rates = []
    try:
        if guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT) is None:
            return None
        for _ in range(BENCH_ROUNDS):
            code, said = run_curl(guest, f"-s -o bench -w %{{speed_download}}\\n http://{GUEST_HOST_ALIAS}:{port}/bench")
            speed = [l for l in said if re.fullmatch(r"\d+(\.\d+)?", l.strip())]
            size = guest.console_bus("/Bus/files/curl").get("/Bus/files/curl/bench/size")
            if code == 0 and speed and size == str(BENCH_BYTES):
                rates.append(float(speed[-1]) / 1e6)
    finally:
        guest.stop()
        host.close()
    return statistics.median(rates) if rates else None


def run_curl(guest, args):
    """Types `run curl ARGS`; (exit status or None, curl's console lines)."""
    start = guest.console.mark()
    guest.type_line(f"run curl {args}")
    end = guest.console.wait_match(r"^fiber curl#\d+ (exited with (-?\d+)|.*killed.*)$", RUN_TIMEOUT, start)
    said = guest.console.from_fiber("curl", start)
    if end is None or end.group(2) is None:
        return None, said
    return int(end.group(2)), said


def cat(guest, name):
    """What the console's `cat curl/NAME` prints, up to the next prompt-free pause."""
    start = guest.console.mark()
    guest.type_line(f"cat curl/{name}")
    time.sleep(1.0)
    lines = guest.console.since(start)
    return [l for l in lines[1:] if not l.startswith("cat ")]  # the echo of the command comes first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--logdir", default="build/test-logs/curl")
    ap.add_argument("--kernel", default="build/nexus-test.elf")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    port = free_port()
    files = HostFiles()
    host = HttpServer(files, port)
    base = f"http://{GUEST_HOST_ALIAS}:{port}"
    guest = Guest(args.qemu, UserNet(tcp=[80]), kernel=args.kernel, log=os.path.join(args.logdir, "console.log"))
    try:
        up = guest.console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("booted", up is not None, "no 'httpd: listening' on the console")
        if up is None:
            return report.exit_status()
        code, said = run_curl(guest, f"-s {base}/page.html")
        report("get_to_console", code == 0 and PAGE.decode().strip() in said, f"exit {code}, said {said[:4]}")

        code, said = run_curl(guest, f"-s -L {base}/moved")
        report("redirect_followed", code == 0 and PAGE.decode().strip() in said, f"exit {code}, said {said[:4]}")

        code, said = run_curl(guest, f"-s -o page.html {base}/page.html")
        printed = cat(guest, "page.html")
        report("output_file_written", code == 0 and PAGE.decode().strip() in printed,
               f"exit {code}, cat printed {printed[:3]}")
        started = time.monotonic()
        code, said = run_curl(guest, f"-s -o binary {base}/binary")
        elapsed = time.monotonic() - started
        sizes = guest.console_bus("/Bus/files/curl")
        report("output_file_size_on_bus", code == 0 and sizes.get("/Bus/files/curl/binary/size") == str(len(BINARY))
               and sizes.get("/Bus/files/curl/page.html/size") == str(len(PAGE)), f"exit {code}, /Bus: {sizes}")
        if code == 0:
            report.info(f"curl in Nexus: {len(BINARY) >> 10} KiB into its file area in {elapsed:.2f} s "
                        f"(console round trip included), {len(BINARY) / elapsed / 1e6:.2f} MB/s")

        code, said = run_curl(guest, f"-s -I {base}/page.html")
        status = [l for l in said if l.startswith("HTTP/")]
        length = [l for l in said if l.lower().startswith("content-length:")]
        report("head_only", code == 0 and status and " 200" in status[0] and length
               and length[0].split(":")[1].strip() == str(len(PAGE)) and PAGE.decode().strip() not in said,
               f"exit {code}, said {said[:6]}")

        code, said = run_curl(guest, f"-s --max-time 2 {base}/stall")
        report("max_time_exit_28", code == 28 and files.stalled, f"exit {code}, the server saw {files.stalled} stalled requests")

        refused = free_port()
        code, said = run_curl(guest, f"-s http://{GUEST_HOST_ALIAS}:{refused}/")
        report("refused_exit_7", code == 7, f"exit {code}, said {said[:3]}")

        post_typed_lines(guest, host, base)
        membrane_restart_under_curl(guest, base)

        report_guest_health(report, guest)
    finally:
        guest.stop()
        host.close()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
