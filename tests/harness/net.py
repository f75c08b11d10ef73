"""The host's side of a guest's network: free loopback ports, QEMU's user network with guest
ports forwarded to them, and UDP servers for the guest to talk to (an echo; the e2e DNS stub
builds on them), and an HTTP server. Every socket here is on loopback: tests never send traffic off the machine."""
import http.server
import socket
import threading

LOOPBACK = "127.0.0.1"


def free_ports(n, kind=socket.SOCK_STREAM):
    """n distinct ports free on 127.0.0.1 right now: bound together, then released (another
    process could still take one first)."""
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.socket(socket.AF_INET, kind))
            socks[-1].bind((LOOPBACK, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(kind=socket.SOCK_STREAM):
    return free_ports(1, kind)[0]


class UserNet:
    """QEMU's user network (slirp) with guest ports forwarded from free loopback ports:
    .tcp[80] is the host port that reaches the guest's port 80. restrict=True cuts the guest
    off from everything but the forwards (no host alias 10.0.2.2, no DNS relay).

    Like the wire peer's ports, it gives its -netdev option with qemu_netdev(id), so a Guest
    takes either as its network."""

    def __init__(self, tcp=(), udp=(), restrict=False):
        self.tcp = {guest: free_port(socket.SOCK_STREAM) for guest in tcp}
        self.udp = {guest: free_port(socket.SOCK_DGRAM) for guest in udp}
        self.restrict = restrict

    def qemu_netdev(self, netdev_id):
        options = [f"user,id={netdev_id}"] + (["restrict=on"] if self.restrict else [])
        for proto, forwards in (("tcp", self.tcp), ("udp", self.udp)):
            options += [f"hostfwd={proto}:{LOOPBACK}:{host}-:{guest}" for guest, host in forwards.items()]
        return ",".join(options)


class UdpServer:
    """Answers every datagram to a loopback port (.port) with reply(datagram), in a thread;
    reply returns the answer, or None for none. .served counts the datagrams."""

    def __init__(self, reply, host=LOOPBACK, port=0):
        if not host.startswith("127."):
            raise ValueError("test servers serve loopback only")
        self.reply = reply
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.served = 0
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
            self.served += 1
            answer = self.reply(data)
            if answer is not None:
                self.sock.sendto(answer, peer)

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


class UdpEcho(UdpServer):
    """Echoes every datagram back to its sender."""

    def __init__(self):
        super().__init__(lambda datagram: datagram)


class HubNet:
    """Several host-side netdevs joined on one QEMU hub as the guest's network: the user network
    (DHCP, forwards; .tcp and .udp are its) and a wire peer's port that sends frames the user
    network never would (an echo request to the guest). The hub floods every frame to every
    member, so the user network must be restricted: what the peer injects never leaves the
    machine (PITFALLS.md)."""

    def __init__(self, user, *peers):
        if not user.restrict:
            raise ValueError("a hub's user network must be restricted")
        self.members = (user,) + peers
        self.tcp, self.udp = user.tcp, user.udp

    def qemu_netdev(self, netdev_id):
        return f"hubport,id={netdev_id},hubid=0"

    def qemu_extra_args(self, netdev_id):
        args = []
        for i, member in enumerate(self.members):
            member_id = f"{netdev_id}m{i}"
            args += ["-netdev", member.qemu_netdev(member_id),
                     "-netdev", f"hubport,id={member_id}hub,hubid=0,netdev={member_id}"]
        return args


class RelayedNet:
    """The guest's NIC on a hub of its own, apart from the user network: hub 1 holds the NIC and
    a wire peer port (.guest_side), hub 2 the restricted user network (forwards; .tcp, .udp) and
    another (.user_side). A host-side relay joins the two, so it decides what the user network
    sees: frames injected into .guest_side reach the guest only (QEMU 7.2's user network crashes
    on some of them, PITFALLS.md)."""

    def __init__(self, user, guest_side, user_side):
        if not user.restrict:
            raise ValueError("a relayed user network must be restricted")
        self.user, self.guest_side, self.user_side = user, guest_side, user_side
        self.tcp, self.udp = user.tcp, user.udp

    def qemu_netdev(self, netdev_id):
        return f"hubport,id={netdev_id},hubid=1"

    def qemu_extra_args(self, netdev_id):
        args = []
        for hub, member, member_id in ((1, self.guest_side, f"{netdev_id}g"), (2, self.user, f"{netdev_id}u"),
                                       (2, self.user_side, f"{netdev_id}r")):
            args += ["-netdev", member.qemu_netdev(member_id),
                     "-netdev", f"hubport,id={member_id}hub,hubid={hub},netdev={member_id}"]
        return args


class HttpServer(http.server.ThreadingHTTPServer):
    """An HTTP server on a loopback port, in threads, for a guest to fetch from (as 10.0.2.2
    under QEMU's user network). respond(path) gives (status, headers, body) for GET and HEAD,
    and for POST, whose bodies are kept in .posted as (path, body); it may block (a stalled
    server). .served counts the answers."""

    daemon_threads = True

    def __init__(self, respond, port=0, host=LOOPBACK):
        if not host.startswith("127."):
            raise ValueError("test servers serve loopback only")

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, head):
                status, headers, body = respond(self.path)
                # Counted before the answer leaves: a client that has it may look at once.
                self.server.served += 1
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - the standard library's names
                self.answer(False)

            def do_HEAD(self):  # noqa: N802
                self.answer(True)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.server.posted.append((self.path, self.rfile.read(length)))
                self.answer(False)

            def log_message(self, *args):
                pass

        self.served = 0
        self.posted = []
        super().__init__((host, port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


def loopback_url(port, path="/"):
    """The URL of a guest's forwarded HTTP port on this machine's loopback (the only address a
    test or tool ever targets)."""
    return f"http://127.0.0.1:{port}{path}"
