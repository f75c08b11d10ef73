"""Downloads abandoned in the middle (Nexus under QEMU's user network): the connections they leave
behind must not take the memory every other connection needs.

wrk, eight connections, keep-alive GETs of 1 MiB for 3 s: when its time is up wrk closes its
sockets with a body half read, the host resets them, and QEMU's user network answers the guest
with a FIN and a window shut for good. The Membrane's eight connections keep what they queued
until TCP gives up on them, minutes later. Before lwip/tcp_send.h bounded what sends copy into
lwIP's heap, they took all of it: the TCP headers of each frame that came in then had no
memory to be copied into (lwip/netif_ion.c), so no acknowledgement was ever processed again to
free any, and no new client got as much as a SYN-ACK (3 runs of 3 with the send buffer of 54
segments, 2 of 3 with 44, booted without a pcap). Under qemu_e2e, whose guest records a pcap and
runs slower, the stall did not come back even without the bounds: here the check guards the
case rather than reproduces it; test_tcp_send checks the bounds themselves."""
import http.client
import subprocess
import time

from tests.harness.http_probe import http_get

WRK = ["wrk", "-t1", "-c8", "-d3s"]
ANSWER_WITHIN_S = 15.0


def check_abandoned_downloads(report, bus_json, port, host="127.0.0.1"):
    """bus_json: a callable giving /Bus as httpd serves it (for the heap's high-water mark)."""
    wrk = subprocess.run(WRK + [f"http://{host}:{port}/bytes/1048576"], capture_output=True, text=True, timeout=60)
    report("abandoned_downloads_wrk_ran", wrk.returncode == 0, wrk.stderr[-300:])
    start = time.monotonic()
    try:
        status, body = http_get(port, "/bytes/100", ANSWER_WITHIN_S)
        ok, detail = status == 200 and len(body) == 100, f"{status}, {len(body)} bytes"
    except (OSError, http.client.HTTPException) as e:
        ok, detail = False, f"{type(e).__name__}: {e}"
    report("abandoned_downloads_leave_room", ok,
           f"a new client after wrk's abandoned downloads: {detail} after {time.monotonic() - start:.1f} s")
    if ok:
        bus = bus_json()
        report("abandoned_downloads_rx_had_memory", bus.get("/Bus/net/membrane/rx_no_memory") == "0",
               f"{bus.get('/Bus/net/membrane/rx_no_memory')} frames found no memory for their headers")
        report.info(f"heap high-water mark {bus.get('/Bus/net/membrane/high/heap_bytes')} bytes, "
                    f"{bus.get('/Bus/net/membrane/send_starved')} sends starved, "
                    f"{bus.get('/Bus/net/membrane/tcp_memory_refusals')} refused by lwIP for memory")
