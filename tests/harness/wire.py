"""Guests joined through the wire peer (tools/wirepeer.py, docs/wirepeer.md): each guest's NIC
is a -netdev dgram socket to the peer, and the peer's Relay forwards every frame between them,
through a seeded Impairment per direction if given, into a pcap if asked. This is the test
network of nodes talking LWF or UTCP to each other.

    with Wire(qemu, [dict(bootargs="..."), dict(bootargs="...")], logdir) as wire:
        a, b = wire.guests
        a.console.wait_for(...)
"""
import os
import socket
import threading

from tests.harness.guest import Guest
from tests.harness.net import HubNet, free_ports
from tools.wirepeer import DgramPort, Relay

FIRST_MAC = 0x525400123456  # QEMU's own default for a first NIC; guest i gets FIRST_MAC + i


def node_mac(i):
    return ":".join(f"{b:02x}" for b in (FIRST_MAC + i).to_bytes(6, "big"))


class Wire:
    """nodes: one dict of Guest options (kernel, bootargs, mem, timeout) per guest; guest i
    logs to logdir/node<i>.log and has MAC node_mac(i). A node's option user=net.UserNet(...,
    restrict=True) puts its wire port and that user network on one hub (net.HubNet), so the
    host reaches the guest's forwarded ports too; the user network then sees the wire's frames
    and the wire the user network's: filter them with impairments. impairments, pcap, learning:
    as for wirepeer.Relay (directions are (from node, to node)). extra_ports: more relay ports
    after the guests' (numbered from len(nodes) on), e.g. a host-side node's; the caller closes
    them."""

    def __init__(self, qemu, nodes, logdir, impairments=None, pcap=None, learning=False, extra_ports=()):
        os.makedirs(logdir, exist_ok=True)
        self.ports = [DgramPort(0, qemu_port) for qemu_port in free_ports(len(nodes), socket.SOCK_DGRAM)]
        self.relay = Relay(self.ports + list(extra_ports), impairments=impairments, pcap=pcap, learning=learning)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.relay.run, kwargs=dict(stop_event=self._stop), daemon=True)
        self._thread.start()
        self.guests = []
        try:
            for i, (port, options) in enumerate(zip(self.ports, nodes)):
                options = dict(options)
                user = options.pop("user", None)
                self.guests.append(Guest(qemu, HubNet(user, port) if user else port,
                                         log=os.path.join(logdir, f"node{i}.log"), mac=node_mac(i), **options))
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for guest in self.guests:
            guest.stop()
        self._stop.set()
        self._thread.join()
        for port in self.ports:
            port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
