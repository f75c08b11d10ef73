#!/usr/bin/env python3
"""Runs every command README.md shows, exactly as a user types it, and checks what it promises.

Usage: python3 -m tests.frontdoor.run_readme --group GROUP   (from the project root)

Groups (tests/run.py runs each):
  coverage  every README command is claimed by a handler below, or it fails;
  run       each `make run ...` line in a pseudo-terminal: the printed curl line answers with the
            status page and the DHCP address; the plain one also runs the README's curl lines
            and console commands (and the operator commands' refusals), the PCAP one leaves a
            capture with the DHCP exchange and the HTTP request, MEM and BOOTARGS show in the
            boot banner and take effect; each quits with Ctrl-A X;
  debug     `make debug`: gdb-multiarch -batch attaches, reads pc, detaches, and the guest boots;
  build     `make` has nothing to do after the test build, `make clean` (in a scratch copy)
            removes every output, every object rebuilds when a header it includes changes, and
            every object of a compile class when that class's flags change;
  bench     `make bench` prints every figure;
  fuzz      `make fuzz` (FUZZ_SECONDS=5) runs every target;
  bench_linux  `make bench-linux` (ROUNDS=1) prints every figure for both guests with a ratio.
`make keygen` (build group) writes into a scratch folder; `make run IDENTITY=FILE` boots with a
key made there (and is first refused by make while the file does not exist).
A port in a command is replaced by a free one (or added, where the README uses the default).

Output: PASS/FAIL lines for tests/run.py; terminal logs go to build/test-logs/frontdoor/.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

from tests.frontdoor import pcap, readme
from tests.frontdoor.builddeps import check_flag_dependencies, check_header_dependencies
from tests.frontdoor.mesh import check_mesh
from tests.frontdoor.product import check_product
from tests.frontdoor.terminal import CTRL_A_X, CTRL_D, Terminal, user_env
from tests.harness.console import said_by_rx
from tests.harness.net import free_port
from tests.harness.report import Report

LOGDIR = "build/test-logs/frontdoor"
GUEST_ADDR = "10.0.2.15"
BOOT_TIMEOUT = 120.0  # includes make's check that the image is up to date
report = Report("readme")


def slug(cmd):
    return re.sub(r"[^A-Za-z0-9]+", "_", cmd).strip("_")


def make_vars(cmd):
    return dict(w.split("=", 1) for w in shlex.split(cmd)[2:] if "=" in w)


def with_var(cmd, name, value):
    """cmd with make variable name set to value: replaced where the README sets it, else added."""
    if re.search(rf"\b{name}=\S+", cmd):
        return re.sub(rf"\b{name}=\S+", f"{name}={value}", cmd)
    return f"{cmd} {name}={value}"


def shell(cmd, timeout=120, stderr=True):
    """What cmd prints (with its errors, unless stderr is False, as a shell pipe would take it)."""
    return subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if stderr else subprocess.DEVNULL,
                          env=user_env(), timeout=timeout).stdout.decode("utf-8", "replace")


def curl_until(cmd, want, limit):
    """Runs cmd (a curl line) until its output contains want, for up to limit seconds."""
    deadline, out = time.monotonic() + limit, ""
    while time.monotonic() < deadline:
        out = shell(cmd, timeout=30, stderr=False)
        if want in out:
            return True, out
        time.sleep(0.5)
    return False, out


def quit_qemu(term, name):
    term.send(CTRL_A_X)
    rc = term.wait_exit(20)
    report(f"{name}.quits_with_ctrl_a_x", rc == 0, f"exit status {rc}")


# ---- make run ----

def console(term, line, until, timeout=10):
    """Types a console line; the console's answer up to the regex `until` (None if it never came).
    term.typed is where the answer starts, for checks of what follows it."""
    term.typed = term.type_line(line)
    m = term.expect(until, timeout)
    time.sleep(0.2)  # the monitor prints a whole answer at once; let the rest of it arrive
    return term.since(term.typed) if m else None


def bus_value(term, key):
    out = console(term, f"bus {key}", rf"^{re.escape(key)}=.*$")
    m = re.search(rf"^{re.escape(key)}=(.*)$", out or "", re.M)
    return m.group(1).strip() if m else None


def check_help(term, out):
    listed = re.findall(r"^  (\w+) ", out or "", re.M)
    shown = {c.split()[0] for c, _ in readme.console_commands()}
    report("console.help_lists_readme_commands", shown <= set(listed), f"help lists {listed}, README shows {sorted(shown)}")
    report("console.readme_shows_every_command", set(listed) <= shown, f"help lists {listed}, README shows {sorted(shown)}")
    for name in listed:  # everything help lists is accepted
        ans = console(term, name, rf"^{re.escape(name)}\n.+\n")  # its echo, then an answer
        report(f"console.{name}_accepted", ans is not None and "unknown command" not in ans, ans)


def check_stop(term, name, curl):
    report(f"console.stop_{name}_ends_it", term.expect(rf"^supervisor: {name} stopped", 10, start=term.typed) is not None,
           f"no 'supervisor: {name} stopped'")
    report(f"console.stop_{name}_on_bus", bus_value(term, f"/Bus/fibers/{name}/state") == "stopped by the operator",
           bus_value(term, f"/Bus/fibers/{name}/state"))
    fibers = console(term, "fibers", r"^  httpd ")
    report(f"console.stop_{name}_not_in_fibers", fibers is not None and f"  {name} " not in fibers, fibers)
    again = console(term, f"stop {name}", r"^stop: .*$")
    report(f"console.stop_{name}_twice_refused", again is not None and f"{name} is not running" in again, again)


def check_start(term, name, curl):
    report(f"console.start_{name}_starts_it", term.expect(rf"^supervisor: started {name}#\d+", 10, start=term.typed) is not None,
           f"no 'supervisor: started {name}'")
    report(f"console.start_{name}_on_bus", bus_value(term, f"/Bus/fibers/{name}/state") == "alive",
           bus_value(term, f"/Bus/fibers/{name}/state"))
    again = console(term, f"start {name}", r"^start: .*$")
    report(f"console.start_{name}_twice_refused", again is not None and f"{name} is already running" in again, again)


def check_restart(term, name, curl):
    report(f"console.restart_{name}_restarts_it", term.expect(rf"^supervisor: restarted {name}#\d+", 10, start=term.typed) is not None,
           f"no 'supervisor: restarted {name}'")
    ok, out = curl_until(curl, GUEST_ADDR, 30)
    report(f"console.restart_{name}_serves_again", ok, out[-300:])
    restarts = bus_value(term, f"/Bus/fibers/{name}/restarts")
    report(f"console.restart_{name}_counted", restarts is not None and restarts.isdigit() and int(restarts) >= 1,
           restarts)


def check_run(term, arg, curl):
    name, _, words = arg.partition(" ")
    if name in RUN_CHECKS:
        RUN_CHECKS[name](term, words)
        return
    said = term.expect(rf"^\[{re.escape(name)}\] .*you said: {re.escape(words)}$", 10, start=term.typed)
    report(f"console.run_{name}_with_args", said is not None, f"no line of {name} repeating '{words}'")
    report(f"console.run_{name}_ended", term.expect(rf"^fiber {re.escape(name)}#\d+ exited with 0", 10, start=term.typed)
           is not None, f"{name} did not exit 0")


def check_tee_started(term, words):
    report("console.run_tee_alive", bus_value(term, "/Bus/fibers/tee/state") == "alive",
           bus_value(term, "/Bus/fibers/tee/state"))


TEE_LINE = "a line typed for tee"


def check_attach(term, name, curl):
    """`attach tee` (after `run tee FILE`): a typed line reaches tee's standard input (it repeats
    it and keeps it in FILE), Ctrl-D ends its input: tee exits 0 and the console takes commands."""
    report(f"console.attach_{name}_given", term.expect(rf"^attach: what you type now is {name}'s input", 5,
                                                       start=term.typed) is not None, "no attach answer")
    mark = term.type_line(TEE_LINE)
    report(f"console.attach_{name}_line_read", term.expect(rf"^\[{name}\] {TEE_LINE}$", 10, start=mark) is not None,
           f"{name} did not repeat the typed line")
    mark = term.mark()
    term.send(CTRL_D)
    report(f"console.attach_{name}_ctrl_d_ends_input",
           term.expect(rf"^\(end of input for {name}; the console takes commands again\)", 10, start=mark) is not None
           and term.expect(rf"^fiber {name}#\d+ exited with 0", 10, start=mark) is not None,
           f"{name} did not see the end of its input")
    out = console(term, f"cat {name}/notes.txt", rf"^{TEE_LINE}$")
    report(f"console.attach_{name}_kept_the_line", out is not None, out)
    report("console.attach_gives_the_console_back", console(term, "mem", r"^\d+ of \d+ pages free$") is not None,
           "the console did not take commands after Ctrl-D")


RUN_CHECKS = {"tee": check_tee_started}

# Console commands the README shows: the regex that ends the answer, and what else to check.
CONSOLE_CHECKS = {
    "help": (r"^  \(QEMU's own keys", lambda term, out, arg, curl: check_help(term, out)),
    "bus": (r"^/Bus/\S+=", lambda term, out, arg, curl: report(
        f"console.bus_{slug(arg)}", all(l.startswith(arg) for l in re.findall(r"^/Bus/\S*", out, re.M)), out)),
    "fibers": (r"^  httpd ", lambda term, out, arg, curl: report(
        "console.fibers", all(f"  {n} " in out for n in ("membrane", "httpd")), out)),
    "mem": (r"^\d+ of \d+ pages free$", lambda term, out, arg, curl: report("console.mem", True)),
    "stop": (r"^stop: ", lambda term, out, arg, curl: check_stop(term, arg, curl)),
    "start": (r"^start: ", lambda term, out, arg, curl: check_start(term, arg, curl)),
    "restart": (r"^restart: ", lambda term, out, arg, curl: check_restart(term, arg, curl)),
    "run": (r"^run: ", lambda term, out, arg, curl: check_run(term, arg, curl)),
    "attach": (r"^attach: ", lambda term, out, arg, curl: check_attach(term, arg, curl)),
    "files": (r"^  hello/greeting\.txt  \d+ bytes$", lambda term, out, arg, curl: report(
        "console.files_lists_hello", "hello/greeting.txt" in out, out)),
    "cat": (r"^hello from hello, fiber #\d+, in U-mode.*$", lambda term, out, arg, curl: report(
        f"console.cat_{slug(arg)}", re.search(r"^hello from hello, fiber #\d+, in U-mode", out, re.M) is not None, out)),
}

# Answers to what an operator gets wrong.
CONSOLE_REFUSALS = [
    ("frobnicate", r'unknown command "frobnicate"; type help'),
    ("restart nosuch", r'restart: no service called "nosuch"; the services are: hello membrane httpd uptime'),
    ("stop", r"stop: no service called \"\"; the services are: "),
    ("start httpd", r"start: httpd is already running"),
    ("run httpd 81", r"run: httpd is already running"),
    ("attach nosuch", r'attach: no program called "nosuch" is running; `fibers` lists them'),
]


def console_session(term, curl):
    for line, _ in readme.console_commands():
        verb, _, arg = line.partition(" ")
        check = CONSOLE_CHECKS.get(verb)
        if not check:
            report(f"console.{slug(line)}", False, "README shows a console command this test has no check for")
            continue
        out = console(term, line, check[0])
        report(f"console.{slug(line)}_answers", out is not None and "unknown command" not in out, out)
        if out is not None:
            check[1](term, out, arg.strip(), curl)
    for line, want in CONSOLE_REFUSALS:
        out = console(term, line, want)
        report(f"console.refuses_{slug(line)}", out is not None, f"typed {line!r}, wanted /{want}/")
    # A service that ended by itself (hello exits 0) can be started again.
    out = console(term, "start hello", said_by_rx("hello", "hello from hello"), timeout=10)
    report("console.start_finished_service", out is not None, "hello did not greet again")


def check_bootargs(term, bootargs, curl):
    for word in bootargs.split():
        key, _, value = word.partition("=")
        check = BOOTARG_CHECKS.get(key)
        if check is None:
            report(f"{term.name}.bootargs_{key}", False, "README uses a boot argument this test has no check for")
        else:
            check(term, value)


def check_watchdog(term, value):
    m = re.search(r"watchdog (\d+) ms", term.since(0))
    report(f"{term.name}.bootargs_watchdog_{value}", m is not None and m.group(1) == value, m and m.group(0))


BOOTARG_CHECKS = {"watchdog": check_watchdog}


def check_mem(term, value):
    m = re.search(r"^memory: (\d+) MiB", term.since(0), re.M)
    want = int(value[:-1]) * (1024 if value.upper().endswith("G") else 1)
    report(f"{term.name}.mem_{value}_in_banner", m is not None and int(m.group(1)) <= want and int(m.group(1)) > want - 8,
           m and m.group(0))


# What each IMAGE boots: build/nexus-serving.elf embeds the Membrane's and httpd's images alone
# and runs the serving manifest (kernel/manifest.c).
IMAGE_FIBERS = {"serving": {"membrane", "httpd"}}


def check_image(term, value):
    text = term.since(0)
    report(f"{term.name}.image_{value}_boots_its_manifest", f"fibers (manifest {value}):" in text,
            "no 'fibers (manifest ...)' line for it")
    started = set(re.findall(r"started (\S+?)#\d+ ", text))
    report(f"{term.name}.image_{value}_starts_only_its_services", started == IMAGE_FIBERS.get(value), started)


def check_pcap(path, name):
    try:
        frames = pcap.frames(path)
    except (OSError, ValueError) as e:
        report(f"{name}.pcap_readable", False, str(e))
        return
    report(f"{name}.pcap_readable", len(frames) > 0, f"{len(frames)} frames")
    dhcp = pcap.dhcp_messages(frames)
    report(f"{name}.pcap_has_dhcp_exchange", all(t in dhcp for t in ("DISCOVER", "OFFER", "REQUEST", "ACK")), dhcp)
    requests = pcap.http_request_lines(frames)
    report(f"{name}.pcap_has_http_request", "GET / HTTP/1.1" in requests, requests)
    if shutil.which("tshark"):  # a second, independent reader where one is installed
        out = subprocess.run(["tshark", "-r", path, "-Y", "dhcp || http.request", "-T", "fields",
                              "-e", "dhcp.option.dhcp", "-e", "http.request.uri"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60).stdout.decode()
        report(f"{name}.tshark_reads_pcap", "5" in out.split() and "/" in out.split(), out[:200])


def run_make_run(cmd):
    name = slug(cmd)
    port = free_port()
    line = with_var(cmd, "PORT", port)
    variables = make_vars(cmd)
    if "IDENTITY" in variables:
        with tempfile.TemporaryDirectory() as scratch:
            key = os.path.join(scratch, os.path.basename(variables["IDENTITY"]))
            check_identity_missing(with_var(line, "IDENTITY", key), name)
            made = shell(f"make keygen KEY={key}")
            cellid = re.search(r"^CellID:\s+([0-9a-f]{32})$", made, re.M)
            report(f"{name}.keygen_for_it", cellid is not None and os.path.exists(key), "make keygen made no key file")
            variables["CELLID"] = cellid.group(1) if cellid else None
            boot_make_run(cmd, with_var(line, "IDENTITY", key), port, variables)
        return
    boot_make_run(cmd, line, port, variables)


def boot_make_run(cmd, line, port, variables):
    name = slug(cmd)
    pcap_path = variables.get("PCAP")
    if pcap_path and os.path.exists(pcap_path):
        os.unlink(pcap_path)
    term = Terminal(line, os.path.join(LOGDIR, name + ".log"))
    term.name = name
    try:
        m = term.expect(r"^\s*(curl \S+)\s*$", BOOT_TIMEOUT)
        curl = m.group(1) if m else None
        report(f"{name}.prints_curl_line", curl is not None and f":{port}/" in curl, curl)
        listening = term.expect(said_by_rx("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report(f"{name}.boots_to_httpd", listening is not None,
               "no 'httpd: listening'; the terminal ends: " + term.since(0)[-400:])
        if not (curl and listening):
            return
        ok, out = curl_until(curl, GUEST_ADDR, 30)
        report(f"{name}.curl_line_gets_status_page", ok, out[-300:])
        if "MEM" in variables:
            check_mem(term, variables["MEM"])
        if "BOOTARGS" in variables:
            check_bootargs(term, variables["BOOTARGS"], curl)
        if "IMAGE" in variables:
            check_image(term, variables["IMAGE"])
        if "IDENTITY" in variables:
            check_identity_boot(term, variables.get("CELLID"))
        if not variables:  # the plain `make run`: the README's curl lines and console
            for readme_curl in CLAIMED["curl"]:
                check_readme_curl(readme_curl, port)
            console_session(term, curl)
        quit_qemu(term, name)
        if pcap_path:
            check_pcap(pcap_path, name)
    finally:
        term.close()


# ---- the node's identity (docs/identity.md) ----

KEYFILE_LEN = 73


def check_identity_missing(line, name):
    """line names a key file that does not exist yet: make must refuse before QEMU starts."""
    key = make_vars(line)["IDENTITY"]
    proc = subprocess.run(["bash", "-c", line], env=user_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=120)
    out = proc.stdout.decode("utf-8", "replace")
    report(f"{name}.missing_key_file_refused_by_make",
           proc.returncode != 0 and f"IDENTITY={key}: no such key file" in out and "OpenSBI" not in out,
           f"exit {proc.returncode}: {out[-300:]}")


def check_identity_boot(term, cellid):
    """The signer took the key file: the node's CellID is the one make keygen printed."""
    m = re.search(rf"^  keyblob: {KEYFILE_LEN} bytes at 0x[0-9a-f]+ \(initrd\)", term.since(0), re.M)
    report(f"{term.name}.banner_holds_key_blob", m is not None, "no 'keyblob: 73 bytes at' line at boot")
    said = term.expect(said_by_rx("lwf", "lwf: CellID"), 30)
    state = bus_value(term, "/Bus/boot/keyblob")
    report(f"{term.name}.bus_keyblob_taken_by_signer", state == "taken by signer", state)
    node = bus_value(term, "/Bus/net/cellid")
    report(f"{term.name}.cellid_is_the_key_files", cellid is not None and node == cellid,
           f"keygen printed {cellid}, /Bus/net/cellid is {node}; {said}")
    kind = bus_value(term, "/Bus/lwf/identity")
    report(f"{term.name}.identity_persistent", kind is not None and kind.startswith("persistent"), kind)


