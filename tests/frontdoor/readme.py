"""The commands README.md shows, read from the README itself so the tests follow it.

Host commands are the lines of its ```sh blocks (a trailing `# comment` dropped); console
commands are the lines of its ```nexus-console blocks (the comment column dropped). Each kind of
host command has one handler in run_readme.py; a README command no handler claims is a failure,
so a new README line cannot go untested."""
import re

README = "README.md"


def blocks(text, info):
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside and line[3:].strip() == info
            continue
        if inside:
            out.append(line)
    return out


def host_commands(path=README):
    with open(path, encoding="utf-8") as f:
        lines = blocks(f.read(), "sh")
    cmds = [re.sub(r"\s+#.*$", "", l).strip() for l in lines]
    return [c for c in cmds if c]


def console_commands(path=README):
    """(command line, description) of each console command shown."""
    with open(path, encoding="utf-8") as f:
        lines = blocks(f.read(), "nexus-console")
    out = []
    for l in lines:
        parts = re.split(r"\s{2,}", l.strip(), maxsplit=1)
        if parts[0]:
            out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out
