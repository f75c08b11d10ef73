#!/bin/sh
# Fetches a Debian binary package pinned in tools/binaries.lock and unpacks it (dpkg-deb -x, no
# maintainer scripts, nothing installed) into build/third_party/NAME/:
#   tools/fetch-binary.sh PACKAGE
# The package is of the lock's architecture and release, not the machine's (the Linux guest of
# `make bench-linux` is riscv64 from trixie), so apt runs with a private state under build/apt/
# whose deb entries are the machine's own (same URIs, components and keyrings) with the machine's
# release in suite names replaced by the lock's (tools/apt-private.sh); the system's apt state and
# architectures are left alone. The .deb's SHA-256 must match the lock.
set -eu

pkg=${1:?usage: fetch-binary.sh PACKAGE}
top=$(cd "$(dirname "$0")/.." && pwd)
tool=fetch-binary
. "$top/tools/apt-private.sh"
line=$(lock_line "$top/tools/binaries.lock" "$pkg")
# shellcheck disable=SC2086 # split into the lock's fields on purpose
set -- $line
version=$2 sha256=$3 release=$4 arch=$5

dest="$top/build/third_party/$pkg"
# The version may carry an epoch ("1:1.37.0"); a colon is awkward in make targets.
stamp="$dest/.fetched-$(echo "$version" | tr : _)"
# Already here: touched so make, which remakes it when the lock or this script changes, does
# not find it stale on every run after.
[ -f "$stamp" ] && { touch "$stamp"; exit 0; }

apt_dir="$top/build/apt/binary-$pkg"
rm -rf "$apt_dir"
apt_private_state "$apt_dir" deb "$release"
apt_opts="$apt_opts -o Dir::State::status=/dev/null -o APT::Architecture=$arch -o APT::Architectures=$arch"
# shellcheck disable=SC2086
apt-get $apt_opts -qq update
# shellcheck disable=SC2086
(cd "$apt_dir/download" && apt-get $apt_opts -qq download "$pkg=$version")

deb=$(ls "$apt_dir/download/"*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "fetch-binary: apt downloaded no .deb for $pkg $version" >&2; exit 1; }
unpack_verified "$deb" "$sha256" "$dest" dpkg-deb -x "$deb" "$dest"
# The .deb is not kept: the unpacked tree is what the build uses, and the kernel's is 110 MB.
rm -rf "$apt_dir"
touch "$stamp"
echo "fetch-binary: $pkg $version ($arch) unpacked in build/third_party/$pkg"