def run_make_keygen(cmd):
    """make keygen as typed, with KEY= a file in a scratch folder."""
    with tempfile.TemporaryDirectory() as scratch:
        key = os.path.join(scratch, "node.key")
        line = with_var(cmd, "KEY", key)
        out = shell(line)
        cellid = re.search(r"^CellID:\s+([0-9a-f]{32})$", out, re.M)
        report("keygen.prints_cellid", cellid is not None, out[-300:])
        size = os.path.getsize(key) if os.path.exists(key) else None
        mode = os.stat(key).st_mode & 0o777 if size is not None else None
        report("keygen.writes_73_bytes_mode_0600", size == KEYFILE_LEN and mode == 0o600, f"size {size}, mode {mode and oct(mode)}")
        shown = shell(f"build/nexus-keygen --show {key}")
        report("keygen.show_prints_the_same_cellid", cellid is not None and cellid.group(0) in shown, shown)
        before = open(key, "rb").read() if size is not None else None
        proc = subprocess.run(["bash", "-c", line], env=user_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=120)
        again = proc.stdout.decode("utf-8", "replace")
        report("keygen.refuses_to_overwrite", proc.returncode != 0 and "refusing to overwrite" in again and
               before is not None and open(key, "rb").read() == before, f"exit {proc.returncode}: {again[-300:]}")


