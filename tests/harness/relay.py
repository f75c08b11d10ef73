"""The relay between the guest's hub and the user network's (net.RelayedNet): it decides what
the user network sees, so frames can be injected towards the guest alone (QEMU 7.2's user
network crashes on some malformed ones, PITFALLS.md)."""
import select
import socket
import threading

USER_NET_ADDR = "10.0.2.2"  # QEMU's user network: DHCP server, and the source of every forwarded connection


class Relay:
    """Joins the guest's hub and the user network's (net.RelayedNet), and injects towards the
    guest only. wire_log, if given, gets every frame (.write); client, if given, is a host on the
    guest's wire (.mac, .take(frame)): the frames the guest sends to its MAC go to it and not to
    the user network, as a switch would keep them. On a hub, QEMU's user network answers a
    segment for any address it does not know with a RST in that address's name."""

    def __init__(self, guest_side, user_side, guest_mac, wire_log=None, client=None):
        self.guest_side, self.user_side = guest_side, user_side
        self.wire_log, self.client = wire_log, client
        self.guest_mac = bytes.fromhex(guest_mac.replace(":", ""))
        self.to_user = self.to_guest = 0
        self.foreign_to_user = 0    # frames from the guest's hub without the guest's MAC: must stay 0
        self.fragments_held = 0     # IPv4 fragments the guest sent, kept from the user network
        self.asked_for_user_network = 0  # the guest's ARP requests for USER_NET_ADDR
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def is_arp_request_for(frame, address):
        return len(frame) >= 42 and frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x01" \
            and frame[38:42] == socket.inet_aton(address)

    @staticmethod
    def is_ipv4_fragment(frame):
        return len(frame) >= 34 and frame[12:14] == b"\x08\x00" and int.from_bytes(frame[20:22], "big") & 0x3FFF != 0

    def _run(self):
        ports = (self.guest_side, self.user_side)
        while not self._stop.is_set():
            ready, _, _ = select.select(ports, [], [], 0.2)
            for port in ready:
                frame = port.recv(0)
                while frame is not None:
                    self._forward(port, frame)
                    frame = port.recv(0)

    def _forward(self, port, frame):
        if self.wire_log:
            self.wire_log.write(frame)
        if port is self.guest_side and self.is_arp_request_for(frame, USER_NET_ADDR):
            self.asked_for_user_network += 1
        if port is self.guest_side and self.client and self.client.take(frame) and frame[0:6] == self.client.mac:
            return
        if port is self.user_side:
            self.guest_side.send(frame)
            self.to_guest += 1
        elif frame[6:12] != self.guest_mac:
            self.foreign_to_user += 1
        elif self.is_ipv4_fragment(frame):
            self.fragments_held += 1
        else:
            self.user_side.send(frame)
            self.to_user += 1

    def inject(self, frame):
        if self.wire_log:
            self.wire_log.write(frame)
        self.guest_side.send(frame)

    def stop(self):
        self._stop.set()
        self._thread.join()
