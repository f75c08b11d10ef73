"""HTTP checks for apps/httpd, against any running instance on loopback (standard library only).

    python3 -m tests.e2e.http_checks --host 127.0.0.1 --port P [--expect-addr A] [--only a,b]

Prints `PASS http.<name>` (with a figure in parentheses for some) or `FAIL http.<name>: <detail>`
per check; exits 1 if any check failed. The host must be an address in 127.0.0.0/8: the server
under test is either the host build (tests.e2e.run_host_httpd) or Nexus under QEMU, whose
user network forwards a loopback port to the guest. Every socket operation may take up to
60 s, because the server may run under slow emulation; speed is reported, never judged.

POST /echo is streamed by the server (it never holds a whole body), so the echo check writes
the body from a second thread while it reads the answer, as any client of a streaming echo must.
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import ipaddress
import json
import os
import socket
import struct
import sys
import threading
import time

from tests.harness.report import Checks, Fail, Report, expect

TIMEOUT = 60.0
PERIOD = bytes(range(251))
check = Checks()


def pattern(n):
    """The /bytes/N body: byte i is i % 251."""
    return (PERIOD * (n // len(PERIOD) + 1))[:n]


def pattern_sha256(n):
    block = PERIOD * 4096  # a whole number of periods, so blocks join seamlessly
    h = hashlib.sha256()
    for _ in range(n // len(block)):
        h.update(block)
    h.update(pattern(n % len(block)))
    return h.hexdigest()


class Target:
    def __init__(self, host, port, expect_addr):
        self.host, self.port, self.expect_addr = host, port, expect_addr

    def conn(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def counting_conn_class(self):
        """An HTTPConnection class plus a list that grows by one per TCP connection made."""
        made = []
        lock = threading.Lock()

        class Counting(http.client.HTTPConnection):
            def connect(self):
                with lock:
                    made.append(1)
                super().connect()

        return Counting, made

    def raw(self):
        return socket.create_connection((self.host, self.port), timeout=TIMEOUT)

    def get(self, path, conn=None):
        c = conn or self.conn()
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r, r.read()
        finally:
            if conn is None:
                c.close()


def read_response(sock, buf=b"", head_only=False):
    """One response from a raw socket: (status, headers with lower-case names, body, leftover)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        expect(chunk, "connection closed before a complete response head")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    expect(len(parts) >= 2 and parts[0].startswith("HTTP/1.") and parts[1].isdigit(),
           f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        expect(chunk, f"connection closed after {len(rest)} of {length} body bytes")
        rest += chunk
    return int(parts[1]), headers, rest[:length], rest[length:]


def closed_by_server(sock, leftover=b""):
    """Waits for the server to close; returns the bytes that came first (b"" when none)."""
    extra = leftover
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return extra
        except socket.timeout:
            raise Fail(f"server kept the connection open for {TIMEOUT:.0f} s")
        if not chunk:
            return extra
        extra += chunk


def bus(t):
    status, r, body = t.get("/bus.json")
    expect(status == 200, f"/bus.json answered {status}")
    return json.loads(body.decode("utf-8"))


@check
def get_root(t):
    addr = bus(t)["bus"].get("/Bus/net/ipv4/addr")
    expect(addr, "/bus.json has no /Bus/net/ipv4/addr")
    status, r, body = t.get("/")
    expect(status == 200, f"status {status}")
    ctype = r.getheader("Content-Type", "")
    expect(ctype.startswith("text/html"), f"Content-Type {ctype!r}")
    text = body.decode("utf-8", "replace")
    expect(addr in text, f"page does not show the address {addr!r} from /bus.json")
    if t.expect_addr:
        expect(t.expect_addr in text, f"page does not show the expected address {t.expect_addr!r}")
    expect(r.getheader("Server") == "nexus-httpd", f"Server header {r.getheader('Server')!r}")


@check
def bus_json(t):
    status, r, body = t.get("/bus.json")
    expect(status == 200, f"status {status}")
    ctype = r.getheader("Content-Type", "")
    expect(ctype.startswith("application/json"), f"Content-Type {ctype!r}")
    doc = json.loads(body.decode("utf-8"))
    expect(isinstance(doc, dict), "top level is not an object")
    uptime = doc.get("uptime_ms")
    expect(isinstance(uptime, int) and not isinstance(uptime, bool) and uptime >= 0, f"uptime_ms {uptime!r}")
    tree = doc.get("bus")
    expect(isinstance(tree, dict), "no \"bus\" object")
    expect(len(tree) >= 5, f"only {len(tree)} keys")
    expect("/Bus/net/ipv4/addr" in tree, "no /Bus/net/ipv4/addr")
    expect(all(isinstance(k, str) and isinstance(v, str) for k, v in tree.items()), "a non-string key or value")


def stream_body(r, on_chunk=None):
    """Reads a response body in 1 MiB pieces (never whole into memory); returns its length."""
    got = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            return got
        if on_chunk:
            on_chunk(chunk)
        got += len(chunk)


@check
def bytes_16m(t):
    n = 16 << 20
    c = t.conn()
    try:
        start = time.monotonic()
        c.request("GET", f"/bytes/{n}")
        r = c.getresponse()
        expect(r.status == 200, f"status {r.status}")
        expect(r.getheader("Content-Length") == str(n), f"Content-Length {r.getheader('Content-Length')!r}")
        h = hashlib.sha256()
        got = stream_body(r, h.update)
        elapsed = max(time.monotonic() - start, 1e-9)
    finally:
        c.close()
    expect(got == n, f"got {got} bytes, want {n}")
    expect(h.hexdigest() == pattern_sha256(n), "SHA-256 differs from the i % 251 pattern")
    return f"{n / elapsed / 1e6:.1f} MB/s"


@check
def echo_1m(t):
    body = os.urandom(1 << 20)
    c = t.conn()
    errors = []
    try:
        c.putrequest("POST", "/echo")
        c.putheader("Content-Type", "application/octet-stream")
        c.putheader("Content-Length", str(len(body)))
        c.endheaders()

        def send_body():
            try:
                c.sock.sendall(body)
            except OSError as e:
                errors.append(e)

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        r = c.getresponse()
        data = r.read()
        sender.join(TIMEOUT)
    finally:
        c.close()
    expect(not errors, f"sending the body failed: {errors[:1]}")
    expect(r.status == 200, f"status {r.status}")
    expect(len(data) == len(body), f"got {len(data)} bytes back, sent {len(body)}")
    expect(data == body, "echoed bytes differ")


@check
def keepalive_200(t):
    total, workers = 200, 32
    Counting, made = t.counting_conn_class()
    local = threading.local()
    opened = []
    lock = threading.Lock()
    addr = bus(t)["bus"].get("/Bus/net/ipv4/addr", "")

    def one(i):
        if not hasattr(local, "conn"):
            local.conn = Counting(t.host, t.port, timeout=TIMEOUT)
            with lock:
                opened.append(local.conn)
        if i % 2 == 0:  # alternate a fixed-content route with the status page
            n = 1000 + i
            status, r, body = t.get(f"/bytes/{n}", local.conn)
            return status == 200 and body == pattern(n)
        status, r, body = t.get("/", local.conn)
        return status == 200 and addr.encode() in body

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, range(total)))
    finally:
        for c in opened:
            c.close()
    bad = results.count(False)
    expect(bad == 0, f"{bad} of {total} responses wrong")
    expect(len(made) <= workers, f"{len(made)} TCP connections for {workers} workers: keep-alive not used")
    return f"{len(made)} connections"


