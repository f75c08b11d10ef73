#!/bin/sh
# Installs the Debian packages Nexus needs to build, run and test, if any is missing.
# Uses sudo only when not root. Safe to run again: it does nothing when all are present.
set -eu

PACKAGES="
gcc-riscv64-unknown-elf
picolibc-riscv64-unknown-elf
qemu-system-misc
opensbi
gcc
make
python3
curl
wrk
clang
gdb-multiarch
spin
libsodium-dev
python3-nacl
python3-scapy
tshark
mosquitto-clients
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "bootstrap: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "bootstrap: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
