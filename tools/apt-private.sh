# shellcheck shell=sh disable=SC2154,SC2034 # $tool is the caller's; $apt_opts is for the caller
# Sourced (not run) by tools/fetch-source.sh and tools/fetch-binary.sh: a private apt state under
# build/apt/ whose entries are derived from the machine's configured deb entries (same URIs,
# components and keyrings), so no host name is written in this repository and the system's apt
# state is left alone. The caller sets $tool (its name, for messages) before using these.

# lock_line LOCK PACKAGE: PACKAGE's line of LOCK; fails, naming the lock, if it has none.
lock_line() {
    _line=$(awk -v p="$2" '$1 == p { print; exit }' "$1")
    [ -n "$_line" ] || { echo "$tool: $2 is not pinned in $1" >&2; return 1; }
    echo "$_line"
}

# apt_private_state DIR TYPE [RELEASE]: makes DIR a fresh apt state whose sources are the
# machine's deb entries as entries of TYPE (deb or deb-src); with RELEASE, the machine's release
# name inside suite names is replaced by it (bookworm-updates becomes trixie-updates). Sets
# $apt_opts, the options that point apt-get at that state.
apt_private_state() {
    _dir=$1 _type=$2 _release=${3:-}
    mkdir -p "$_dir/sources.list.d" "$_dir/lists/partial" "$_dir/cache/archives/partial" "$_dir/download"
    : > "$_dir/sources.list"
    rm -f "$_dir/sources.list.d/"*
    _machine_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    _rename=
    if [ -n "$_release" ] && [ -n "$_machine_release" ]; then
        _rename="s/\\b$_machine_release\\b/$_release/g"
    fi
    # One-line format: "deb [opts] uri suite comps".
    for _f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$_f" ] || continue
        sed -n "s/^[[:space:]]*deb[[:space:]]/$_type /p" "$_f" | sed "$_rename" >> "$_dir/sources.list"
    done
    # deb822 format: the same stanzas with "Types: TYPE".
    for _f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$_f" ] || continue
        sed "s/^Types:.*/Types: $_type/" "$_f" | sed "/^Suites:/ { $_rename }" \
            > "$_dir/sources.list.d/$(basename "$_f")"
    done
    apt_opts="-o Dir::Etc::SourceList=$_dir/sources.list -o Dir::Etc::SourceParts=$_dir/sources.list.d
              -o Dir::State::Lists=$_dir/lists -o Dir::Cache=$_dir/cache -o Debug::NoLocking=1
              -o APT::Sandbox::User=$(id -un)"
}

# unpack_verified FILE SHA256 DEST COMMAND...: fails unless FILE's SHA-256 is the lock's, else
# empties DEST and runs COMMAND (which unpacks FILE into DEST).
unpack_verified() {
    _file=$1 _want=$2 _dest=$3
    shift 3
    _got=$(sha256sum "$_file" | awk '{ print $1 }')
    if [ "$_got" != "$_want" ]; then
        echo "$tool: $_file has SHA-256 $_got, the lock pins $_want" >&2
        return 1
    fi
    rm -rf "$_dest"
    mkdir -p "$_dest"
    "$@"
}
