"""The README's `make mesh` and `python3 -m tools.mesh console N`, run as typed (run_readme's
mesh group): the mesh boots in a pseudo-terminal, prints a row per node; every node learns
every other from its ANNOUNCEs; `run lwfping` answers from node 0 (this terminal) and from the
last node (through the console command, in a second terminal); every printed HTTP port serves
/bus.json listing the node's LWF peers; Ctrl-A X ends every node."""
import os
import re
import socket
import time

from tests.frontdoor.terminal import CTRL_A_X, Terminal
from tests.harness.http_probe import http_get

BOOT_TIMEOUT = 240.0
PEER_TIMEOUT = 120.0
DETACH = b"\x1d"


def log_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_until(found, timeout, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(every)
    return found()


def peers_seen(text):
    return set(re.findall(r"^\[lwf\] lwf: peer ([0-9a-f]{32})", text, re.M))


def check_mesh(cmd, console_cmds, report, logdir, nodes):
    term = Terminal(cmd, os.path.join(logdir, "make_mesh.log"))
    try:
        rows = []
        for i in range(nodes):
            m = term.expect(rf"^  node {i}: CellID ([0-9a-f]{{32}})  MAC \S+  http://127\.0\.0\.1:(\d+)/  console: (.*)$",
                            BOOT_TIMEOUT)
            rows.append(m.groups() if m else None)
        if not report("mesh.prints_every_node", all(rows), f"rows {rows}; terminal: {term.since(0)[-400:]}"):
            return
        ids = [r[0] for r in rows]
        report("mesh.distinct_identities", len(set(ids)) == nodes, ids)
        logs = [None] + [re.search(r"log (\S+)\)", r[2]).group(1) for r in rows[1:]]
        texts = [lambda: term.since(0)] + [lambda p=p: log_text(p) for p in logs[1:]]
        for i in range(nodes):
            others = set(ids) - {ids[i]}
            seen = wait_until(lambda: others <= peers_seen(texts[i]()) and others, PEER_TIMEOUT)
            report(f"mesh.node{i}_learns_every_peer", seen, f"peers {sorted(peers_seen(texts[i]()))}, want {sorted(others)}")
        term.type_line(f"run lwfping {ids[1]}")
        m = term.expect(r"^\[lwfping\] lwfping: 4 sent, 4 answered, 4 intact", 60)
        report("mesh.lwfping_from_node0", m is not None, term.since(0)[-300:])
        for console in console_cmds:
            check_console(console, ids, logs, report, logdir)
        for i, (cellid, port, _) in enumerate(rows):
            status, body = http_get(int(port), "/bus.json", 10)
            body = body.decode("utf-8", "replace")
            others = set(ids) - {cellid}
            listed = {o for o in others if f"/Bus/lwf/peers/{o}/" in body}
            report(f"mesh.node{i}_http_lists_peers", status == 200 and listed == others,
                   f"status {status}, peers listed {sorted(listed)} of {sorted(others)}")
        term.send(CTRL_A_X)
        rc = term.wait_exit(30)
        report("mesh.quits_with_ctrl_a_x", rc == 0 and "mesh: stopped" in term.since(0), f"exit status {rc}")
        socks = [r[2] for r in rows[1:]]
        report("mesh.every_node_ended", wait_until(lambda: all(not reachable(s) for s in socks), 10), socks)
    finally:
        term.close()


def reachable(console_text):
    path = re.search(r"socket (\S+),", console_text).group(1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def check_console(console, ids, logs, report, logdir):
    """`python3 -m tools.mesh console N` as typed: lwfping node 0 from there, leave with Ctrl-]."""
    node = int(console.split()[-1])
    term = Terminal(console, os.path.join(logdir, f"mesh_console_{node}.log"))
    try:
        attached = term.expect(r"leave with Ctrl-\]", 10)
        report(f"mesh.console_{node}_attaches", attached is not None, term.since(0)[-200:])
        start = len(log_text(logs[node]))
        term.type_line(f"run lwfping {ids[0]}")
        summary = wait_until(lambda: re.search(r"^\[lwfping\] lwfping: 4 sent.*$", log_text(logs[node])[start:], re.M),
                             60)
        report(f"mesh.lwfping_from_node{node}", summary and "4 answered, 4 intact" in summary.group(0),
               summary.group(0) if summary else "no lwfping summary in the node's log")
        report(f"mesh.console_{node}_shows_it", term.expect(r"lwfping: 4 sent", 10) is not None, term.since(0)[-200:])
        term.send(DETACH)
        report(f"mesh.console_{node}_detaches", term.wait_exit(10) == 0, "Ctrl-] did not end the console client")
    finally:
        term.close()
