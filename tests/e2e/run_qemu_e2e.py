"""End-to-end tests of the Membrane through QEMU's user network, driven from the host.

    python3 -m tests.e2e.run_qemu_e2e --qemu "QEMU COMMAND"   (from the project root)

Boots the normal manifest (Membrane, httpd, uptime) plus the plain-POSIX `posixcheck` app, with
the guest's port 80 forwarded to a free loopback port. Then:
  - tests.e2e.http_checks runs its HTTP checks against httpd (curl-like clients, Python), then
    slowloris and wrk's abandoned downloads (tests/e2e/abandoned_downloads.py);
  - posixcheck's own checks (UDP exchange with an echo server on the host's loopback, one of
    them large enough to arrive in IPv4 fragments the Membrane counts as copied, a DNS
    lookup through QEMU's resolver, TCP over lwIP's loopback, errno semantics) are read from the
    console;
  - /bus.json must show the DHCP lease, the MAC, IPv6 link-local, and rx_copied_bytes == 0.

QEMU's resolver forwards to the nameserver in /etc/resolv.conf. So that the lookup never leaves
the machine, QEMU runs in a private mount namespace whose resolv.conf names a DNS stub on
127.0.0.1:53 (tests/e2e/dns_stub.py); that needs root (or unshare rights), as CI has.

Output: PASS/FAIL lines for tests/run.py; the console log and a pcap go to --logdir.
"""
import argparse
import os
import sys
import time

from tests.e2e.dns_stub import DnsStub
from tests.e2e.http_bench import bulk_mb_s
from tests.harness.console import kernel_line, said_by
from tests.harness.guest import Guest
from tests.harness.net import UdpEcho, UserNet
from tests.harness.report import Report
from tests.e2e.abandoned_downloads import check_abandoned_downloads
from tests.e2e.slowloris import check_slowloris

DNS_NAME, DNS_ADDR = "nexus-test.example", "10.0.2.99"
NXDOMAIN_NAME = "nxdomain.nexus-test.example"  # the DNS stub answers NXDOMAIN for every unknown name
REALTIME_TOLERANCE_S = 5  # the guest's clock is the host's, read through the RTC; allow for slow QEMU
GUEST_HOST_ALIAS = "10.0.2.2"  # QEMU's user network maps it to the host's 127.0.0.1
EXPECTED_ADDR = "10.0.2.15"
BOOT_TIMEOUT = 90.0
POSIXCHECK_RO_DIR = "/etc"  # where posixcheck's image holds posixcheck.conf (Makefile FILES_posixcheck)
POSIXCHECK_LEFT = "posixcheck wrote this line 42"  # what it leaves in posixcheck.txt, its writable area

report = Report("e2e")


def with_resolv_conf(resolv):
    """A command prefix: QEMU in a private mount namespace whose resolv.conf names the DNS stub
    (see the module comment)."""
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv]


def check_sigpipe_default(guest):
    """posixcheck started again from the console with SIGPIPE's default action ends by it: its
    own line names the signal and the kernel sees the shell's status for it, 128 + 13."""
    start = guest.console.mark()
    guest.type_line("run posixcheck --die-by-sigpipe")
    line = guest.console.wait_match(r"fiber posixcheck#\d+ exited with (\d+)", 60, start)
    said = guest.console.from_fiber("posixcheck", start)
    report("sigpipe_default_terminates", line is not None and line.group(1) == "141"
           and "posixcheck: terminated by SIGPIPE" in said,
           f"exit {line.group(1) if line else None}, posixcheck said {said[:3]}")


def run_http_checks(port):
    report.run_checker([sys.executable, "-m", "tests.e2e.http_checks", "--host", "127.0.0.1", "--port", str(port),
                        "--expect-addr", EXPECTED_ADDR], "http_checks_exit", timeout=900)


