"""Checks that make's dependency tracking is exact: for every header of the project, the objects
`make` would rebuild if it changed (`make -n -W HEADER`) are exactly the objects whose source
includes it, directly or through other headers.

And that a change of a compile class's flags (build/flags/NAME, which the Makefile rewrites
when the flags it holds change) rebuilds every object of that class and nothing else.

Which source includes which header is worked out here, independently of the compiler's
dependency files that make uses: the compile commands come from `make -n -B` (source, object,
-I folders, -D switches), and a small preprocessor follows #include lines through the project
and lwIP's headers, taking #ifdef/#ifndef of the build's -D switches as the compiler would and
every other conditional as taken. A -U switch says a macro is off for that command (a third-party
recipe names the platform and features it is built without), so its #ifdef is decided too."""
import os
import re
import shlex
import subprocess

from tests.frontdoor.terminal import user_env

TARGETS = ["all", "build/nexus-test.elf", "host-tests", "fuzzers"]
INCLUDE = re.compile(r'^\s*#\s*include(_next)?\s*([<"])([^>"]+)[>"]')
CONDITIONAL = re.compile(r"^\s*#\s*(ifdef|ifndef|if|elif|else|endif)\b\s*(\w*)")


def make_dry(*args):
    out = subprocess.run(["make", "-n", *args, *TARGETS], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=user_env(), check=True).stdout.decode()
    return out.splitlines()


def compiles(lines):
    """(source, object, include folders, defines) of every compile command."""
    out = []
    for line in lines:
        if " -c " not in line or " -o " not in line:
            continue
        words = shlex.split(line)
        src = words[words.index("-c") + 1]
        if not src.endswith(".c"):
            continue
        obj = words[words.index("-o") + 1]
        incs = [w[2:] for w in words if w.startswith("-I")] + system_dirs(words[0], [w for w in words if w.startswith("--specs=")])
        defs = {w[2:].split("=")[0] for w in words if w.startswith("-D")}
        undefs = {w[2:] for w in words if w.startswith("-U")}
        out.append((os.path.normpath(src), obj, incs, defs, undefs))
    return out


_system_dirs = {}


