"""make mesh: N Nexus nodes on one LWF wire, each with its own identity, console and HTTP port.

    python3 -m tools.mesh --nodes 3 --qemu "$(QEMU_BASE)" --keygen build/nexus-keygen --dir build/mesh
    python3 -m tools.mesh console N [--dir build/mesh]    # another node's console (leave: Ctrl-])

Each node i:
  - identity: build/mesh/node<i>.key (made with nexus-keygen on the first run, kept after), handed
    to the guest with -initrd like `make run IDENTITY=...`;
  - network: its NIC on a QEMU hub with a restricted user network (DHCP, HTTP forwarded from a
    free 127.0.0.1 port) and a -netdev dgram port of the mesh's relay. The relay forwards only
    LWF frames (EtherType 0x4C57) between the nodes, so no node's user network sees another
    node's IP traffic (two DHCP servers on one wire, PITFALLS.md);
  - console: node 0 on this terminal (Ctrl-A X quits it, and the mesh with it); the others on a
    unix socket build/mesh/node<i>.sock (attach with `console N`), all logged to node<i>.log.
The table printed at start says which is where. Frames on the wire go to build/mesh/wire.pcap.
"""
import argparse
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import termios
import threading
import tty

from tests.harness.net import HubNet, UserNet, free_ports, loopback_url
from tests.harness.wire import node_mac
from tools.wirepeer import DgramPort, Relay

LWF_ETHERTYPE = b"\x4c\x57"
DETACH = b"\x1d"  # Ctrl-]


class LwfOnlyRelay(Relay):
    """The wire between the nodes: LWF frames only (each node's hub holds its own user network)."""

    def _targets(self, i, frame):
        return super()._targets(i, frame) if frame[12:14] == LWF_ETHERTYPE else []


def identity(keygen, path):
    """The CellID of the key file at path, made first if there is none."""
    if not os.path.exists(path):
        subprocess.run([keygen, path], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([keygen, "--show", path], check=True, stdout=subprocess.PIPE, text=True).stdout
    return re.search(r"CellID:\s+([0-9a-f]{32})", out).group(1)


def node_command(qemu, i, net, key, console_socket=None, log=None):
    """QEMU_BASE for node i: its hub network, MAC and key; a background node's console on a socket."""
    cmd = shlex.split(qemu)
    cmd[cmd.index("-netdev") + 1] = net.qemu_netdev("net0")
    cmd += net.qemu_extra_args("net0")
    nic = cmd.index("virtio-net-device,netdev=net0")
    cmd[nic] += f",mac={node_mac(i)}"
    cmd += ["-initrd", key, "-append", ""]
    if console_socket:
        cmd.remove("-nographic")
        cmd += ["-display", "none", "-monitor", "none",
                "-chardev", f"socket,id=console,path={console_socket},server=on,wait=off,logfile={log}",
                "-serial", "chardev:console"]
    return cmd


def run_mesh(args):
    os.makedirs(args.dir, exist_ok=True)
    n = args.nodes
    relay_ports = [DgramPort(0, p) for p in free_ports(n, socket.SOCK_DGRAM)]
    relay = LwfOnlyRelay(relay_ports, pcap=os.path.join(args.dir, "wire.pcap"))
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, kwargs=dict(stop_event=stop), daemon=True)
    thread.start()
    nodes = []
    for i in range(n):
        key = os.path.join(args.dir, f"node{i}.key")
        user = UserNet(tcp=[80], restrict=True)
        sock = os.path.join(args.dir, f"node{i}.sock") if i else None
        log = os.path.join(args.dir, f"node{i}.log") if i else None
        if sock and os.path.exists(sock):
            os.unlink(sock)
        nodes.append(dict(cellid=identity(args.keygen, key), http=user.tcp[80], sock=sock, log=log,
                          cmd=node_command(args.qemu, i, HubNet(user, relay_ports[i]), key, sock, log)))
    print(f"mesh: {n} nodes on one LWF wire (frames: {os.path.join(args.dir, 'wire.pcap')})")
    for i, node in enumerate(nodes):
        where = "this terminal (Ctrl-A X quits the mesh)" if i == 0 else \
            f"python3 -m tools.mesh console {i}   (socket {node['sock']}, log {node['log']})"
        print(f"  node {i}: CellID {node['cellid']}  MAC {node_mac(i)}  {loopback_url(node['http'])}  console: {where}")
    print("  from any console: run lwfping <CellID>", flush=True)
    background = [subprocess.Popen(node["cmd"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(args.dir, f"node{i}.qemu.err"), "w"),
                                   start_new_session=True)
                  for i, node in enumerate(nodes) if i]
    def stop_mesh(signum, frame):
        raise SystemExit(128 + signum)  # through the finally below: no node outlives the mesh
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop_mesh)
    try:
        status = subprocess.call(nodes[0]["cmd"])
    finally:
        for proc in background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        stop.set()
        thread.join()
        for port in relay_ports:
            port.close()
    print(f"mesh: stopped ({n} nodes)")
    return status


def attach(args):
    """A raw terminal on node N's console socket until Ctrl-] or the node ends."""
    path = os.path.join(args.dir, f"node{args.node}.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        print(f"mesh: cannot reach {path}: {e} (is `make mesh` running with node {args.node}?)", file=sys.stderr)
        return 1
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    if saved:
        tty.setraw(fd, termios.TCSANOW)  # not the default TCSAFLUSH: keys typed already stay
    # Said once raw, so what the operator types after reading it is not lost to the switch.
    print(f"mesh: node {args.node}'s console; leave with Ctrl-]", end="\r\n", file=sys.stderr, flush=True)
    try:
        while True:
            ready, _, _ = select.select([s, fd], [], [])
            if s in ready:
                data = s.recv(4096)
                if not data:
                    break
                os.write(sys.stdout.fileno(), data)
            if fd in ready:
                data = os.read(fd, 1024)
                if not data or DETACH in data:
                    break
                s.sendall(data)
    finally:
        if saved:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        s.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default="build/mesh")
    sub = ap.add_subparsers(dest="command")
    con = sub.add_parser("console", help="attach to node N's console")
    con.add_argument("node", type=int)
    con.add_argument("--dir", default="build/mesh")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--qemu", help="the Makefile's QEMU_BASE")
    ap.add_argument("--keygen", default="build/nexus-keygen")
    args = ap.parse_args()
    if args.command == "console":
        return attach(args)
    if not args.qemu or not 2 <= args.nodes <= 8:
        ap.error("--qemu is required and --nodes must be 2..8")
    return run_mesh(args)


if __name__ == "__main__":
    raise SystemExit(main())
