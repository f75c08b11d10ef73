"""The harness every test group and tools/bench.py boot Nexus with (run them as modules from the
project root: `python3 -m tests.e2e.run_qemu_e2e ...`).

  report      Report: the PASS/FAIL lines tests/run.py counts; Checks, Fail, expect: check
              functions that raise their verdict
  guest       Guest: one QEMU guest (kernel, boot arguments, memory, MAC, network, pcap), its
              console, /Bus from the console or /bus.json, HTTP probes, stop by process group
  console     Console: the console read in a thread into a log, waited on and searched
  net         free loopback ports, UserNet (QEMU's user network with forwards), UdpEcho
  http_probe  one GET, and the first-success probe
  wire        Wire: guests joined through the wire peer's relay (tools/wirepeer.py)
"""
