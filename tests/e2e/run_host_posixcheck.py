"""Runs apps/posixcheck (built for the host against glibc) against a local UDP echo server.

This proves the checks themselves: every one must pass on Linux before its failure on Nexus can
be blamed on Nexus. The echo server listens on 127.0.0.1 with a port chosen by the kernel; DNS is
checked with `localhost` -> 127.0.0.1, and an NXDOMAIN with a name the DNS stub
(tests/e2e/dns_stub.py) refuses. So that lookup never leaves the machine, posixcheck runs in a
private mount namespace whose resolv.conf names the stub on a loopback address of its own
(127.0.0.1:53 may be held by a QEMU run's stub); that needs root, as the e2e run does. Its file
checks get a read-only directory (a read-only bind mount, in the same namespace, of a folder holding
apps/posixcheck/posixcheck.conf, as /etc holds it on Nexus) and a writable current directory.
posixcheck's PASS/FAIL lines are relayed unchanged and its exit status becomes ours. Then
`posixcheck --die-by-sigpipe` must end by SIGPIPE (its default action). Builds nothing.

    python3 -m tests.e2e.run_host_posixcheck --binary build/host/posixcheck_host   (from the project root)
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys

from tests.e2e.dns_stub import DnsStub
from tests.e2e.run_qemu_e2e import NXDOMAIN_NAME
from tests.harness.net import UdpEcho
from tests.harness.report import Report

CONF = "apps/posixcheck/posixcheck.conf"
STUB_ADDRESSES = [f"127.0.53.{i}" for i in range(1, 9)]


def read_only_dir(logdir):
    """A folder holding posixcheck.conf, to be mounted read-only over itself."""
    path = os.path.abspath(os.path.join(logdir, "ro"))
    os.makedirs(path, exist_ok=True)
    shutil.copy(CONF, os.path.join(path, "posixcheck.conf"))
    return path


def with_resolv_conf_and_ro(resolv, ro_dir):
    """with_resolv_conf's private mount namespace, with ro_dir bound read-only over itself."""
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && mount --bind "$1" "$1" && '
            'mount -o remount,bind,ro "$1" && shift && exec "$@"', resolv, ro_dir]


def start_dns_stub():
    """A DNS stub with no names (every query NXDOMAIN) on the first free STUB_ADDRESSES port 53."""
    for addr in STUB_ADDRESSES:
        try:
            return DnsStub({}, host=addr)
        except OSError:
            continue
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/host/posixcheck_host")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--logdir", default="build/test-logs/posixcheck_host")
    args = ap.parse_args()
    report = Report("posix")
    if not os.path.exists(args.binary):
        report("binary", False, f"{args.binary} does not exist (build it first)")
        return 1

    dns = start_dns_stub()
    if dns is None:
        report("dns_stub", False, f"cannot serve DNS on port 53 of any of {STUB_ADDRESSES}; run as root")
        return 1
    echo = UdpEcho()
    resolv = os.path.abspath(os.path.join(args.logdir, "resolv.conf"))
    os.makedirs(args.logdir, exist_ok=True)
    with open(resolv, "w") as f:
        f.write(f"nameserver {dns.sock.getsockname()[0]}\n")
    # ASan would abort on the deliberately huge malloc; C says it returns NULL.
    env = dict(os.environ, ASAN_OPTIONS="allocator_may_return_null=1")
    try:
        ro_dir, work_dir = read_only_dir(args.logdir), os.path.join(args.logdir, "work")
        os.makedirs(work_dir, exist_ok=True)
        cmd = with_resolv_conf_and_ro(resolv, ro_dir) + [os.path.abspath(args.binary), "127.0.0.1", str(echo.port),
                                                         "localhost", "127.0.0.1", NXDOMAIN_NAME, ro_dir]
        # stdin: an empty pipe held open, as a Nexus program's input before anything is typed
        stdin_read, stdin_write = os.pipe()
        try:
            proc = subprocess.run(cmd, stdin=stdin_read, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=args.timeout, env=env, cwd=work_dir)
        except subprocess.TimeoutExpired as e:
            sys.stdout.write((e.stdout or b"").decode("utf-8", "replace"))
            report("timeout", False, f"posixcheck ran longer than {args.timeout:.0f} s")
            return 1
        finally:
            os.close(stdin_read)
            os.close(stdin_write)
    finally:
        echo.close()
        dns.close()

    out = proc.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    if proc.returncode == 0 and "posixcheck: done" not in out:
        report("summary", False, "exited 0 without its closing line")
        return 1
    if dns.served == 0:
        report("nxdomain_through_stub", False, "the DNS stub saw no query: the lookup went elsewhere")
        return 1
    die = subprocess.run([os.path.abspath(args.binary), "--die-by-sigpipe"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=args.timeout, env=env)
    report("sigpipe_default_terminates", die.returncode == -signal.SIGPIPE,
           f"exit status {die.returncode}: {die.stdout.decode('utf-8', 'replace').strip()}")
    return proc.returncode or report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
