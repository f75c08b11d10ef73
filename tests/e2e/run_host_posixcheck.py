#!/usr/bin/env python3
"""Runs apps/posixcheck (built for the host against glibc) against a local UDP echo server.

This proves the checks themselves: every one must pass on Linux before its failure on Nexus can
be blamed on Nexus. The echo server listens on 127.0.0.1 with a port chosen by the kernel; DNS is
checked with `localhost` -> 127.0.0.1. posixcheck's PASS/FAIL lines are relayed unchanged and
its exit status becomes ours. Builds nothing.
"""
import argparse
import os
import socket
import subprocess
import sys
import threading


def echo_server(sock, stop):
    """Sends every datagram straight back to where it came from."""
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return
        sock.sendto(data, peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/host/posixcheck_host")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        print(f"FAIL posix.binary: {args.binary} does not exist (build it first)")
        return 1

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    stop = threading.Event()
    server = threading.Thread(target=echo_server, args=(sock, stop), daemon=True)
    server.start()
    try:
        cmd = [args.binary, "127.0.0.1", str(port), "localhost", "127.0.0.1"]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=args.timeout)
        except subprocess.TimeoutExpired as e:
            sys.stdout.write((e.stdout or b"").decode("utf-8", "replace"))
            print(f"FAIL posix.timeout: posixcheck ran longer than {args.timeout:.0f} s")
            return 1
    finally:
        stop.set()
        server.join()
        sock.close()

    out = proc.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    if proc.returncode == 0 and "posixcheck: done" not in out:
        print("FAIL posix.summary: exited 0 without its closing line")
        return 1
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