def check_readme_curl(cmd, port):
    line = cmd.replace(":8080", f":{port}")
    out = shell(line, timeout=60, stderr=False)
    name = "curl_" + (slug(cmd.split(":8080", 1)[1]) or "status_page")
    if line.endswith("/bus.json"):
        try:
            bus = json.loads(out)["bus"]
            ok = bus.get("/Bus/net/ipv4/addr") == GUEST_ADDR
        except (ValueError, KeyError, TypeError):
            ok = False
        report(name, ok, out[:300])
    else:
        report(name, GUEST_ADDR in out and "membrane" in out, out[:300])


# ---- make debug ----

def run_make_debug(cmd):
    name = slug(cmd)
    line = with_var(with_var(cmd, "PORT", free_port()), "GDBPORT", free_port())
    term = Terminal(line, os.path.join(LOGDIR, name + ".log"))
    try:
        m = term.expect(r"^\s*(gdb-multiarch .*)$", BOOT_TIMEOUT)
        report(f"{name}.prints_gdb_command", m is not None, "no gdb command printed")
        if not m:
            return
        gdb = m.group(1).replace("gdb-multiarch", "gdb-multiarch -batch", 1) + \
            " -ex 'info registers pc' -ex 'detach'"
        out = ""
        for _ in range(20):  # QEMU listens a moment after make prints the line
            out = shell(gdb, timeout=60)
            if "Connection refused" not in out:
                break
            time.sleep(0.5)
        report(f"{name}.gdb_reads_pc_at_reset_vector", re.search(r"^pc\s+0x1000\b", out, re.M) is not None, out[-400:])
        report(f"{name}.gdb_detaches", "detached" in out.lower(), out[-200:])
        booted = term.expect(said_by_rx("httpd", "httpd: listening"), BOOT_TIMEOUT)
        report(f"{name}.boots_after_detach", booted is not None, "no 'httpd: listening' after gdb detached")
        quit_qemu(term, name)
    finally:
        term.close()


