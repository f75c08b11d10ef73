#!/usr/bin/env python3
"""End-to-end tests of the Membrane through QEMU's user network, driven from the host.

Boots the normal manifest (Membrane, httpd, uptime) plus the plain-POSIX `posixcheck` app, with
the guest's port 80 forwarded to a free loopback port. Then:
  - tests/e2e/http_checks.py runs its HTTP checks against httpd (curl-like clients, Python);
  - posixcheck's own checks (UDP exchange with an echo server on the host's loopback, a DNS
    lookup through QEMU's resolver, TCP over lwIP's loopback, errno semantics) are read from the
    console;
  - /bus.json must show the DHCP lease, the MAC, IPv6 link-local, and rx_copied_bytes == 0.

QEMU's resolver forwards to the nameserver in /etc/resolv.conf. So that the lookup never leaves
the machine, QEMU runs in a private mount namespace whose resolv.conf names a DNS stub on
127.0.0.1:53 (tests/e2e/dns_stub.py); that needs root (or unshare rights), as CI has.

Output: PASS/FAIL lines for tests/run.py; the console log and a pcap go to --logdir.
"""
import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dns_stub import DnsStub  # noqa: E402

DNS_NAME, DNS_ADDR = "nexus-test.example", "10.0.2.99"
GUEST_HOST_ALIAS = "10.0.2.2"  # QEMU's user network maps it to the host's 127.0.0.1
EXPECTED_ADDR = "10.0.2.15"
BOOT_TIMEOUT = 90.0

results = []


def report(name, ok, detail=""):
    results.append(ok)
    print(f"PASS e2e.{name}" if ok else f"FAIL e2e.{name}: {detail}", flush=True)


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class UdpEcho:
    """Echoes every datagram back to its sender, on the host's loopback."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.echoed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.sock.sendto(data, peer)
            self.echoed += 1

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


class Console:
    """Collects QEMU's console lines (and writes them to a log) in a thread."""

    def __init__(self, proc, log_path):
        self.proc = proc
        self.lines = []
        self.cond = threading.Condition()
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.log.write(line + "\n")
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(left)


def qemu_command(base, port, pcap, app, resolv):
    cmd = shlex.split(base)
    i = cmd.index("-netdev")
    cmd[i + 1] = f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:80"
    cmd += ["-object", f"filter-dump,id=pcap0,netdev=net0,file={pcap}", "-append", f"app={app}"]
    # A private mount namespace whose resolv.conf names the DNS stub (see the module comment).
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv] + cmd


def run_http_checks(port):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_checks.py")
    proc = subprocess.run([sys.executable, script, "--host", "127.0.0.1", "--port", str(port),
                           "--expect-addr", EXPECTED_ADDR], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=900)
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    for line in out:
        if line.startswith(("PASS ", "FAIL ")):
            print(line, flush=True)
            results.append(line.startswith("PASS "))
    if proc.returncode != 0 and not any(l.startswith("FAIL ") for l in out):
        report("http_checks_exit", False, f"exited {proc.returncode}: " + " | ".join(out[-5:]))


def check_bus(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/bus.json", timeout=60) as r:
            bus = json.load(r)["bus"]
    except Exception as e:  # noqa: BLE001 - any failure is the check's failure
        report("bus_json_fetch", False, repr(e))
        return
    report("dhcp_lease_on_bus", bus.get("/Bus/net/ipv4/addr") == EXPECTED_ADDR and
           bus.get("/Bus/net/ipv4/gateway") == GUEST_HOST_ALIAS and bus.get("/Bus/net/ipv4/dns") == "10.0.2.3"
           and bus.get("/Bus/net/ipv4/netmask") == "255.255.255.0",
           {k: v for k, v in bus.items() if k.startswith("/Bus/net/ipv4/")})
    report("mac_on_bus", bus.get("/Bus/net/mac") == bus.get("/Bus/net/nic/mac") != None, bus.get("/Bus/net/mac"))
    ll = bus.get("/Bus/net/ipv6/linklocal", "")
    report("ipv6_linklocal_on_bus", ll.lower().startswith("fe80::"), ll)
    report("rx_copied_bytes_zero", bus.get("/Bus/net/switch/rx_copied_bytes") == "0",
           bus.get("/Bus/net/switch/rx_copied_bytes"))
    frames = int(bus.get("/Bus/net/switch/port/membrane/rx_frames", "0"))
    report("membrane_received_frames", frames > 1000, f"{frames} frames")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True, help="QEMU command line; its -netdev is replaced")
    ap.add_argument("--logdir", default="build/test-logs/e2e")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    try:
        dns = DnsStub({DNS_NAME: DNS_ADDR})
    except OSError as e:
        report("dns_stub", False, f"cannot serve DNS on 127.0.0.1:53 ({e}); run as root")
        return 1
    echo = UdpEcho()
    resolv = os.path.abspath(os.path.join(args.logdir, "resolv.conf"))
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\n")
    port = free_port(socket.SOCK_STREAM)
    app = f"posixcheck,{GUEST_HOST_ALIAS},{echo.port},{DNS_NAME},{DNS_ADDR}"
    cmd = qemu_command(args.qemu, port, os.path.join(args.logdir, "nic.pcap"), app, resolv)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    console = Console(proc, os.path.join(args.logdir, "console.log"))
    try:
        listening = console.wait_for("httpd: listening", BOOT_TIMEOUT)
        report("httpd_listening", listening is not None, "no 'httpd: listening' on the console")
        if listening:
            print(f"  httpd listening {time.monotonic() - started:.2f} s after QEMU started", flush=True)
            run_http_checks(port)
            check_bus(port)
        done = console.wait_for("posixcheck: done", BOOT_TIMEOUT)
        report("posixcheck_finished", done is not None, "posixcheck never reported")
        for line in list(console.lines):
            if line.startswith(("PASS posix.", "FAIL posix.")):
                print(line, flush=True)
                results.append(line.startswith("PASS "))
        report("udp_echo_served", echo.echoed > 0, "the host's echo server saw nothing")
        report("dns_through_qemu_resolver", dns.queries > 0, "the DNS stub saw no query")
        killed = [l for l in console.lines if "killed" in l and "fiber" in l]
        report("no_fiber_killed", not killed, "; ".join(killed[:3]))
        report("qemu_alive", proc.poll() is None, f"QEMU exited with {proc.poll()}")
    finally:
        proc.kill()
        proc.wait()
        echo.close()
        dns.close()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
