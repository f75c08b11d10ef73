"""The host's side of a guest's network: free loopback ports, QEMU's user network with guest
ports forwarded to them, and a UDP echo server for the guest to talk to. Every socket here is
on 127.0.0.1: tests never send traffic off the machine."""
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


class UdpEcho:
    """Echoes every datagram back to its sender, on the host's loopback (.port); counts them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
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
