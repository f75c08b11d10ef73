"""A command run in a pseudo-terminal, as a person runs it in theirs.

The command line goes to bash exactly as typed (its quoting included), with the environment of
a user's shell: none of the variables through which a calling `make` talks to its children.
Output is collected in a thread and searched with expect(); send() types keys.
"""
import os
import pty
import re
import signal
import subprocess
import threading
import time

MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR")
CTRL_A_X = b"\x01x"  # QEMU's -nographic mux: quit
CTRL_D = b"\x04"  # the end of a program's input on the Nexus console (`attach`)


def user_env():
    return {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}


class Terminal:
    def __init__(self, command, log_path, cwd=None):
        self.command = command
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen(["bash", "-c", command], stdin=slave, stdout=slave, stderr=slave,
                                     cwd=cwd, env=user_env(), start_new_session=True)
        os.close(slave)
        self.text = ""
        self.cursor = 0  # expect() searches from here; each match moves it past the match
        self.cond = threading.Condition()
        self.ended = False  # the terminal has closed: nothing more will be printed
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        self.log.write(f"$ {command}\n")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every holder of the terminal has gone
                chunk = b""
            if not chunk:
                break
            text = chunk.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
            self.log.write(text)
            self.log.flush()
            with self.cond:
                self.text += text
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def expect(self, pattern, timeout, start=None):
        """The first match of pattern (a regex, multiline) after the cursor (or after mark
        `start`), waiting up to timeout seconds; None if it does not come or the terminal closes
        first."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.text, self.cursor if start is None else start)
                if m:
                    self.cursor = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    return None
                self.cond.wait(left)

    def since(self, mark):
        with self.cond:
            return self.text[mark:]

    def mark(self):
        with self.cond:
            return len(self.text)

    def send(self, data):
        os.write(self.master, data if isinstance(data, bytes) else data.encode())

    def type_line(self, line):
        """Types a console command and Enter; returns a mark for since()."""
        with self.cond:
            self.cursor = len(self.text)
        mark = self.mark()
        for ch in line:  # one key at a time, as typed: the UART's FIFO is small
            self.send(ch)
            time.sleep(0.002)
        self.send(b"\r")
        return mark

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass
        self.log.close()
