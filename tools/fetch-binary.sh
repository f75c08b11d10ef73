#!/bin/sh
# Fetches a Debian binary package pinned in tools/binaries.lock and unpacks it (dpkg-deb -x, no
# maintainer scripts, nothing installed) into build/third_party/NAME/:
#   tools/fetch-binary.sh PACKAGE
# The package is of the lock's architecture and release, not the machine's (the Linux guest of
# `make bench-linux` is riscv64 from trixie), so apt runs with a private state under build/apt/
# whose deb entries are the machine's own (same URIs, components and keyrings) with the machine's
# release in suite names replaced by the lock's: no host name is written in this repository and
# the system's apt state and architectures are left alone. The .deb's SHA-256 must match the lock.
set -eu

pkg=${1:?usage: fetch-binary.sh PACKAGE}
top=$(cd "$(dirname "$0")/.." && pwd)
lock="$top/tools/binaries.lock"
line=$(awk -v p="$pkg" '$1 == p { print; exit }' "$lock")
[ -n "$line" ] || { echo "fetch-binary: $pkg is not pinned in $lock" >&2; exit 1; }
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
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/download"
: > "$apt_dir/sources.list"

machine_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
rename_release="s/\\b$machine_release\\b/$release/g"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep '^[[:space:]]*deb[[:space:]]' "$f" | sed "$rename_release" >> "$apt_dir/sources.list" || true
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed "/^Suites:/ { $rename_release }" "$f" > "$apt_dir/sources.list.d/$(basename "$f")"
done

apt_opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=$apt_dir/sources.list.d
          -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o Dir::State::status=/dev/null
          -o APT::Architecture=$arch -o APT::Architectures=$arch
          -o Debug::NoLocking=1 -o APT::Sandbox::User=$(id -un)"
# shellcheck disable=SC2086
apt-get $apt_opts -qq update
# shellcheck disable=SC2086
(cd "$apt_dir/download" && apt-get $apt_opts -qq download "$pkg=$version")

deb=$(ls "$apt_dir/download/"*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "fetch-binary: apt downloaded no .deb for $pkg $version" >&2; exit 1; }
got=$(sha256sum "$deb" | awk '{ print $1 }')
if [ "$got" != "$sha256" ]; then
    echo "fetch-binary: $deb has SHA-256 $got, the lock pins $sha256" >&2
    exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
# The .deb is not kept: the unpacked tree is what the build uses, and the kernel's is 110 MB.
rm -rf "$apt_dir"
touch "$stamp"
echo "fetch-binary: $pkg $version ($arch) unpacked in build/third_party/$pkg"
