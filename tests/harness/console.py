"""A guest's console, read in a thread: every line is logged at once (so a hung run still
leaves its log) and kept for the test to wait for and search while the guest runs.

Markers match at the start of a line only. The kernel begins every line a user fiber writes with
"[name] " (kernel/console.c), and none of its own lines with '[': so a kernel marker
("supervisor: ...", "fiber NAME#N killed") is the marker itself, and a fiber's marker is
said_by(fiber, text); no fiber can print the one or another fiber's other."""
import re
import threading
import time


def said_by(fiber, text=""):
    """The start of a console line that fiber `fiber` wrote beginning with text."""
    return f"[{fiber}] {text}"


def said_by_rx(fiber, text_rx=""):
    """said_by() as a multiline regex, for output searched as one text (tests/frontdoor)."""
    return "^" + re.escape(said_by(fiber)) + text_rx


def kernel_line(line):
    """True if the kernel wrote the line (fibers' lines carry their name in brackets)."""
    return not line.startswith("[")


def user_text(line, fiber):
    """What `fiber` wrote on this line, or None if the line is not its."""
    prefix = said_by(fiber)
    return line[len(prefix):] if line.startswith(prefix) else None


def writer(line):
    """(the fiber that wrote the line, its text), or (None, line) for a kernel line."""
    name, bracket, _ = line[1:].partition("] ")
    if kernel_line(line) or not bracket:
        return None, line
    return name, user_text(line, name)


# What the kernel's own checks print (kernel/selftest.c), and the probes' (tests/qemu/probe.c).
TEST_LINE = re.compile(r"^TEST (\S+): (ok|FAIL)(?: (.*))?$")


class Console:
    def __init__(self, stream, log_path=None):
        self.lines = []
        self.ended = False  # the stream closed: no more lines will come
        self.cond = threading.Condition()
        self.log = open(log_path, "w", encoding="utf-8", errors="replace") if log_path else None
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if self.log:
                self.log.write(line + "\n")
                self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()
        if self.log:
            self.log.close()

    def mark(self):
        """Where the next line will be: a start for since(), wait_for() and count()."""
        with self.cond:
            return len(self.lines)

    def since(self, mark=0):
        with self.cond:
            return self.lines[mark:]

    def _wait(self, found, timeout):
        """found(lines) -> a result or None; waits for a result up to timeout seconds, or
        until the console ends."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                result = found(self.lines)
                left = deadline - time.monotonic()
                if result is not None or left <= 0 or self.ended:
                    return result
                self.cond.wait(left)

    def wait_for(self, marker, timeout, start=0):
        """The first line from `start` on that begins with marker; None if none comes in time."""
        return self._wait(lambda lines: next((l for l in lines[start:] if l.startswith(marker)), None), timeout)

    def wait_match(self, pattern, timeout, start=0):
        """The re.match of the first line from `start` on that matches pattern; None if none
        comes in time."""
        rx = re.compile(pattern)
        return self._wait(lambda lines: next((m for m in map(rx.match, lines[start:]) if m), None), timeout)

    def count(self, marker, start=0):
        with self.cond:
            return sum(line.startswith(marker) for line in self.lines[start:])

    def wait_count(self, marker, n, timeout):
        """True once n lines begin with marker; False if they do not come in time."""
        return self._wait(lambda lines: True if sum(l.startswith(marker) for l in lines) >= n else None,
                          timeout) is True

    def from_fiber(self, fiber, start=0):
        """What `fiber` wrote, line by line, without its prefix."""
        return [t for t in (user_text(l, fiber) for l in self.since(start)) if t is not None]

    def kernel_tests(self, fibers=()):
        """(name, ok, detail) of each `TEST name: ok|FAIL detail` line the kernel printed, or one
        of `fibers` (the test programs it runs)."""
        texts = [l for l in self.since() if kernel_line(l)]
        for fiber in fibers:
            texts += self.from_fiber(fiber)
        return [(m.group(1), m.group(2) == "ok", m.group(3) or "") for m in map(TEST_LINE.match, texts) if m]

    def join(self, timeout=5):
        self.thread.join(timeout)
