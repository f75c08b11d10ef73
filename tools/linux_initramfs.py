"""Assembles the Linux guest's initramfs for `make bench-linux` (tools/bench_linux.py): a newc
cpio archive, uncompressed (the kernel then only copies it out; a compressed one would add
guest decompression time to the boot figure), written without root (device nodes are archive
entries, never made on the host).

    python3 tools/linux_initramfs.py --busybox BIN --modules DIR --guest tools/linux-guest --out FILE

Contents: busybox as /bin/busybox, tools/linux-guest/init as /init and its udhcpc script, the
NIC's kernel modules decompressed (Debian ships them xz-compressed; busybox insmod wants plain
ELF), and /www/bytes/1024 and /www/bytes/1048576 holding the same bytes as Nexus's /bytes/N
(byte i is i % 251), so both guests serve one body at one path.
"""
import argparse
import lzma
import os
import stat

MODULES = ("virtio_mmio", "failover", "net_failover", "virtio_net")  # the init loads these
BODY_SIZES = (1024, 1 << 20)
PERIOD = bytes(range(251))
CONSOLE_DEVICE = (5, 1)  # /dev/console: the kernel opens it for init before any mount


def body(n):
    return (PERIOD * (n // len(PERIOD) + 1))[:n]


class Newc:
    """A cpio archive in the "newc" format the kernel's initramfs unpacker reads: a 110-byte
    ASCII header per entry, the name and the data each padded to 4 bytes, a TRAILER!!! entry.
    Every entry is root's, dated 0, so the archive is the same bytes at every build."""

    def __init__(self, out):
        self.out = out
        self.inode = 0

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        self.inode += 1
        encoded = name.encode() + b"\0"
        fields = (self.inode, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        self.out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + encoded)
        self.out.write(b"\0" * (-(110 + len(encoded)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def directory(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def char_device(self, name, major_minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=major_minor)

    def close(self):
        self._entry("TRAILER!!!", 0)


def find_module(modules_dir, name):
    for root, _, files in os.walk(modules_dir):
        for f in files:
            if f in (name + ".ko", name + ".ko.xz"):
                return os.path.join(root, f)
    raise SystemExit(f"linux_initramfs: no module {name} under {modules_dir}")


def module_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".xz") else data


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--modules", required=True, help="the kernel package's lib/modules/VERSION")
    ap.add_argument("--guest", required=True, help="the folder with init and udhcpc.script")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as out:
        archive = Newc(out)
        for d in ("bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp", "www", "www/bytes"):
            archive.directory(d)
        archive.char_device("dev/console", CONSOLE_DEVICE)
        archive.file("bin/busybox", read(args.busybox), 0o755)
        archive.file("init", read(os.path.join(args.guest, "init")), 0o755)
        archive.file("etc/udhcpc.script", read(os.path.join(args.guest, "udhcpc.script")), 0o755)
        for name in MODULES:
            archive.file(f"lib/modules/{name}.ko", module_bytes(find_module(args.modules, name)))
        for n in BODY_SIZES:
            archive.file(f"www/bytes/{n}", body(n))
        archive.close()
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
