"""Numbers the ABI headers define, read from them, so a check follows a change of the ABI rather
than holding a copy of the number."""
import re


def abi_constant(name, header="include/nexus/syscall.h"):
    """The value of `#define NAME 512u` in header (from the project root)."""
    with open(header) as f:
        return int(re.search(rf"^#define {name} (\d+)u?\b", f.read(), re.M).group(1))
