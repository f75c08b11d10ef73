#!/bin/sh
# Fetches a Debian source package pinned in tools/sources.lock into build/third_party/NAME/:
#   tools/fetch-source.sh PACKAGE
# apt's own source-package machinery does the download, with a private apt state under
# build/apt/ whose deb-src entries are derived from the machine's configured deb entries (same
# URIs, suites, components and keyrings), so no host name is written in this repository and
# the system's apt state is left alone. A lock line may name a Debian release as its fourth
# field: the suites are then that release's (bookworm-updates becomes trixie-updates). Only the
# upstream tarball is downloaded and its SHA-256 must match the lock; Debian's patches are not
# applied (the project builds upstream sources unpatched).
set -eu

pkg=${1:?usage: fetch-source.sh PACKAGE}
top=$(cd "$(dirname "$0")/.." && pwd)
lock="$top/tools/sources.lock"
line=$(awk -v p="$pkg" '$1 == p { print; exit }' "$lock")
[ -n "$line" ] || { echo "fetch-source: $pkg is not pinned in $lock" >&2; exit 1; }
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
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/download"
: > "$apt_dir/sources.list"
rm -f "$apt_dir/sources.list.d/"*

# The machine's release name inside suite names (bookworm, bookworm-updates, bookworm-security)
# is replaced by the lock's release, if it names one.
machine_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
rename_release=
if [ -n "$release" ] && [ -n "$machine_release" ]; then
    rename_release="s/\\b$machine_release\\b/$release/g"
fi

# One-line format: "deb [opts] uri suite comps" -> "deb-src [opts] uri suite comps".
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" | sed "$rename_release" >> "$apt_dir/sources.list"
done
# deb822 format: same stanzas with "Types: deb-src".
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed 's/^Types:.*/Types: deb-src/' "$f" | sed "/^Suites:/ { $rename_release }" \
        > "$apt_dir/sources.list.d/$(basename "$f")"
done

apt_opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=$apt_dir/sources.list.d
          -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o Debug::NoLocking=1
          -o APT::Sandbox::User=$(id -un)"
# shellcheck disable=SC2086
apt-get $apt_opts -qq update
# shellcheck disable=SC2086
(cd "$apt_dir/download" && apt-get $apt_opts -qq source --download-only --tar-only "$pkg=$version")

orig=$(ls "$apt_dir/download/${pkg}_"*".orig.tar."* 2>/dev/null | head -n 1)
[ -n "$orig" ] || { echo "fetch-source: no upstream tarball for $pkg $version" >&2; exit 1; }
got=$(sha256sum "$orig" | awk '{ print $1 }')
if [ "$got" != "$sha256" ]; then
    echo "fetch-source: $orig has SHA-256 $got, the lock pins $sha256" >&2
    exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
tar -xf "$orig" -C "$dest" --strip-components=1
touch "$stamp"
echo "fetch-source: $pkg $version unpacked in build/third_party/$pkg"
