"""mosquitto 2.0.11's broker (Debian's, unmodified) on Nexus, driven by Debian's mosquitto-clients.

    python3 -m tests.e2e.run_qemu_mosquitto --qemu "QEMU COMMAND"   (from the project root)

Boots the product kernel, whose default manifest runs `mosquitto -c /etc/mosquitto/mosquitto.conf`
with the config built into its image (apps/mosquitto/): its listener on port 1883 comes from
the folder its `include_dir` names, so the broker listens only if readdir works. The guest's
port 1883 is forwarded from a free loopback port; the host's mosquitto_sub and mosquitto_pub
(Debian's mosquitto-clients, MQTT 3.1.1) talk to it there:
  - QoS 0, 1 and 2: what a subscriber at that QoS receives is what was published, in order;
  - a retained message: a subscriber that comes after it still gets it (and sees the retain flag);
  - five subscribers at once, each receives every message;
  - a 48 KiB payload arrives intact;
  - messages/s host -> broker -> host at QoS 0 and 1 (INFO lines, make bench);
  - the Membrane restarted (console `restart membrane`): the broker restarts with it
    (its manifest entry's restarts_with), listens again, a new pub/sub works, and the clients
    connected across it, a subscriber and a publisher sending 10 messages/s, connect again by
    themselves (the clients' own reconnection, as against a broker restarted on Linux): the
    subscriber receives what the publisher sends after the restart;
  - a config with a `plugin` line (`run mosquitto -c /etc/mosquitto/with-plugin.conf` after
    `stop mosquitto`): the broker cannot dlopen it here, says so with its own error and exits
    (not killed), libnexus names the call once; `start mosquitto` brings the manifest's back.

Output: PASS/FAIL lines for tests/run.py, INFO lines with the figures; the console log goes to
--logdir.
"""
import argparse
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

from tests.harness.guest import Guest, report_guest_health
from tests.harness.net import UserNet
from tests.harness.report import Report

MQTT_PORT = 1883  # apps/mosquitto/conf.d/nexus.conf
BOOT_TIMEOUT = 120.0
RECOVERY_LIMIT = 90.0
CLIENT_TIMEOUT = 60  # seconds a client waits for what it expects (mosquitto_sub -W)
SUBSCRIBERS = 5
BIG_PAYLOAD = bytes((i * 31 + (i >> 7)) & 0xFF for i in range(48 * 1024)).replace(b"\n", b".")
BENCH_MESSAGES = 500
PROBE_WAIT = 2.0  # seconds a readiness probe may take to come back before another is sent
LOAD_INTERVAL = 0.1  # seconds between the messages of the load across the Membrane restart
# "1700000000: mosquitto version 2.0.11 running": the broker's log line once its listeners are up.
RUNNING = r"\[mosquitto\] \d+: mosquitto version [\d.]+ running"

report = Report("mosquitto")