def system_dirs(compiler, specs):
    """The folders a compiler searches for <...> after the -I ones (its C library's headers):
    a project header reached through one of them (picolibc's <sys/stat.h> includes <time.h>,
    which libnexus provides) is still an include of the source."""
    key = (compiler, tuple(specs))
    if key not in _system_dirs:
        proc = subprocess.run([compiler, *specs, "-E", "-Wp,-v", "-x", "c", os.devnull], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        lines = proc.stderr.decode("utf-8", "replace").splitlines()
        start = next((i for i, l in enumerate(lines) if l.startswith("#include <...>")), len(lines))
        _system_dirs[key] = [l.strip() for l in lines[start + 1:] if l.startswith(" ")]
    return _system_dirs[key]


class Includes:
    def __init__(self, switches):
        self.switches = switches  # macros some compile command defines: the build's switches
        self.cache = {}

    def closure(self, src, incs, defs):
        seen, todo = set(), [(src, None)]  # a file and the index in incs of the folder it was found in
        while todo:
            f, found_in = todo.pop()
            for nxt, kind, name in self.direct(f, frozenset(defs), self.system(f)):
                dirs = list(enumerate(incs))
                if kind == '"' and not nxt:
                    dirs = [(None, os.path.dirname(f))] + dirs
                if nxt:  # #include_next: the search goes on after the folder f was found in
                    dirs = dirs[found_in + 1:] if found_in is not None else dirs
                for i, d in dirs:
                    path = os.path.normpath(os.path.join(d, name))
                    if os.path.isfile(path):
                        if path not in seen:
                            seen.add(path)
                            todo.append((path, i if i is not None else found_in))
                        break
        return seen

    def system(self, f):
        """Is f one of the C library's headers (outside the project)?"""
        return os.path.isabs(f) and not f.startswith(os.getcwd() + os.sep)

    def direct(self, f, defs, system=False):
        """The #include lines of f that a compile with defs reads. In the C library's headers a
        plain #if is taken as false: they guard optional parts with feature macros this reader
        cannot evaluate (picolibc's <time.h> includes <signal.h> only under _POSIX_TIMERS), and
        the includes that reach a project header are unconditional (<sys/stat.h> to <time.h>)."""
        key = (f, defs & self.switches)
        if key not in self.cache:
            found, live = [], [True]
            with open(f, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    c = CONDITIONAL.match(line)
                    if c:
                        d, macro = c.groups()
                        if d in ("ifdef", "ifndef"):
                            taken = macro not in self.switches or ((macro in defs) == (d == "ifdef"))
                            live.append(live[-1] and taken)
                        elif d == "if":
                            live.append(live[-1] and not system)
                        elif d in ("else", "elif"):
                            # Only a switch's #else is decided; any other branch stays taken.
                            live[-1] = live[-2] if len(live) > 1 else True
                        elif d == "endif" and len(live) > 1:
                            live.pop()
                        continue
                    m = INCLUDE.match(line)
                    if m and live[-1]:
                        found.append(m.groups())
            self.cache[key] = found
        return self.cache[key]


def check_header_dependencies():
    """(name, ok, detail) per project header."""
    cmds = compiles(make_dry("-B"))
    switches = set().union(*(d | u for _, _, _, d, u in cmds))
    inc = Includes(switches)
    includers = {}
    for src, obj, incs, defs, _ in cmds:
        for h in inc.closure(src, incs, defs):
            includers.setdefault(h, set()).add(obj)
    headers = subprocess.run(["git", "ls-files", "*.h"], stdout=subprocess.PIPE, check=True).stdout.decode().split()
    built = sum(os.path.exists(o) for _, o, _, _, _ in cmds)
    results = [("compile_commands_found", built > 50, f"{len(cmds)} compile commands, {built} objects built")]
    # Objects not built yet, or out of date already, are made whatever changes: only the
    # others tell anything.
    stale = {o for _, o, _, _, _ in compiles(make_dry())}
    for h in headers:
        rebuilt = {o for _, o, _, _, _ in compiles(make_dry("-W", h)) if os.path.exists(o) and o not in stale}
        want = {o for o in includers.get(h, set()) if os.path.exists(o) and o not in stale}
        missing, extra = sorted(want - rebuilt), sorted(rebuilt - want)
        results.append((f"{h}_rebuilds_its_includers", not missing and not extra,
                        f"{len(want)} includers; not rebuilt {missing[:4]}; rebuilt needlessly {extra[:4]}"))
    return results


# The objects each flags file of the Makefile stands for: the folders they are built in, and
# folders inside those that belong to another class.
FLAG_CLASSES = {
    "kernel": (("build/k/", "build/kt/"), ()),
    "user": (("build/u/", "build/m/", "build/mt/", "build/lt/", "build/ut/"), ()),
    "lwip": (("build/lwip/",), ()),
    "libfdt": (("build/libfdt/",), ()),
    "sodium": (("build/sodium/",), ()),
    "rinetd": (("build/rinetd/",), ()),
    "mosquitto": (("build/mosquitto/",), ()),
    "host": (("build/ho/",), ("build/ho/build/",)),
    "fuzz": (("build/fo/",), ("build/fo/build/",)),
    "native": (("build/ho/build/", "build/fo/build/"), ()),
}
# Compiled from what the build generates: rebuilt whenever images or files are linked again,
# which a change of any class's flags causes.
DOWNSTREAM = re.compile(r"(^|/)images\.o$|^build/files/")


def compiled_objects(lines):
    """The object of every compile command (C and assembly)."""
    out = set()
    for line in lines:
        if " -c " in line and " -o " in line:
            words = shlex.split(line)
            out.add(words[words.index("-o") + 1])
    return out


def check_flag_dependencies():
    """(name, ok, detail) per compile class: `make -n -W build/flags/NAME` rebuilds exactly the
    class's objects that are built and up to date."""
    every = {o for o in compiled_objects(make_dry("-B")) if os.path.exists(o)}
    stale = compiled_objects(make_dry())
    results = []
    for name, (folders, others) in FLAG_CLASSES.items():
        def mine(o):
            return o.startswith(folders) and not o.startswith(others) if others else o.startswith(folders)
        want = {o for o in every - stale if mine(o)}
        rebuilt = {o for o in compiled_objects(make_dry("-W", f"build/flags/{name}")) if o in every and o not in stale}
        extra = sorted(o for o in rebuilt - want if not DOWNSTREAM.search(o))
        missing = sorted(want - rebuilt)
        results.append((f"flags_{name}_rebuild_their_objects", bool(want) and not missing and not extra,
                        f"{len(want)} objects; not rebuilt {missing[:4]}; rebuilt needlessly {extra[:4]}"))
    return results
