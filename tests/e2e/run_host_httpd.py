"""Runs tests/e2e/http_checks.py against the host build of apps/httpd (standard library only).

    python3 -m tests.e2e.run_host_httpd --binary build/host/httpd_host   (from the project root)

Builds nothing. Starts the binary on a free port bound to 127.0.0.1, waits for its
`httpd: listening on port N` line, runs every HTTP check against it, then stops it. Relays the
checks' PASS/FAIL lines and adds two of its own:
    http.server_survived   the server was still running after all checks
    http.sanitizers_clean  its stderr holds no AddressSanitizer/UBSan report
Exits non-zero if any line is a FAIL.
"""
import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from tests.harness.net import free_port
from tests.harness.report import Report
from tests.e2e.slowloris import check_accept_burst, check_slowloris

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def pump(stream, sink, lines):
    for line in iter(stream.readline, ""):
        lines.append(line.rstrip("\n"))
        sink.put(line.rstrip("\n"))
    sink.put(None)


class Server:
    def __init__(self, binary, port):
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen([binary, str(port), "127.0.0.1"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace", env=env)
        self.stdout, self.stderr = [], []
        self.events = queue.Queue()
        for stream, lines in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=pump, args=(stream, self.events, lines), daemon=True).start()

    def wait_listening(self, port, timeout):
        """'up', 'port-taken' or a reason it did not come up."""
        deadline = time.monotonic() + timeout
        want = f"httpd: listening on port {port}"
        while time.monotonic() < deadline:
            try:
                line = self.events.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return f"exited with status {self.proc.returncode}"
                continue
            if line == want:
                return "up"
            if line and "bind failed" in line:
                return "port-taken"
        return f"no '{want}' line within {timeout:.0f} s"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.1)  # let the pump threads take the last lines

    def tail(self, n=20):
        return "\n".join("    " + l for l in (self.stdout + self.stderr)[-n:])


def start(binary, timeout, attempts=3):
    """Starts the server, trying another port if the chosen one was taken in the meantime."""
    for _ in range(attempts):
        port = free_port()
        server = Server(binary, port)
        state = server.wait_listening(port, timeout)
        if state == "up":
            return server, port, None
        server.stop()
        if state != "port-taken":
            return server, port, state
    return server, port, "every port tried was taken"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--startup-timeout", type=float, default=30.0)
    ap.add_argument("--checks-timeout", type=float, default=1800.0)
    args = ap.parse_args()
    report = Report("http")
    server, port, problem = start(args.binary, args.startup_timeout)
    if problem:
        report("server_start", False, problem)
        print(server.tail())
        return 1
    report.run_checker([sys.executable, "-m", "tests.e2e.http_checks", "--host", "127.0.0.1", "--port", str(port),
                        "--expect-addr", "10.0.2.15"], "checks_exit", timeout=args.checks_timeout)
    check_slowloris(report, port)
    check_accept_burst(report, port, lambda: server.proc.send_signal(signal.SIGSTOP),
                       lambda: server.proc.send_signal(signal.SIGCONT))
    alive = server.proc.poll() is None
    server.stop()
    report("server_survived", alive, f"exited with status {server.proc.returncode}")
    reports = [l for l in server.stderr if any(m in l for m in SANITIZER_MARKS)]
    report("sanitizers_clean", not reports, reports[0] if reports else "")
    if report.failed:
        print(server.tail(40))
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
