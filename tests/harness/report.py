"""PASS/FAIL lines: the one format tests/run.py counts.

Every check of a test group prints `PASS <group>.<name>` (a figure may follow in parentheses) or
`FAIL <group>.<name>: <detail>`. Figures that are reported and never judged go on `INFO` lines,
which tests/run.py shows without counting.
"""
import os
import subprocess
import traceback


class Report:
    """Prints one line per check under the group's prefix and remembers what failed."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.passed = 0
        self.failed = []  # names of the failed checks, in order: the first is the one to look at

    def __call__(self, name, ok, detail="", note=""):
        if ok:
            self.passed += 1
            print(f"PASS {self.prefix}.{name}" + (f" ({note})" if note else ""), flush=True)
        else:
            self.failed.append(name)
            print(f"FAIL {self.prefix}.{name}: {detail}", flush=True)
        return bool(ok)

    def info(self, text):
        print(f"INFO {text}", flush=True)

    def relay(self, lines):
        """Passes on the PASS/FAIL lines of another checker (a program's output, the guest's
        console) as checks of this group; returns how many of them failed."""
        failed = 0
        for line in lines:
            if line.startswith("PASS "):
                self.passed += 1
            elif line.startswith("FAIL "):
                self.failed.append(line[5:].split(":", 1)[0])
                failed += 1
            else:
                continue
            print(line, flush=True)
        return failed

    def run_checker(self, cmd, name, timeout):
        """Runs a program that prints PASS/FAIL lines and relays them. A program that exits
        non-zero without a FAIL line, or outlives timeout, fails check `name`, so a crash
        cannot pass for success. Returns the program's output lines."""
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            self(name, False, f"still running after {timeout:.0f} s")
            return []
        out = proc.stdout.decode("utf-8", "replace").splitlines()
        if self.relay(out) == 0 and proc.returncode != 0:
            self(name, False, f"exited {proc.returncode}: " + " | ".join(out[-5:]))
        return out

    @property
    def ok(self):
        return not self.failed

    def exit_status(self):
        return 0 if self.ok else 1


class Fail(Exception):
    """A check's verdict: raised with the detail its FAIL line shows."""


def expect(cond, detail):
    if not cond:
        raise Fail(detail)


class Checks(list):
    """Check functions, run in the order they were declared (`@checks` above each). A check
    passes by returning (a note for its PASS line, or None) and fails by raising Fail; any
    other exception fails it too, naming the line of the check's file where it came from."""

    def __call__(self, fn):
        self.append(fn)
        return fn

    def run(self, report, *args, only=None):
        for fn in self:
            if only and fn.__name__ not in only:
                continue
            try:
                note = fn(*args)
            except Fail as e:
                report(fn.__name__, False, e)
            except Exception as e:  # noqa: BLE001 - a crash of a check is its failure
                report(fn.__name__, False, f"{type(e).__name__}: {e}{where(e, fn)}")
            else:
                report(fn.__name__, True, note=note)
        return report.exit_status()


def where(error, fn):
    """' (file.py line N)': the last place in fn's file that error passed through."""
    home = fn.__code__.co_filename
    ours = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == home]
    return f" ({os.path.basename(home)} line {ours[-1].lineno})" if ours else ""
