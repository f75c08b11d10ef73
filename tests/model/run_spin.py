"""Model-checks the ION ring's protocol with spin (tests/model/ion_ring.pml): the model as built
must have no error in any interleaving, and each mutation of it must be caught, so a pass means
the checker looked. Prints PASS/FAIL lines for tests/run.py."""
import os
import re
import shutil
import subprocess
import tempfile

from tests.harness.report import Report

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ion_ring.pml")
report = Report("model")

# (name, -D switch or None, what the verifier must say)
VARIANTS = [
    ("ion_ring_has_no_error", None, None),
    ("finds_lost_wakeup_without_recheck", "NO_RECHECK", "invalid end state"),
    ("finds_stale_read_when_head_published_first", "PUBLISH_FIRST", "assertion violated"),
    ("finds_wrong_fill_without_wraparound_arithmetic", "NAIVE_COUNT", None),
]


def verify(switch, workdir):
    """The verifier's output for the model built with -D<switch> (none if None)."""
    model = os.path.join(workdir, "ion_ring.pml")
    shutil.copy(MODEL, model)
    spin = ["spin"] + ([f"-D{switch}"] if switch else []) + ["-a", "ion_ring.pml"]
    subprocess.run(spin, cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-o", "pan", "pan.c"], cwd=workdir, check=True)
    return subprocess.run(["./pan"], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300).stdout.decode()


def main():
    if not shutil.which("spin"):
        report("spin_installed", False, "spin not found (tools/bootstrap.sh installs it)")
        return 1
    for name, switch, must_say in VARIANTS:
        with tempfile.TemporaryDirectory() as work:
            out = verify(switch, work)
        m = re.search(r"errors: (\d+)", out)
        errors = int(m.group(1)) if m else None
        complete = "max search depth too small" not in out and "search was not completed" not in out
        checked = "assertion violations\t+" in out and "invalid end states\t+" in out
        if switch is None:
            states = re.search(r"(\d+) states, stored", out)
            report(name, errors == 0 and complete and checked, out[-600:],
                   note=f"{states.group(1)} states" if states else "")
        else:
            report(name, errors is not None and errors > 0 and (must_say is None or must_say in out), out[-600:])
    return report.exit_status()


if __name__ == "__main__":
    raise SystemExit(main())
