#!/usr/bin/env python3
"""Runs every test group of `make test` and prints the closing line `N passed, N failed`.

Each group is a command whose output has one line per check, `PASS <name>` or
`FAIL <name>: <detail>`. A group that exits non-zero without reporting a failure counts as one
failed check of its own, so a crash can never look like success. The Python groups run as
modules from the project root (`python3 -m tests.e2e.run_qemu_e2e ...`), so that they share
the package tests/harness without any sys.path tricks.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time


def groups(build, qemu):
    host = os.path.join(build, "host")
    # The self-test and network runners, posixcheck and the test manifests are in the test
    # kernel only; users boot build/nexus.elf, which the front-door groups test.
    test_kernel = os.path.join(build, "nexus-test.elf")
    test_qemu = qemu.replace(os.path.join(build, "nexus.elf"), test_kernel)
    for test in sorted(glob.glob(os.path.join(host, "test_*"))):
        yield os.path.basename(test), [test, "tests/host/data"]
    for replay in sorted(glob.glob(os.path.join(host, "replay_*"))):
        target = os.path.basename(replay)[len("replay_"):]
        corpus = sorted(glob.glob(os.path.join("tests/fuzz/corpus", target, "*")))
        yield os.path.basename(replay), [replay] + corpus
    yield "stress_ion_ring", [os.path.join(host, "stress_ion_ring"), "10000000"]
    yield "model_ion_ring", [sys.executable, "-m", "tests.model.run_spin"]
    yield "test_wirepeer", [sys.executable, "-m", "tests.tools.test_wirepeer"]
    yield "posixcheck_host", [sys.executable, "-m", "tests.e2e.run_host_posixcheck", "--binary",
                              os.path.join(host, "posixcheck_host")]
    yield "httpd_host", [sys.executable, "-m", "tests.e2e.run_host_httpd", "--binary",
                         os.path.join(host, "httpd_host")]
    yield "qemu_selftest", [sys.executable, "-m", "tests.qemu.run_selftest", "--qemu", test_qemu]
    # The network path once per virtio-mmio transport: modern (v2), then legacy (v1).
    yield "qemu_net_v2", [sys.executable, "-m", "tests.qemu.run_nettest", "--qemu", test_qemu,
                          "--logdir", "build/test-logs/net-v2"]
    # The Membrane end to end: httpd from the host, posixcheck inside, DNS, UDP.
    yield "qemu_e2e", [sys.executable, "-m", "tests.e2e.run_qemu_e2e", "--qemu", test_qemu,
                       "--logdir", "build/test-logs/e2e"]
    # Supervision, CSpace and pledge: the test kernel, its rule breakers, 20 Membrane crashes.
    yield "qemu_containment", [sys.executable, "-m", "tests.e2e.run_qemu_containment", "--qemu", qemu,
                               "--kernel", test_kernel,
                               "--logdir", "build/test-logs/containment"]
    # The front door: every command README.md shows, run as a user types it (tests/frontdoor/).
    # fuzz before build, so that the dependency checks cover the fuzz objects too.
    for group in ("coverage", "run", "debug", "fuzz", "build", "bench"):
        yield f"readme_{group}", [sys.executable, "-m", "tests.frontdoor.run_readme", "--group", group]
    # libsodium's known answers and the entropy syscall in the guest, with and without virtio-rng.
    yield "qemu_crypto", [sys.executable, "-m", "tests.qemu.run_cryptocheck", "--qemu", test_qemu,
                          "--logdir", "build/test-logs/crypto"]
    # A hostile wire: every class of malformed frame while HTTP is checked (scapy: Debian's python).
    yield "qemu_stall", [sys.executable, "-m", "tests.e2e.run_qemu_stall", "--qemu", qemu]
    yield "qemu_hostile", ["/usr/bin/python3", "-m", "tests.e2e.run_qemu_hostile", "--qemu", qemu,
                           "--logdir", "build/test-logs/hostile"]
    yield "readme_hostile", [sys.executable, "-m", "tests.frontdoor.run_readme", "--group", "hostile"]
    legacy = test_qemu.replace("virtio-mmio.force-legacy=false", "virtio-mmio.force-legacy=true")
    yield "qemu_net_v1", [sys.executable, "-m", "tests.qemu.run_nettest", "--qemu", legacy,
                          "--logdir", "build/test-logs/net-v1", "--expect-transport", "1"]
    # The node's identity: the key file tool against python3-nacl (Debian's Python has it), and
    # the key file through -initrd to the one fiber pledged "keyblob".
    yield "test_keygen", ["/usr/bin/python3", "-m", "tests.tools.test_keygen", "--binary",
                          os.path.join(build, "nexus-keygen")]
    yield "qemu_keyblob", [sys.executable, "-m", "tests.qemu.run_keyblob", "--qemu", test_qemu,
                           "--keygen", os.path.join(build, "nexus-keygen")]
    # LWF node to node: two test kernels on the wire peer; every frame class, injected and impaired
    # frames, the status page, the LWF service's crash (Debian's python: python3-nacl makes frames).
    yield "qemu_lwf", ["/usr/bin/python3", "-m", "tests.e2e.run_qemu_lwf", "--qemu", qemu, "--kernel", test_kernel,
                       "--logdir", "build/test-logs/lwf"]
    # LWF on the host: the Wireshark dissector against the spec's vectors (Debian's tshark), then
    # the Linux host node (build/lwf-node) on one wire with two product-kernel guests.
    yield "lwf_dissector", [sys.executable, "-m", "tests.tools.lwf_dissector"]
    # UTCP's Wireshark dissector against docs/utcp.md's vectors and broken frames (Debian's tshark).
    yield "utcp_dissector", [sys.executable, "-m", "tests.tools.utcp_dissector"]
    yield "lwf_host_node", [sys.executable, "-m", "tests.e2e.run_lwf_host_node", "--qemu", qemu,
                            "--lwf-node", os.path.join(build, "lwf-node"),
                            "--keygen", os.path.join(build, "nexus-keygen"),
                            "--logdir", "build/test-logs/lwf-host-node"]
    # UTCP on the host: the same node with the same key opens 16 MiB streams to a product guest's
    # utcpsink and serves the guests' utcpcat, several at once, two guests at once, 3 % loss.
    yield "utcp_host_node", [sys.executable, "-m", "tests.e2e.run_utcp_host_node", "--qemu", qemu,
                             "--lwf-node", os.path.join(build, "lwf-node"),
                             "--keygen", os.path.join(build, "nexus-keygen"),
                             "--logdir", "build/test-logs/utcp-host-node"]
    yield "readme_mesh", [sys.executable, "-m", "tests.frontdoor.run_readme", "--group", "mesh"]
    # Busy is not runaway: a flood of malformed TCP from the wire while HTTP is served.
    yield "qemu_flood", [sys.executable, "-m", "tests.e2e.run_qemu_flood", "--qemu", test_qemu,
                         "--logdir", "build/test-logs/flood"]
    # Nexus beside the Debian Linux guest, one round (fetches Debian's riscv64 kernel once).
    yield "readme_bench_linux", [sys.executable, "-m", "tests.frontdoor.run_readme", "--group", "bench_linux"]
    # rinetd 0.73, Debian's, in the product kernel: both forwards, bulk MB/s, a Membrane restart.
    yield "qemu_rinetd", [sys.executable, "-m", "tests.e2e.run_qemu_rinetd", "--qemu", qemu,
                          "--logdir", "build/test-logs/rinetd"]
    # mosquitto 2.0.11's broker, Debian's, in the product kernel, with Debian's mosquitto-clients
    # on the host: QoS 0/1/2, retained, five subscribers, 48 KiB, messages/s, a Membrane restart.
    yield "qemu_mosquitto", [sys.executable, "-m", "tests.e2e.run_qemu_mosquitto", "--qemu", qemu,
                             "--logdir", "build/test-logs/mosquitto"]
    # Small machines (tests/e2e/run_qemu_small.py): -m 8M runs every service and serves; -m 5M
    # boots, and what does not fit says ENOMEM and kills nothing.
    yield "qemu_small", [sys.executable, "-m", "tests.e2e.run_qemu_small", "--qemu", qemu,
                         "--logdir", "build/test-logs/small"]
    # curl 7.88.1, Debian's, run from the console against a server on the host's loopback.
    yield "qemu_curl", [sys.executable, "-m", "tests.e2e.run_qemu_curl", "--qemu", qemu,
                        "--logdir", "build/test-logs/curl"]
    # UTCP node to node: two test kernels on the wire peer; 16 MiB streams each way under 0, 1 and
    # 5 % loss, four streams at once, a MAC change, injected frames, the UTCP service's crash.
    yield "qemu_utcp", [sys.executable, "-m", "tests.e2e.run_qemu_utcp", "--qemu", qemu, "--kernel", test_kernel,
                        "--logdir", "build/test-logs/utcp"]
    # Two test kernels with static addresses on the wire (bootargs ipv4=): node 1 fetches 1 MiB from
    # node 0's httpd by curl over lwIP's TCP and by utcpget over UTCP, both whole (make bench: 16 MiB, 5 % loss).
    yield "qemu_tcp_vs_utcp", [sys.executable, "-m", "tests.e2e.run_qemu_tcp_vs_utcp", "--qemu", qemu, "--kernel",
                               test_kernel, "--size-mib", "1", "--losses", "0", "--logdir", "build/test-logs/tcp-vs-utcp"]
    # README's `make soak`, for one minute: load, Membrane crashes, memory first vs last.
    yield "readme_soak", [sys.executable, "-m", "tests.frontdoor.run_readme", "--group", "soak"]


def run_group(name, cmd):
    start = time.monotonic()
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    passed = failed = 0
    for line in out:
        if line.startswith("PASS "):
            passed += 1
        elif line.startswith("FAIL "):
            failed += 1
            print(line)
    if name.startswith("replay_") and proc.returncode == 0:
        passed += 1  # a replay has no checks of its own: surviving the corpus is the check
        print(f"PASS fuzz_corpus.{name[len('replay_'):]}")
    if proc.returncode != 0 and failed == 0:
        failed += 1
        print(f"FAIL {name}.exit_status: exited {proc.returncode}")
        print("\n".join("    " + l for l in out[-20:]))
    print(f"  {name}: {passed} passed, {failed} failed ({time.monotonic() - start:.1f} s)")
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--only", default="", help="run only the groups whose name matches this regex")
    args = ap.parse_args()
    total_passed = total_failed = 0
    for name, cmd in groups(args.build, args.qemu):
        if args.only and not re.search(args.only, name):
            continue
        p, f = run_group(name, cmd)
        total_passed += p
        total_failed += f
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