# ---- make, make clean, dependencies ----

def run_make(cmd):
    out = shell(cmd, timeout=600)
    report("make.up_to_date_after_test_build", "Nothing to be done" in out and " -c " not in out, out[-500:])


def run_make_clean(cmd):
    """In a scratch copy (sources copied, build outputs hard-linked), so this run keeps its build."""
    files = subprocess.run(["git", "ls-files", "-z"], stdout=subprocess.PIPE, check=True).stdout.split(b"\0")
    with tempfile.TemporaryDirectory() as scratch:
        for f in filter(None, files):
            dst = os.path.join(scratch, f.decode())
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.isfile(f):
                shutil.copy2(f, dst)
        subprocess.run(["cp", "-al", "build", os.path.join(scratch, "build")], check=True)
        proc = subprocess.run(["bash", "-c", cmd], cwd=scratch, env=user_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120)
        left = []
        for root, dirs, names in os.walk(os.path.join(scratch, "build")):
            dirs[:] = [d for d in dirs if d != "third_party"]
            left += [os.path.join(root, n) for n in names if not n.startswith(".bootstrap")]
        report("make_clean.removes_every_output", proc.returncode == 0 and not left,
               f"exit {proc.returncode}; left {left[:5]} ({len(left)} files)")
        report("make_clean.keeps_fetched_sources",
               os.path.isdir(os.path.join(scratch, "build/third_party/lwip/src")), "build/third_party gone")


