"""One Nexus guest under QEMU.

It starts from the machine the Makefile's QEMU_BASE describes and changes only what a test
asks for: the kernel image, the boot arguments (-append; a manifest is chosen there too), the
memory, the NIC's MAC, its network (QEMU's user network with forwards, or a wire peer port
on -netdev dgram/stream), a pcap of the NIC, a command to run QEMU under. The console is read
in a thread (console.Console). QEMU runs in its own process group, stopped as a whole.
"""
import json
import os
import shlex
import signal
import subprocess
import threading
import time

from tests.harness.console import Console
from tests.harness.http_probe import first_success, http_get

NETDEV_ID = "net0"  # the Makefile's -device virtio-net-device,netdev=net0


class Guest:
    """qemu: the QEMU command line (make's QEMU_BASE). net: anything with qemu_netdev(id) (a
    net.UserNet, a net.HubNet, a wirepeer DgramPort or StreamPort), or None for QEMU_BASE's own. log: the
    console log's path. wrap: a command prefix QEMU runs under. timeout: seconds after which
    the guest is stopped whatever it is doing. extra_args: more QEMU arguments (-initrd KEYFILE)."""

    def __init__(self, qemu, net=None, *, log=None, kernel=None, bootargs="", mem=None, mac=None,
                 pcap=None, wrap=(), timeout=None, extra_args=()):
        cmd = shlex.split(qemu)
        if net is not None:
            cmd[cmd.index("-netdev") + 1] = net.qemu_netdev(NETDEV_ID)
            if hasattr(net, "qemu_extra_args"):  # a net.HubNet's members
                cmd += net.qemu_extra_args(NETDEV_ID)
        if kernel:
            cmd[cmd.index("-kernel") + 1] = kernel
        if mem:
            cmd[cmd.index("-m") + 1] = mem
        if mac:
            nic = cmd.index(f"virtio-net-device,netdev={NETDEV_ID}")
            cmd[nic] += f",mac={mac}"
        if pcap:
            cmd += ["-object", f"filter-dump,id=pcap0,netdev={NETDEV_ID},file={pcap}"]
        cmd += list(extra_args)  # e.g. -initrd KEYFILE: the node's identity
        cmd += ["-append", bootargs]
        self.command = list(wrap) + cmd
        self.net = net
        if log:
            os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.console = Console(self.proc.stdout, log)
        self._timer = None
        if timeout is not None:
            self._timer = threading.Timer(timeout, self.stop)
            self._timer.daemon = True
            self._timer.start()

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=None):
        """QEMU's exit status once it ends by itself (the guest's test device), with the
        console read to its end; None if it is still running after timeout seconds."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.console.join()
        return status

    def stop(self):
        """Kills QEMU with its whole process group (a wrapper and all) and reads the console
        to its end."""
        if self._timer:
            self._timer.cancel()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self.console.join()
        try:
            self.proc.stdin.close()
        except OSError:  # QEMU died with typed bytes still in the pipe
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- the console

    def pause(self):
        """Stops QEMU as a loaded host does (SIGSTOP to its group): the guest's time stands still
        while frames for it pile up outside. resume() lets it run on."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.proc.pid, signal.SIGCONT)

    def type_line(self, line):
        """Types a line on the console, as the operator does, Enter included."""
        self.proc.stdin.write(f"{line}\r".encode())
        self.proc.stdin.flush()

    def type_key(self, key):
        """Types one key (bytes: a control key such as Ctrl-D, b"\\x04"), without Enter."""
        self.proc.stdin.write(key)
        self.proc.stdin.flush()

    def console_bus(self, prefix, timeout=10):
        """/Bus keys under prefix as the console monitor's `bus` command lists them: it answers
        even with the network down and adds no traffic of its own."""
        start = self.console.mark()
        self.type_line(f"bus {prefix}")
        deadline = time.monotonic() + timeout
        values = {}
        while time.monotonic() < deadline and not values:
            time.sleep(0.3)  # the monitor prints the whole listing at once
            values = dict(l.split("=", 1) for l in self.console.since(start) if l.startswith(prefix) and "=" in l)
        return values

    # ---- HTTP through the user network's forward of port 80

    @property
    def http_port(self):
        return self.net.tcp[80]

    def get(self, path, timeout=5.0):
        return http_get(self.http_port, path, timeout)

    def bus_json(self, timeout=30):
        """/Bus as httpd's /bus.json serves it; {} if it does not answer 200."""
        status, body = self.get("/bus.json", timeout)
        return json.loads(body)["bus"] if status == 200 else {}

    def first_success(self, path, limit, try_timeout, every=None):
        """Monotonic time of the first 200 for GET path (http_probe.first_success)."""
        return first_success(self.http_port, path, limit, try_timeout, every, self.alive)


def report_guest_health(report, guest):
    """The closing checks of a run: no fiber was killed (a kernel line "fiber NAME#N killed: ..."),
    and QEMU still runs."""
    killed = [l for l in guest.console.since(0) if not l.startswith("[") and l.startswith("fiber ") and " killed: " in l]
    report("no_fiber_killed", not killed, "; ".join(killed[:3]))
    report("qemu_alive", guest.alive(), f"QEMU exited with {guest.proc.poll()}")