def check_posixcheck_files(guest, said):
    """What posixcheck left in its writable area outlives it: the console's `cat` prints it and
    /Bus has its size. The calls that cannot exist said so on the console, once each."""
    start = guest.console.mark()
    guest.type_line("cat posixcheck/posixcheck.txt")
    printed = guest.console.wait_for(POSIXCHECK_LEFT, 20, start)
    report("file_cat_on_console", printed is not None, "`cat posixcheck/posixcheck.txt` did not print it")
    listing = guest.console_bus("/Bus/files/posixcheck")
    size = listing.get("/Bus/files/posixcheck/posixcheck.txt/size")
    report("file_size_on_bus", size == str(len(POSIXCHECK_LEFT) + 1), f"size on /Bus: {size!r}")
    report("file_unlinked_leaves_bus", size and "/Bus/files/posixcheck/posixcheck.out/size" not in listing
           and "/Bus/files/posixcheck/posixcheck.moved/size" not in listing, f"listed: {sorted(listing)}")
    for call in ("fork", "execv", "dlopen"):
        lines = [t for t in said if t.startswith(f"{call}: not available on Nexus")]
        report(f"unavailable_said_once.{call}", len(lines) == 1, f"{len(lines)} console lines")


def check_bus(guest):
    try:
        bus = guest.bus_json(timeout=60)
    except Exception as e:  # noqa: BLE001 - any failure is the check's failure
        report("bus_json_fetch", False, repr(e))
        return
    report("dhcp_lease_on_bus", bus.get("/Bus/net/ipv4/addr") == EXPECTED_ADDR and
           bus.get("/Bus/net/ipv4/gateway") == GUEST_HOST_ALIAS and bus.get("/Bus/net/ipv4/dns") == "10.0.2.3"
           and bus.get("/Bus/net/ipv4/netmask") == "255.255.255.0",
           {k: v for k, v in bus.items() if k.startswith("/Bus/net/ipv4/")})
    # The user network's gateway is its DHCP server too: one address, pinned (and listed) once.
    pins = bus.get("/Bus/net/ipv4/arp_pinned", "").split()
    report("arp_pinned_each_address_once", [p.split("=")[0] for p in pins] == [GUEST_HOST_ALIAS],
           f"/Bus/net/ipv4/arp_pinned={bus.get('/Bus/net/ipv4/arp_pinned')!r}")
    # lwIP's TCP memory errors are mostly refused sends the app retries: a count, not a drop.
    report("tcp_memory_refusals_not_a_drop", bus.get("/Bus/net/membrane/tcp_memory_refusals", "").isdigit()
           and "/Bus/net/membrane/drop/tcp_no_memory" not in bus, bus.get("/Bus/net/membrane/tcp_memory_refusals"))
    report("mac_on_bus", bus.get("/Bus/net/mac") == bus.get("/Bus/net/nic/mac") != None, bus.get("/Bus/net/mac"))
    ll = bus.get("/Bus/net/ipv6/linklocal", "")
    report("ipv6_linklocal_on_bus", ll.lower().startswith("fe80::"), ll)
    report("rx_copied_bytes_zero", bus.get("/Bus/net/switch/rx_copied_bytes") == "0",
           bus.get("/Bus/net/switch/rx_copied_bytes"))
    frames = int(bus.get("/Bus/net/switch/port/membrane/rx_frames", "0"))
    report("membrane_received_frames", frames > 1000, f"{frames} frames")
    realtime = bus.get("/Bus/sys/realtime_s", "")
    report("realtime_matches_host", realtime.isdigit() and abs(int(realtime) - time.time()) <= REALTIME_TOLERANCE_S,
           f"/Bus/sys/realtime_s={realtime!r}, host {time.time():.0f}")


CHUNKS_BACK_WITHIN_S = 30.0


def check_posted_sends(guest):
    """Sends were posted (docs/sockets.md, "Posted sends"), and some left a rest that followed
    from the chunks (posted_rests): posixcheck's 8 KiB sends over small buffers to peers that
    read nothing yet (apps/posixcheck/sockopt.c, fill_upto; its checks read every byte after).
    http_checks' paused reader makes none: httpd's bulk sends are not posted."""
    bus = guest.bus_json(timeout=60)
    got = {k: bus.get("/Bus/net/membrane/" + k, "") for k in ("posted_sends", "posted_rests", "posted_dropped_bytes")}
    report("posted_sends_left_rests", all(v.isdigit() for v in got.values())
           and int(got["posted_sends"]) > 0 and int(got["posted_rests"]) > 0, got)