TCP_INFO_TOTAL_RETRANS = 100  # struct tcp_info's tcpi_total_retrans (Linux, linux/tcp.h): 8 bytes, then u32s


def total_retransmissions(sock):
    """Segments this client socket sent again, its SYN included (Linux's TCP_INFO)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_TOTAL_RETRANS + 4)
    return struct.unpack_from("I", info, TCP_INFO_TOTAL_RETRANS)[0]


@check
def burst_32(t):
    """32 clients connect at the same moment, each with one request. The clients are on this
    host's loopback, which loses nothing: a client sends a segment again only if the server's
    listening socket dropped it, its SYN or its handshake's last ACK. QEMU's user network listened
    with a backlog of 1 (tools/hostfwd_backlog.c), and such clients waited 1, 2, 4 s and more."""
    clients = 32
    start = threading.Barrier(clients)
    addr = bus(t)["bus"].get("/Bus/net/ipv4/addr", "")

    def one(i):
        start.wait()
        began = time.monotonic()
        with t.raw() as s:
            path = f"/bytes/{1000 + i}" if i % 2 == 0 else "/"
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            status, headers, body, rest = read_response(s)
            right = status == 200 and (body == pattern(1000 + i) if i % 2 == 0 else addr.encode() in body)
            return right, total_retransmissions(s), time.monotonic() - began

    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, range(clients)))
    wrong = sum(1 for right, _, _ in results if not right)
    resent = [(i, n) for i, (_, n, _) in enumerate(results) if n]
    expect(wrong == 0, f"{wrong} of {clients} responses wrong")
    expect(not resent, f"{len(resent)} of {clients} clients sent again (client, segments): {resent[:4]}; "
           f"a listener dropped their SYN or handshake")
    return f"slowest {max(s for _, _, s in results) * 1000:.0f} ms"


@check
def malformed_400(t):
    with t.raw() as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        status, headers, body, rest = read_response(s)
        expect(status == 400, f"status {status}")
        expect(headers.get("connection", "").lower() == "close", "no Connection: close")
        expect(headers.get("content-type", "").startswith("text/plain"), "error body is not text/plain")
        extra = closed_by_server(s, rest)
        expect(extra == b"", f"{len(extra)} unexpected bytes before close")
    status, r, body = t.get("/")
    expect(status == 200, f"GET / afterwards answered {status}")


@check
def header_431(t):
    pad = b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"p" * 100) for i in range(84))
    request = b"GET / HTTP/1.1\r\nHost: test\r\n" + pad + b"\r\n"
    expect(len(request) > 9 * 1024, "test request too small")
    with t.raw() as s:
        s.sendall(request)
        status, headers, body, rest = read_response(s)
        expect(status == 431, f"status {status}")
        expect(headers.get("connection", "").lower() == "close", "no Connection: close")


@check
def not_found_404(t):
    Counting, made = t.counting_conn_class()
    c = Counting(t.host, t.port, timeout=TIMEOUT)
    try:
        status, r, body = t.get("/nope", c)
        expect(status == 404, f"status {status}")
        expect(r.getheader("Connection", "").lower() != "close", "404 closed the connection")
        status, r, body = t.get("/", c)
        expect(status == 200, f"GET / on the same connection answered {status}")
    finally:
        c.close()
    expect(len(made) == 1, f"{len(made)} connections used; keep-alive after 404 failed")


@check
def bytes_bad_400(t):
    for path in ("/bytes/abc", "/bytes/", "/bytes/-1", "/bytes/1x", "/bytes/1099511627777",
                 "/bytes/99999999999999999999999"):
        status, r, body = t.get(path)
        expect(status == 400, f"GET {path} answered {status}")


# ---- beyond the required list: behaviour the server promises that the above does not reach ----

@check
def bytes_head_2p40(t):
    c = t.conn()
    try:
        c.request("HEAD", "/bytes/1099511627776")
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    expect(r.status == 200, f"status {r.status}")
    expect(r.getheader("Content-Length") == "1099511627776", f"Content-Length {r.getheader('Content-Length')!r}")
    expect(body == b"", "HEAD returned a body")


@check
def pipelined_3(t):
    with t.raw() as s:
        s.sendall(b"GET /bytes/5 HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /bytes/300 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        status, headers, body, rest = read_response(s)
        expect(status == 200 and body == pattern(5), f"first: {status} {body!r}")
        status, headers, body, rest = read_response(s, rest, head_only=True)
        expect(status == 200 and headers.get("content-type", "").startswith("text/html"), f"second: {status}")
        status, headers, body, rest = read_response(s, rest)
        expect(status == 200 and body == pattern(300), f"third: {status}, {len(body)} bytes")
        expect(closed_by_server(s, rest) == b"", "bytes after the last response")


@check
def method_405(t):
    for method, path, allow in (("POST", "/", "GET, HEAD"), ("GET", "/echo", "POST"), ("DELETE", "/bus.json", "GET, HEAD")):
        c = t.conn()
        try:
            c.request(method, path)
            r = c.getresponse()
            r.read()
        finally:
            c.close()
        expect(r.status == 405, f"{method} {path} answered {r.status}")
        expect(r.getheader("Allow") == allow, f"{method} {path}: Allow {r.getheader('Allow')!r}")


@check
def echo_errors(t):
    cases = ((b"POST /echo HTTP/1.1\r\nHost: t\r\n\r\n", 411),
             (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 67108865\r\n\r\n", 413),
             (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
             (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501))
    for request, want in cases:
        with t.raw() as s:
            s.sendall(request)
            status, headers, body, rest = read_response(s)
            expect(status == want, f"{request.splitlines()[-3]!r}: status {status}, want {want}")
            expect(headers.get("connection", "").lower() == "close", f"{want} without Connection: close")


@check
def http10_closes(t):
    with t.raw() as s:
        s.sendall(b"GET /bytes/4 HTTP/1.0\r\n\r\n")
        status, headers, body, rest = read_response(s)
        expect(status == 200 and body == pattern(4), f"status {status}, body {body!r}")
        expect(closed_by_server(s, rest) == b"", "bytes after the response")


@check
def slow_reader_does_not_block(t):
    with t.raw() as stalled:
        stalled.sendall(b"GET /bytes/1073741824 HTTP/1.1\r\nHost: t\r\n\r\n")  # then never read
        time.sleep(0.5)
        status, r, body = t.get("/bytes/100")
        expect(status == 200 and body == pattern(100), f"second client got {status}")


PAUSED_BODY = 300000  # each of two responses: together more than the server's send buffers hold
PAUSE_S = 1.5


@check
def paused_reader_gets_every_byte_in_order(t):
    """A client that asks for two large bodies at once, the second with Connection: close, and
    reads nothing for a while with a small receive buffer: every buffer on the way fills, so a
    server that sends without waiting (Nexus's posted sends, docs/sockets.md) keeps bytes back,
    sends them in order as the window opens, and its FIN only after them, also after it closed
    the socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(TIMEOUT)
        s.connect((t.host, t.port))
        s.sendall(f"GET /bytes/{PAUSED_BODY} HTTP/1.1\r\nHost: t\r\n\r\n"
                  f"GET /bytes/{PAUSED_BODY} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        time.sleep(PAUSE_S)
        rest = b""
        for which in ("first", "second"):
            status, headers, body, rest = read_response(s, rest)
            expect(status == 200 and body == pattern(PAUSED_BODY),
                   f"{which}: status {status}, {len(body)} bytes, pattern {'kept' if body == pattern(len(body)) else 'broken'}")
        expect(closed_by_server(s, rest) == b"", "bytes after the second response")


def loopback_only(host):
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.version == 4 and addr in ipaddress.ip_network("127.0.0.0/8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--expect-addr", help="an address the status page must show, e.g. 10.0.2.15")
    ap.add_argument("--only", help="comma-separated check names")
    args = ap.parse_args()
    if not loopback_only(args.host):
        print(f"http_checks: refusing {args.host!r}: only IPv4 addresses in 127.0.0.0/8", file=sys.stderr)
        return 2
    wanted = set(args.only.split(",")) if args.only else None
    return check.run(Report("http"), Target(args.host, args.port, args.expect_addr), only=wanted)


if __name__ == "__main__":
    sys.exit(main())