# ---- make bench, make fuzz ----

BENCH_FIGURES = ["boot to first fiber", "kernel image, loadable", "NetSwitch instructions per RX frame",
                 "frames/s", "boot to first HTTP 200", "wrk -t1 -c1", "wrk -t1 -c8", "bulk GET",
                 "smallest -m that serves", "Membrane crash to next HTTP 200",
                 "LWF ANNOUNCE (solicit) to first DATA frame", "LWF frames/s node 0 to node 1",
                 "TX payload bytes copied per payload byte", "bulk guest instructions per payload byte",
                 "rinetd bulk MB/s", "UTCP host simulation frames/s", "curl in Nexus, -o",
                 "node 1 <- node 0 httpd, 16 MiB, 0 % loss: lwIP TCP (curl) vs UTCP (utcpget)",
                 "wrk -t1 -c8 GET /bytes/1024", "  total (idle not included",
                 # whole labels (they hold numbers of their own): the figure is what follows
                 "mosquitto messages/s host -> broker -> host, 500 messages, QoS 0",
                 "mosquitto messages/s host -> broker -> host, 500 messages, QoS 1"]


def run_make_bench(cmd):
    proc = subprocess.run(["bash", "-c", cmd], env=user_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=1200)
    out = proc.stdout.decode("utf-8", "replace")
    with open(os.path.join(LOGDIR, "bench.log"), "w") as f:
        f.write(out)
    report("bench.exits_0", proc.returncode == 0, out[-300:])
    report_figures("bench", out, BENCH_FIGURES, r".*\s\d", "missing or without a number")  # the label, then a figure


