"""A guest's console, read in a thread: every line is logged at once (so a hung run still
leaves its log) and kept for the test to wait for and search while the guest runs."""
import re
import threading
import time

# What the kernel's own checks print (kernel/selftest.c, the nettest services).
KERNEL_TEST_LINE = re.compile(r"^TEST (\S+): (ok|FAIL)(?: (.*))?$")


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

    def wait_for(self, text, timeout, start=0):
        """The first line from `start` on that contains text; None if none comes in time."""
        return self._wait(lambda lines: next((l for l in lines[start:] if text in l), None), timeout)

    def count(self, text, start=0):
        with self.cond:
            return sum(text in line for line in self.lines[start:])

    def wait_count(self, text, n, timeout):
        """True once n lines contain text; False if they do not come in time."""
        return self._wait(lambda lines: True if sum(text in l for l in lines) >= n else None, timeout) is True

    def kernel_tests(self):
        """(name, ok, detail) of each `TEST name: ok|FAIL detail` line the kernel printed."""
        return [(m.group(1), m.group(2) == "ok", m.group(3) or "")
                for m in map(KERNEL_TEST_LINE.match, self.since()) if m]

    def join(self, timeout=5):
        self.thread.join(timeout)