class Broker:
    """The guest broker as the host's clients reach it: 127.0.0.1 and the forwarded port."""

    def __init__(self, port):
        self.port = port

    def args(self):
        return ["-h", "127.0.0.1", "-p", str(self.port)]

    def publish(self, topic, payload, qos=0, retain=False, timeout=CLIENT_TIMEOUT):
        """mosquitto_pub one message; its exit status (0: the broker took it at that QoS)."""
        cmd = ["mosquitto_pub", *self.args(), "-t", topic, "-q", str(qos), "-s"] + (["-r"] if retain else [])
        try:
            return subprocess.run(cmd, input=payload, capture_output=True, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return None

    def publish_lines(self, topic, lines, qos=0, timeout=CLIENT_TIMEOUT):
        """mosquitto_pub -l: one message per line, over one connection; its exit status."""
        cmd = ["mosquitto_pub", *self.args(), "-t", topic, "-q", str(qos), "-l"]
        try:
            return subprocess.run(cmd, input=b"".join(l + b"\n" for l in lines), capture_output=True,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return None


class Subscriber:
    """A mosquitto_sub on `topic` and on `topic/ready`, printing "RETAIN TOPIC PAYLOAD" per
    message; a thread collects its lines. mosquitto_sub says nothing when its subscription is
    granted, so ready() publishes probes on topic/ready until one comes back: from then on,
    whatever is published on topic reaches it."""

    def __init__(self, broker, topic, qos):
        self.broker, self.topic, self.lines = broker, topic, queue.Queue()
        cmd = ["mosquitto_sub", *broker.args(), "-t", topic, "-t", topic + "/ready", "-q", str(qos),
               "-F", "%r %t %p"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip(b"\n"))
        self.lines.put(None)

    def _next(self, deadline):
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def ready(self, limit=CLIENT_TIMEOUT):
        deadline = time.monotonic() + limit
        probe = (self.topic + "/ready").encode()
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.broker.publish(self.topic + "/ready", b"probe") != 0:
                time.sleep(1)
                continue
            answer_by = time.monotonic() + PROBE_WAIT  # other messages may come meanwhile
            line = self._next(answer_by)
            while line is not None and probe not in line:
                line = self._next(answer_by)
            if line is not None:
                return True
        return False

    def messages(self, n, limit=CLIENT_TIMEOUT):
        """The next n messages on topic as (retained, payload), fewer if they stop coming."""
        deadline, got, prefix = time.monotonic() + limit, [], self.topic.encode() + b" "
        while len(got) < n:
            line = self._next(deadline)
            if line is None:
                break
            flag, _, rest = line.partition(b" ")
            if rest.startswith(prefix):
                got.append((flag == b"1", rest[len(prefix):]))
        return got

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class LoadPublisher:
    """A mosquitto_pub -l at QoS 1 fed "load N" every LOAD_INTERVAL seconds from a thread, N
    counting from 0: the load the broker is under when the Membrane restarts. .sent is the
    next N."""

    def __init__(self, broker, topic):
        cmd = ["mosquitto_pub", *broker.args(), "-t", topic, "-q", "1", "-l"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.sent, self.running = 0, True
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self):
        while self.running:
            try:
                self.proc.stdin.write(b"load %d\n" % self.sent)
                self.proc.stdin.flush()
            except OSError:
                return  # it ended
            self.sent += 1
            time.sleep(LOAD_INTERVAL)

    def stop(self):
        """Its exit status after its input ends (None if it does not end)."""
        self.running = False
        self.thread.join(5)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def load_number(payload):
    return int(payload.split()[1]) if payload.startswith(b"load ") else -1


def subscribers(broker, topic, qos, n=1):
    """n Subscribers on topic, each ready; (list, all ready?)."""
    subs = [Subscriber(broker, topic, qos) for _ in range(n)]
    return subs, all([s.ready() for s in subs])


def check_qos(broker):
    for qos in (0, 1, 2):
        topic = f"nexus/qos{qos}"
        messages = [f"qos {qos} message {i}".encode() for i in range(10)]
        (sub,), ready = subscribers(broker, topic, qos)
        status = broker.publish_lines(topic, messages, qos=qos)
        got = [payload for _, payload in sub.messages(len(messages))]
        sub.stop()
        report(f"qos{qos}_delivery", ready and status == 0 and got == messages,
               f"ready {ready}, publish exit {status}, got {len(got)} of {len(messages)}: {got[:3]}")


def check_retained(broker):
    topic = "nexus/retained"
    payload = b"retained on Nexus"
    status = broker.publish(topic, payload, qos=1, retain=True)
    sub = Subscriber(broker, topic, 1)  # comes after the message: gets the broker's retained copy
    got = sub.messages(1)
    sub.stop()
    report("retained_to_late_subscriber", status == 0 and got == [(True, payload)],
           f"publish exit {status}, got {got}")
    broker.publish(topic, b"", qos=1, retain=True)  # an empty retained message clears it


def check_many_subscribers(broker):
    topic = "nexus/fanout"
    messages = [f"to all {i}".encode() for i in range(20)]
    subs, ready = subscribers(broker, topic, 1, SUBSCRIBERS)
    status = broker.publish_lines(topic, messages, qos=1)
    got = [[payload for _, payload in s.messages(len(messages))] for s in subs]
    for s in subs:
        s.stop()
    whole = sum(g == messages for g in got)
    report("many_subscribers", ready and status == 0 and whole == SUBSCRIBERS,
           f"ready {ready}, publish exit {status}, {whole} of {SUBSCRIBERS} got all {len(messages)}: "
           f"{[len(g) for g in got]}")


def check_big_payload(broker):
    topic = "nexus/big"
    (sub,), ready = subscribers(broker, topic, 1)
    status = broker.publish(topic, BIG_PAYLOAD, qos=1)
    got = sub.messages(1)
    sub.stop()
    size = len(got[0][1]) if got else 0
    report("big_payload_intact", ready and status == 0 and got == [(False, BIG_PAYLOAD)],
           f"ready {ready}, publish exit {status}, got {size} bytes of {len(BIG_PAYLOAD)}")


def messages_per_second(broker, qos):
    """Messages/s of BENCH_MESSAGES published over one connection and received by one
    subscriber at the same QoS, from the first publish to the last arrival; None on a loss."""
    topic = f"nexus/bench{qos}"
    (sub,), ready = subscribers(broker, topic, qos)
    messages = [f"bench {i:06d}".encode() for i in range(BENCH_MESSAGES)]
    start = time.monotonic()
    status = broker.publish_lines(topic, messages, qos=qos, timeout=300)
    got = [payload for _, payload in sub.messages(len(messages), limit=300)]
    elapsed = time.monotonic() - start
    sub.stop()
    return BENCH_MESSAGES / elapsed if ready and status == 0 and got == messages else None


def check_membrane_restart(guest, broker):
    """The broker's sockets go with the Membrane: it restarts with it and listens again. The
    clients connected across the restart, under a steady load, lose their connections and
    connect (and subscribe) again by themselves, as against a broker restarted on Linux."""
    (held,), held_ready = subscribers(broker, "nexus/held", 1)
    load = LoadPublisher(broker, "nexus/held")
    before = held.messages(3)  # the load flows
    mark = guest.console.mark()
    guest.type_line("restart membrane")
    bound = guest.console.wait_for("supervisor: mosquitto restarts with membrane", 30, mark)
    report("broker_restarts_with_membrane", bound is not None, "no 'mosquitto restarts with membrane' on the console")
    again = guest.console.wait_match(RUNNING, RECOVERY_LIMIT, mark)
    report("broker_running_again", again is not None, "mosquitto did not say it runs again")
    topic = "nexus/after-restart"
    deadline = time.monotonic() + RECOVERY_LIMIT
    while True:  # a client that comes before the broker listens again is refused and ends
        sub = Subscriber(broker, topic, 1)
        ready = sub.ready(10)
        if ready or time.monotonic() > deadline or not guest.alive():
            break
        sub.stop()
        time.sleep(2)
    status = broker.publish(topic, b"after the restart", qos=1)
    got = sub.messages(1)
    sub.stop()
    report("pubsub_after_restart", ready and status == 0 and got == [(False, b"after the restart")],
           f"ready {ready}, publish exit {status}, got {got}")
    back = held_ready and held.ready(RECOVERY_LIMIT)
    report("held_subscriber_comes_back", back, f"subscribed before {held_ready}, again {back}")
    # The load's publisher lost its connection too: what it sends from now on must arrive.
    after = load.sent
    got, deadline = [], time.monotonic() + RECOVERY_LIMIT
    while time.monotonic() < deadline and not any(load_number(p) >= after for _, p in got):
        got += held.messages(1, limit=deadline - time.monotonic())
    status = load.stop()
    held.stop()
    report("load_comes_back", len(before) == 3 and any(load_number(p) >= after for _, p in got) and status == 0,
           f"before the restart {len(before)} of 3 load messages; after it, none from {after} on "
           f"(got {[p for _, p in got][-3:]}); publisher exit {status}")


PLUGIN_CONF = "/etc/mosquitto/with-plugin.conf"  # apps/mosquitto/with-plugin.conf


def check_plugin_fails_cleanly(guest, broker):
    """A config with a plugin line: mosquitto cannot dlopen it here and says so with its own
    error, exiting (not killed); libnexus names the call once. `start` then brings the broker of
    the manifest back."""
    mark = guest.console.mark()
    guest.type_line("stop mosquitto")
    stopped = guest.console.wait_for("supervisor: mosquitto stopped", 30, mark)
    guest.type_line(f"run mosquitto -c {PLUGIN_CONF}")
    ended = guest.console.wait_match(r"^fiber mosquitto#\d+ (exited with (-?\d+)|.*killed.*)$", 30, mark)
    said = "\n".join(guest.console.from_fiber("mosquitto", mark))
    report("plugin_dlopen_fails_cleanly",
           stopped is not None and ended is not None and ended.group(2) not in (None, "0")
           and 'Error: Unable to load auth plugin "/usr/lib/mosquitto_dynamic_security.so"' in said
           and "dlopen: not available on Nexus (ENOSYS)" in said,
           f"stopped {stopped is not None}, ended {ended.group(0) if ended else None}, mosquitto said {said[-400:]!r}")
    mark = guest.console.mark()
    guest.type_line("stop mosquitto")  # its restarts with the plugin config fail alike
    guest.console.wait_for("stop: mosquitto", 10, mark)
    guest.type_line("start mosquitto")
    running = guest.console.wait_match(RUNNING, 30, mark)
    config = "\n".join(guest.console.from_fiber("mosquitto", mark))
    sub = Subscriber(broker, "nexus/after-plugin", 0)
    ready = sub.ready(10)
    status = broker.publish("nexus/after-plugin", b"the manifest's broker")
    got = sub.messages(1)
    sub.stop()
    report("start_after_plugin_run_uses_the_manifest", running is not None
           and "Config loaded from /etc/mosquitto/mosquitto.conf." in config and ready and status == 0
           and got == [(False, b"the manifest's broker")], f"running {running is not None}, ready {ready}, got {got}")


def start_guest(qemu, logdir):
    """The product kernel with the guest's MQTT port forwarded: (guest, Broker or None if the
    broker did not say it runs)."""
    guest = Guest(qemu, UserNet(tcp=[MQTT_PORT]), log=os.path.join(logdir, "console.log"))
    running = guest.console.wait_match(RUNNING, BOOT_TIMEOUT)
    return guest, Broker(guest.net.tcp[MQTT_PORT]) if running else None


def bench_rates(broker):
    """{qos: messages/s or None} for QoS 0 and 1 (make bench, and this test's INFO lines)."""
    return {qos: messages_per_second(broker, qos) for qos in (0, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--logdir", default="build/test-logs/mosquitto")
    args = ap.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    if not (shutil.which("mosquitto_pub") and shutil.which("mosquitto_sub")):
        report("host_clients", False, "mosquitto_pub/mosquitto_sub missing: tools/bootstrap.sh installs mosquitto-clients")
        return 1
    guest, broker = start_guest(args.qemu, args.logdir)
    try:
        report("broker_running", broker is not None, "no 'mosquitto version ... running' on the console")
        if broker:
            said = "\n".join(guest.console.from_fiber("mosquitto"))
            report("listener_from_include_dir", "Opening ipv4 listen socket on port 1883" in said,
                   f"mosquitto said: {said[-300:]!r}")
            check_qos(broker)
            check_retained(broker)
            check_many_subscribers(broker)
            check_big_payload(broker)
            for qos, rate in bench_rates(broker).items():
                report(f"bench_qos{qos}", rate is not None, f"{BENCH_MESSAGES} messages at QoS {qos} did not all arrive")
                if rate:
                    report.info(f"mosquitto QoS {qos}: {rate:.0f} messages/s host -> broker -> host "
                                f"({BENCH_MESSAGES} messages of 13 bytes, one publisher, one subscriber)")
            check_membrane_restart(guest, broker)
            check_plugin_fails_cleanly(guest, broker)
        report_guest_health(report, guest)
    finally:
        guest.stop()
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