def report_figures(group, out, labels, figure_rx, missing):
    """One check per label: an indented line of out starts with it and goes on as figure_rx
    says. Every indented line (the figures) is passed on as INFO, never judged."""
    for label in labels:
        m = re.search(rf"^  {re.escape(label)}{figure_rx}", out, re.M)
        report(f"{group}.figure_{slug(label)}", m is not None, missing)
    for line in out.splitlines():
        if line.startswith("  "):
            report.info(group + line)


FUZZ_SECONDS = 5


def run_logged(line, log_name, timeout=1200):
    """(exit status, output) of a command line run as the user types it; the output also goes
    to LOGDIR/log_name."""
    proc = subprocess.run(["bash", "-c", line], env=user_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    with open(os.path.join(LOGDIR, log_name), "w") as f:
        f.write(out)
    return proc.returncode, out


def run_make_fuzz(cmd):
    returncode, out = run_logged(with_var(cmd, "FUZZ_SECONDS", FUZZ_SECONDS), "fuzz.log")
    # make's own value: the list is continued over lines and added to further down.
    targets = subprocess.run(["make", "-s", "--no-print-directory", "--eval", "print-fuzz-targets: ; @echo $(FUZZ_TARGETS)",
                              "print-fuzz-targets"], stdout=subprocess.PIPE, text=True).stdout.split()
    done = re.findall(r"^Done (\d+) runs in \d+ second", out, re.M)
    report("fuzz.exits_0", returncode == 0, out[-300:])
    report("fuzz.every_target_ran", len(done) == len(targets), f"{len(done)} of {len(targets)} targets finished")


HOSTILE_FRAMES = 2000


def run_make_hostile(cmd):
    returncode, out = run_logged(with_var(cmd, "N", HOSTILE_FRAMES), "hostile.log", timeout=900)
    report("hostile.exits_0", returncode == 0, out[-300:])
    report("hostile.every_class_reported", len(re.findall(r"^PASS hostile\.class_", out, re.M)) == 10,
           "not every class of tools/hostile.py passed")
    total = re.search(r"^INFO hostile: total (\d+) frames", out, re.M)
    report("hostile.frames_sent", total is not None and int(total.group(1)) == HOSTILE_FRAMES,
           total.group(0) if total else "no total line")


BENCH_LINUX_ROUNDS = 1
BENCH_LINUX_FIGURES = ["boot -> first HTTP 200", "wrk -t1 -c8 keep-alive", "wrk -t1 -c8 Connection: close", "bulk 1 MiB"]


def run_make_bench_linux(cmd):
    returncode, out = run_logged(with_var(cmd, "ROUNDS", BENCH_LINUX_ROUNDS), "bench-linux.log")
    report("bench_linux.exits_0", returncode == 0, out[-300:])
    # The label, a figure for Linux, one for Nexus, and the ratio of the two.
    report_figures("bench_linux", out, BENCH_LINUX_FIGURES, r".*?\s[0-9.]+ \S+\s+[0-9.]+ \S+\s+[0-9.]+$",
                   "missing, or without both figures and a ratio")
SOAK_MINUTES = 1


def run_make_soak(cmd):
    returncode, out = run_logged(with_var(cmd, "SOAK_MINUTES", SOAK_MINUTES), "soak.log", timeout=600)
    report("soak.exits_0", returncode == 0, out[-300:])
    checks = re.findall(r"^(PASS|FAIL) soak\.", out, re.M)
    report("soak.every_check_ran", len(checks) >= 9 and "FAIL" not in checks, f"{len(checks)} checks, {checks.count('FAIL')} failed")
    report("soak.memory_reported", re.search(r"^INFO soak: first: .*\n(.*\n)?INFO soak: last: ", out, re.M) is not None,
           "no first-vs-last memory lines")


def run_make_mesh(cmd):
    consoles = [c for c in readme.host_commands() if c.startswith("python3 -m tools.mesh console")]
    check_mesh(cmd, consoles, report, LOGDIR, int(make_vars(cmd).get("NODES", 3)))


# ---- which handler runs which README command ----

HANDLERS = [  # (group, regex on the README command, handler; None: collected for another handler)
    ("run", r"^make run( .*)?$", run_make_run),
    ("run", r"^curl http://127\.0\.0\.1:8080/\S*$", None),
    ("debug", r"^make debug$", run_make_debug),
    ("build", r"^make$", run_make),
    ("build", r"^make clean$", run_make_clean),
    ("bench", r"^make bench$", run_make_bench),
    ("fuzz", r"^make fuzz$", run_make_fuzz),
    ("hostile", r"^make hostile N=\d+$", run_make_hostile),
    ("test", r"^make test$", None),  # this very run
    ("build", r"^make keygen$", run_make_keygen),
    ("mesh", r"^make mesh( NODES=\d+)?$", run_make_mesh),
    ("mesh", r"^python3 -m tools\.mesh console \d+$", None),  # run by run_make_mesh, while the mesh is up
    ("bench_linux", r"^make bench-linux$", run_make_bench_linux),
    ("soak", r"^make soak( SOAK_MINUTES=\d+)?$", run_make_soak),
]
CLAIMED = {"curl": []}


def claim(cmd):
    for group, rx, handler in HANDLERS:
        if re.match(rx, cmd):
            return group, handler
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", required=True, choices=["coverage", "run", "debug", "build", "bench", "fuzz", "hostile", "mesh",
                                                     "bench_linux", "soak"])
    args = ap.parse_args()
    os.makedirs(LOGDIR, exist_ok=True)
    commands = readme.host_commands()
    CLAIMED["curl"] = [c for c in commands if c.startswith("curl ")]
    if args.group == "coverage":
        report("coverage.readme_has_commands", len(commands) >= 5, commands)
        for cmd in commands:
            group, _ = claim(cmd)
            report(f"coverage.{slug(cmd)}", group is not None, "no test runs this README command")
        report("coverage.readme_has_console_commands", len(readme.console_commands()) >= 4,
               readme.console_commands())
    for cmd in commands:
        group, handler = claim(cmd)
        if group == args.group and handler:
            handler(cmd)
    if args.group == "build":
        for name, ok, detail in check_header_dependencies():
            report(f"deps.{name}", ok, detail)
        for name, ok, detail in check_flag_dependencies():
            report(f"deps.{name}", ok, detail)
        for name, ok, detail in check_product():
            report(f"product.{name}", ok, detail)
    return report.exit_status()


if __name__ == "__main__":
    raise SystemExit(main())