AREA_BULK = 16 << 20
AREA_SLOT_MAX = AREA_BULK // 100  # a few frames' worth, should a status be read stale
BUS_SETTLES_S = 5.0


def check_bulk_from_the_area_alone(guest):
    """One bulk GET with nothing else on httpd's link: its bytes went through the send area
    alone, none through the link's slot, which would copy them twice; the socket waited for its
    own chunks instead (lwip/send_area.h, SEND_AREA_LOW_WATER)."""
    keys = ("tx_payload_bytes", "tx_slot_bytes", "tx_area_bytes")
    before = guest.bus_json(timeout=60)
    whole = bulk_mb_s(guest.http_port, AREA_BULK) is not None
    deadline = time.monotonic() + BUS_SETTLES_S
    while True:  # the Membrane publishes its counters every 100 ms
        after = guest.bus_json(timeout=60)
        d = {k: int(after.get("/Bus/net/membrane/" + k, "0") or 0)
             - int(before.get("/Bus/net/membrane/" + k, "0") or 0) for k in keys}
        if d["tx_payload_bytes"] >= AREA_BULK or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    report("bulk_sent_from_the_area_alone", whole and d["tx_payload_bytes"] >= AREA_BULK
           and d["tx_slot_bytes"] <= AREA_SLOT_MAX and d["tx_area_bytes"] >= AREA_BULK,
           f"{'whole' if whole else 'not whole'}, {d}")


def check_chunks_come_back(guest):
    """After wrk's abandoned downloads, whose connections died with rests and bytes in lwIP, and
    once posixcheck (whose link has a send area too) closed its sockets, every chunk is its app's
    again: nothing a dead or closed connection held stays held."""
    deadline, held = time.monotonic() + CHUNKS_BACK_WITHIN_S, None
    while time.monotonic() < deadline:
        held = guest.bus_json(timeout=60).get("/Bus/net/membrane/tx_area_held_now")
        if held == "0":
            break
        time.sleep(1)
    report("send_area_chunks_come_back", held == "0", f"tx_area_held_now={held!r} after {CHUNKS_BACK_WITHIN_S:.0f} s")


