"""rinetd 0.73 (Debian's, unmodified) on Nexus, driven from the host.

    python3 -m tests.e2e.run_qemu_rinetd --qemu "QEMU COMMAND"   (from the project root)

Boots the product kernel, whose default manifest runs `rinetd -f -c /etc/rinetd.conf` with the
config built into its image (apps/rinetd/rinetd.conf), the guest's ports 80, 8081 and 8082
forwarded from free loopback ports. Then:
  - host -> guest rinetd :8081 -> guest httpd (127.0.0.1:80 through lwIP's loopback): the same
    bytes as httpd straight;
  - host -> guest rinetd :8082 -> 10.0.2.2:28082, i.e. this script's own server on the host's
    loopback (QEMU's user network maps 10.0.2.2 to 127.0.0.1; the port is fixed in the config);
  - bulk MB/s of GET /bytes/N straight from httpd and through rinetd (INFO line, make bench);
  - the Membrane restarted (console `restart membrane`) during a download through rinetd: the
    download fails, rinetd restarts with the Membrane (its manifest entry's restarts_with) and
    forwards again on both ports.

Output: PASS/FAIL lines for tests/run.py, INFO lines with the figures; the console log goes to
--logdir.
"""
import argparse
import http.client
import os
import sys
import threading
import time

from tests.harness.console import said_by
from tests.harness.guest import Guest, report_guest_health
from tests.harness.http_probe import first_success, http_get
from tests.harness.net import HttpServer, UserNet
from tests.harness.report import Report

HOST_SERVER_PORT = 28082  # rinetd.conf forwards guest :8082 to 10.0.2.2 at this port
HOST_BODY = b"served by the host's loopback, through rinetd on Nexus\n"
BULK_BYTES = 4 * 1024 * 1024
LOAD_BYTES = 256 * 1024 * 1024  # long enough to still run when the Membrane restarts
BOOT_TIMEOUT = 120.0
RECOVERY_LIMIT = 60.0

report = Report("rinetd")


def host_answer(path):
    """The host's loopback server rinetd forwards :8082 to: /hello answers HOST_BODY."""
    return (200, {}, HOST_BODY) if path == "/hello" else (404, {}, b"")


def bulk_mb_s(port, nbytes, timeout=300):
    """MB/s of one GET /bytes/N through 127.0.0.1:port, or None if it did not arrive whole."""
    start = time.monotonic()
    try:
        status, body = http_get(port, f"/bytes/{nbytes}", timeout)
    except (OSError, http.client.HTTPException):
        return None
    elapsed = time.monotonic() - start
    return nbytes / elapsed / 1e6 if status == 200 and len(body) == nbytes else None


def start_guest(qemu, logdir):
    guest = Guest(qemu, UserNet(tcp=[80, 8081, 8082]), log=os.path.join(logdir, "console.log"))
    started = guest.console.wait_for(said_by("rinetd", "rinetd: starting redirections"), BOOT_TIMEOUT)
    return guest, started is not None


def bulk_figures(guest):
    """(MB/s straight from httpd, MB/s through rinetd), either None on a failed transfer."""
    return bulk_mb_s(guest.net.tcp[80], BULK_BYTES), bulk_mb_s(guest.net.tcp[8081], BULK_BYTES)


def check_forwarding(guest, host):
    direct = http_get(guest.net.tcp[80], "/bytes/1000", 30)
    forwarded = http_get(guest.net.tcp[8081], "/bytes/1000", 30)
    report("forward_to_httpd", forwarded[0] == 200 and forwarded == direct,
           f"through rinetd {forwarded[0]} ({len(forwarded[1])} bytes), straight {direct[0]}")
    status, body = http_get(guest.net.tcp[8082], "/hello", 30)
    report("forward_to_host_loopback", status == 200 and body == HOST_BODY and host.served > 0,
           f"{status}: {body[:60]!r}, host served {host.served}")


def check_membrane_restart(guest, host):
    """A download through rinetd while the Membrane restarts: it breaks, and rinetd comes back."""
    result = {}

    def load():
        try:
            status, body = http_get(guest.net.tcp[8081], f"/bytes/{LOAD_BYTES}", 120)
            result["got"] = len(body) if status == 200 else -1
        except (OSError, http.client.HTTPException) as e:
            result["error"] = repr(e)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    time.sleep(2.0)  # the transfer is under way
    mark = guest.console.mark()
    guest.type_line("restart membrane")
    bound = guest.console.wait_for("supervisor: rinetd restarts with membrane", 30, mark)
    report("rinetd_restarts_with_membrane", bound is not None, "no 'rinetd restarts with membrane' on the console")
    loader.join(180)
    report("load_saw_the_restart", "error" in result or result.get("got", LOAD_BYTES) < LOAD_BYTES,
           f"the download finished whole across the restart: {result}")
    again = guest.console.wait_for(said_by("rinetd", "rinetd: starting redirections"), RECOVERY_LIMIT, mark)
    report("rinetd_started_again", again is not None, "rinetd did not start its redirections again")
    up = first_success(guest.net.tcp[8081], "/bytes/100", RECOVERY_LIMIT, 5.0, alive=guest.alive)
    report("forward_to_httpd_after_restart", up is not None, f"no 200 through :8081 within {RECOVERY_LIMIT:.0f} s")
    try:
        status, body = http_get(guest.net.tcp[8082], "/hello", 30)
    except (OSError, http.client.HTTPException) as e:
        status, body = repr(e), b""
    report("forward_to_host_after_restart", status == 200 and body == HOST_BODY, f"{status}: {body[:60]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--logdir", default="build/test-logs/rinetd")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    try:
        host = HttpServer(host_answer, HOST_SERVER_PORT)
    except OSError as e:
        report("host_server", False, f"cannot listen on 127.0.0.1:{HOST_SERVER_PORT} ({e}); is another run using it?")
        return 1
    guest, started = start_guest(args.qemu, args.logdir)
    try:
        report("rinetd_started", started, "no 'rinetd: starting redirections' on the console")
        if started:
            check_forwarding(guest, host)
            direct, through = bulk_figures(guest)
            report("bulk_through_rinetd", direct is not None and through is not None,
                   f"GET /bytes/{BULK_BYTES}: straight {direct}, through rinetd {through}")
            if direct and through:
                report.info(f"rinetd bulk {BULK_BYTES >> 20} MiB: straight {direct:.2f} MB/s, through rinetd "
                            f"{through:.2f} MB/s ({through / direct * 100:.0f} %)")
            check_membrane_restart(guest, host)
        report_guest_health(report, guest)
    finally:
        guest.stop()
        host.close()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
