#!/bin/sh
# Fetches a Debian source package pinned in tools/sources.lock into build/third_party/NAME/:
#   tools/fetch-source.sh PACKAGE
# apt's own source-package machinery does the download, with a private apt state under
# build/apt/ whose deb-src entries are derived from the machine's configured deb entries
# (tools/apt-private.sh). A lock line may name a Debian release as its fourth
# field: the suites are then that release's (bookworm-updates becomes trixie-updates). Only the
# upstream tarball is downloaded and its SHA-256 must match the lock; Debian's patches are not
# applied (the project builds upstream sources unpatched).
set -eu

pkg=${1:?usage: fetch-source.sh PACKAGE}
top=$(cd "$(dirname "$0")/.." && pwd)
tool=fetch-source
. "$top/tools/apt-private.sh"
line=$(lock_line "$top/tools/sources.lock" "$pkg")
version=$(echo "$line" | awk '{ print $2 }')
sha256=$(echo "$line" | awk '{ print $3 }')
release=$(echo "$line" | awk '{ print $4 }')

dest="$top/build/third_party/$pkg"
stamp="$dest/.fetched-$version"
# Already here: the stamp is touched so make, which remakes it when the lock or this script
# changes, does not find it stale on every run after.
[ -f "$stamp" ] && { touch "$stamp"; exit 0; }

# A private apt state per package: fetches may run side by side (make -j), each with its own
# suites.
apt_dir="$top/build/apt/$pkg"
apt_private_state "$apt_dir" deb-src "$release"
# shellcheck disable=SC2086
apt-get $apt_opts -qq update
# shellcheck disable=SC2086
(cd "$apt_dir/download" && apt-get $apt_opts -qq source --download-only --tar-only "$pkg=$version")

orig=$(ls "$apt_dir/download/${pkg}_"*".orig.tar."* 2>/dev/null | head -n 1)
[ -n "$orig" ] || { echo "fetch-source: no upstream tarball for $pkg $version" >&2; exit 1; }
unpack_verified "$orig" "$sha256" "$dest" tar -xf "$orig" -C "$dest" --strip-components=1
touch "$stamp"
echo "fetch-source: $pkg $version unpacked in build/third_party/$pkg"