def check_membrane_copies(guest):
    """The Membrane's own copies out of the read-only RX pool: the fragments of posixcheck's
    4000-byte UDP echo (3 each way) whole, and TCP headers (HTTP); the kernel copied nothing."""
    bus = guest.bus_json(timeout=60)
    frames, headers = bus.get("/Bus/net/membrane/rx_copied_frames", ""), bus.get("/Bus/net/membrane/rx_header_bytes", "")
    report("membrane_copied_fragments_and_tcp_headers", frames.isdigit() and int(frames) >= 3
           and headers.isdigit() and int(headers) > 0 and bus.get("/Bus/net/switch/rx_copied_bytes") == "0",
           f"rx_copied_frames={frames} rx_header_bytes={headers}")
    # TX: every byte lwIP accepted was copied by the app into its link's send area or slot, most
    # of them into the send area and not again (docs/ion.md, "Sending from the link"), frames
    # were copied into TX buffers whole or only their headers, and checksummed, and the kernel
    # copied no TX payload.
    tx = {k: int(bus.get("/Bus/net/membrane/" + k, "0") or 0) for k in (
        "tx_payload_bytes", "tx_slot_bytes", "tx_area_bytes", "tx_stack_copied_bytes", "tx_frame_copied_bytes",
        "tx_header_bytes", "checksummed_bytes")}
    report("membrane_tx_copies_counted", tx["tx_payload_bytes"] > 0
           and tx["tx_slot_bytes"] + tx["tx_area_bytes"] >= tx["tx_payload_bytes"]
           and tx["tx_stack_copied_bytes"] < tx["tx_payload_bytes"] // 2 and tx["tx_frame_copied_bytes"] > 0
           and tx["tx_header_bytes"] > 0
           and tx["checksummed_bytes"] > 0 and bus.get("/Bus/net/switch/tx_copied_bytes") == "0",
           f"{tx} switch tx_copied_bytes={bus.get('/Bus/net/switch/tx_copied_bytes')}")
    # Zero-copy TX (docs/ion.md): the HTTP checks' bulk bodies left from httpd's send area (or
    # the buffers their payload was lent in, for what went through the slot), so less than half
    # of what was sent was copied again into a TX buffer (headers, ACKs and other frames); no
    # reference went astray.
    lent = {k: int(bus.get("/Bus/net/membrane/" + k, "0") or 0) for k in (
        "tx_area_frames", "tx_frames_in_place", "tx_area_lost", "tx_lent_lost")}
    report("membrane_tx_bulk_sent_in_place", lent["tx_area_frames"] > 0 and lent["tx_lent_lost"] == 0
           and lent["tx_area_lost"] == 0 and tx["tx_frame_copied_bytes"] < tx["tx_payload_bytes"] // 2,
           f"{lent} {tx}")
    # The 16 MiB GET's ACKs, batched while the guest was busy sending, reached lwIP one per
    # batch and connection once it counted bytes (lwip/rx_ack_coalesce.h); and the stream was
    # whole (the HTTP checks compared it).
    rx = {k: int(bus.get("/Bus/net/membrane/" + k, "0") or 0) for k in ("rx_frames", "rx_acks_coalesced")}
    report("membrane_bulk_acks_coalesced", 0 < rx["rx_acks_coalesced"] < rx["rx_frames"], f"{rx}")


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
    app = f"posixcheck,{GUEST_HOST_ALIAS},{echo.port},{DNS_NAME},{DNS_ADDR},{NXDOMAIN_NAME},{POSIXCHECK_RO_DIR}"
    guest = Guest(args.qemu, UserNet(tcp=[80]), log=os.path.join(args.logdir, "console.log"),
                  bootargs=f"app={app}", pcap=os.path.join(args.logdir, "nic.pcap"), wrap=with_resolv_conf(resolv))
    console = guest.console
    try:
        listening = console.wait_for(said_by("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report("httpd_listening", listening is not None, "no 'httpd: listening' on the console")
        if listening:
            print(f"  httpd listening {time.monotonic() - guest.started:.2f} s after QEMU started", flush=True)
            run_http_checks(guest.http_port)
            check_bus(guest)
            check_bulk_from_the_area_alone(guest)
            check_slowloris(report, guest.http_port)
            check_abandoned_downloads(report, lambda: guest.bus_json(timeout=60), guest.http_port)
        done = console.wait_for(said_by("posixcheck", "posixcheck: done"), BOOT_TIMEOUT)
        report("posixcheck_finished", done is not None, "posixcheck never reported")
        if done is not None:
            check_membrane_copies(guest)
            check_posted_sends(guest)
            if listening:
                check_chunks_come_back(guest)
        said = console.from_fiber("posixcheck")
        report.relay(t for t in said if t.startswith(("PASS posix.", "FAIL posix.")))
        report("heap_bound_reached", any(t.startswith("note: heap bound reached after") for t in said),
               "posixcheck filled 64 MiB without reaching its 1 MiB heap grant")
        report("syslog_on_console", "posixcheck: notice: syslog check 42: No such file or directory" in said
               and not any("this line is masked" in t for t in said), "no (or an unmasked) syslog line")
        report("writev_line_on_console", "note: writev gathered this line on the console" in said,
               "posixcheck's writev(1) of three pieces did not reach the console as one line")
        check_posixcheck_files(guest, said)
        check_sigpipe_default(guest)
        report("udp_echo_served", echo.served > 0, "the host's echo server saw nothing")
        report("dns_through_qemu_resolver", dns.served > 0, "the DNS stub saw no query")
        killed = [l for l in console.since(0) if kernel_line(l) and l.startswith("fiber ") and " killed: " in l]
        report("no_fiber_killed", not killed, "; ".join(killed[:3]))
        report("qemu_alive", guest.alive(), f"QEMU exited with {guest.proc.poll()}")
    finally:
        guest.stop()
        echo.close()
        dns.close()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
