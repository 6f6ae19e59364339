#!/usr/bin/env bash
# Fetch v4l2-compliance (v4l-utils) and the exact libraries it needs from
# Debian sid into a private folder, and write wrappers that run it through
# sid's own dynamic loader. Nothing is installed system-wide and the
# system's libc is untouched: sid's v4l-utils needs a newer glibc and
# libstdc++ than Debian 12 has, so the wrapper starts the sid binary as
#   <root>/usr/lib/<triplet>/ld-linux-*.so.* --library-path <root libs> <bin>
#
# Usage: scripts/sid-v4l-utils.sh [--cache DIR] [--update] [--quiet]
#   --cache DIR  where to keep it (default $VMEDIA_SID_CACHE, else
#                ${XDG_CACHE_HOME:-~/.cache}/vmedia/sid-v4l-utils)
#   --update     look for a newer v4l-utils in sid even if one is cached
#   --quiet      print nothing but the result (stdout) and errors
# Prints the path of the v4l2-compliance-sid wrapper on stdout. A second
# run finds the cache, checks that the wrapper still starts, and does
# nothing else. On failure, prints one line starting "sid-v4l-utils:" on
# stderr and exits 1 (details in <cache>/fetch.log).
#
# Environment: VMEDIA_SID_MIRROR (default http://deb.debian.org/debian),
# VMEDIA_SID_SUITE (default sid), VMEDIA_SID_KEYRING (default Debian's
# archive keyring).
set -euo pipefail

me=sid-v4l-utils
cache=${VMEDIA_SID_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/vmedia/sid-v4l-utils}
update=0
quiet=0
mirror=${VMEDIA_SID_MIRROR:-http://deb.debian.org/debian}
suite=${VMEDIA_SID_SUITE:-sid}
keyring=${VMEDIA_SID_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
# Binaries that get a "<name>-sid" wrapper.
tools="v4l2-compliance v4l2-ctl"

while [ $# -gt 0 ]; do
	case $1 in
	--cache) cache=${2:?--cache needs a folder}; shift 2 ;;
	--cache=*) cache=${1#--cache=}; shift ;;
	--update) update=1; shift ;;
	--quiet | -q) quiet=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "$me: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done

# Whatever else stops the script still ends in one clear line.
trap 'echo "$me: failed at line $LINENO (log: ${log:-none})" >&2; exit 1' ERR

say() { [ "$quiet" = 1 ] || echo "$me: $*" >&2; }

mkdir -p "$cache" 2>/dev/null || { echo "$me: cannot create the cache folder $cache" >&2; exit 1; }
cache=$(cd "$cache" && pwd)
log=$cache/fetch.log
wrapper=$cache/bin/v4l2-compliance-sid

die() {
	echo "$me: $* (log: $log)" >&2
	exit 1
}

# The wrapper works if it starts and reports a version.
cached_version() {
	[ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | head -n 1
}

# One run at a time per cache (make -j runs tests side by side).
exec 9>"$cache/.lock"
flock 9

if [ "$update" = 0 ] && [ -f "$cache/stamp" ] && v=$(cached_version) && [ -n "$v" ]; then
	say "cached: $v ($cache)"
	echo "$wrapper"
	exit 0
fi

: >"$log"
for t in apt-get apt-cache dpkg-deb; do
	command -v "$t" >/dev/null || die "$t not found: this needs a Debian system"
done
[ -r "$keyring" ] || die "no keyring $keyring (install debian-archive-keyring)"

# A private apt: its own sources (sid only), lists, archives and an empty
# dpkg status, so the system's apt state and pins are never touched. The
# system's apt.conf.d (proxies) still applies.
apt=$cache/apt
mkdir -p "$apt/sources.list.d" "$apt/preferences.d" "$apt/lists/partial" \
	"$apt/archives/partial"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt/sources.list"
: >"$apt/status"
aptopts=(
	-o "Dir::Etc::SourceList=$apt/sources.list"
	-o "Dir::Etc::SourceParts=$apt/sources.list.d"
	-o "Dir::Etc::Preferences=$apt/preferences"
	-o "Dir::Etc::PreferencesParts=$apt/preferences.d"
	-o "Dir::State=$apt"
	-o "Dir::State::Lists=$apt/lists"
	-o "Dir::State::status=$apt/status"
	-o "Dir::Cache=$apt"
	-o "Dir::Cache::Archives=$apt/archives"
	-o "Acquire::Languages=none"
	-o "APT::Get::List-Cleanup=true"
)
# As root, apt downloads as _apt, which cannot write into a private
# folder under /root; there is nothing to sandbox here.
[ "$(id -u)" = 0 ] && aptopts+=(-o "APT::Sandbox::User=root")

say "updating the $suite package list from $mirror"
apt-get "${aptopts[@]}" -q --error-on=any update >>"$log" 2>&1 ||
	die "apt-get update of Debian $suite failed (no network, or the mirror is unreachable)"

ver=$(apt-cache "${aptopts[@]}" show --no-all-versions v4l-utils 2>>"$log" |
	sed -n 's/^Version: //p' | head -n 1 || true)
[ -n "$ver" ] || die "Debian $suite has no v4l-utils"

# The package and the closure of its run-time dependencies in sid: the
# loader, libc, libstdc++ and the v4l libraries, all from the same suite.
mapfile -t pkgs < <(apt-cache "${aptopts[@]}" depends --recurse --no-recommends \
	--no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
	v4l-utils 2>>"$log" | grep -E '^[a-z0-9][a-z0-9.+-]*$' | sort -u)
[ "${#pkgs[@]}" -gt 1 ] || die "cannot resolve the dependencies of v4l-utils in $suite"

want=$(apt-cache "${aptopts[@]}" show --no-all-versions "${pkgs[@]}" 2>>"$log" |
	awk '/^Package: /{p=$2} /^Version: /{print p, $2}' | sort)
if [ -f "$cache/stamp" ] && [ "$want" = "$(cat "$cache/stamp")" ] && v=$(cached_version) && [ -n "$v" ]; then
	rm -rf "$apt/lists"
	say "up to date: $v"
	echo "$wrapper"
	exit 0
fi

say "downloading v4l-utils $ver and ${#pkgs[@]} packages from $suite"
debs=$cache/debs
rm -rf "$debs"
mkdir -p "$debs"
# apt-get download checks each .deb against the signed package list.
(cd "$debs" && apt-get "${aptopts[@]}" -q download "${pkgs[@]}") >>"$log" 2>&1 ||
	die "apt-get download from $suite failed"

# Unpack into a new root, then swap it in whole.
new=$cache/root.new
rm -rf "$new"
mkdir -p "$new"
for f in "$debs"/*.deb; do
	dpkg-deb -x "$f" "$new" >>"$log" 2>&1 || die "cannot unpack $(basename "$f")"
done

ldso=$(find "$new/usr/lib" -maxdepth 2 -name 'ld-linux*.so.*' 2>/dev/null |
	sort | head -n 1 || true)
[ -n "$ldso" ] || die "no dynamic loader in the unpacked packages"
libdir=$(dirname "$ldso")
ldso=${ldso#"$new"/}
libdir=${libdir#"$new"/}

rm -rf "${cache:?}/root.old" "${cache:?}/bin"
[ -d "$cache/root" ] && mv "$cache/root" "$cache/root.old"
mv "$new" "$cache/root"
rm -rf "$cache/root.old"

mkdir -p "$cache/bin"
root=$cache/root
for t in $tools; do
	[ -x "$root/usr/bin/$t" ] || continue
	# Generated: the loader runs the sid binary with sid's libraries first;
	# the system's libraries remain the fallback (e.g. for LD_PRELOADed
	# code). LD_PRELOAD and the rest of the environment pass through.
	cat >"$cache/bin/$t-sid" <<EOF
#!/bin/sh
# $t $ver from Debian $suite, run through sid's own loader.
# Generated by vmedia's scripts/sid-v4l-utils.sh; do not edit.
R='$root'
exec "\$R/$ldso" --library-path "\$R/$libdir:/usr/lib/$(basename "$libdir"):/lib/$(basename "$libdir")" \\
	--argv0 $t "\$R/usr/bin/$t" "\$@"
EOF
	chmod 755 "$cache/bin/$t-sid"
done

if ! v=$(cached_version) || [ -z "$v" ]; then
	"$wrapper" --version >>"$log" 2>&1 || true
	rm -f "$cache/stamp"
	die "the unpacked v4l2-compliance from $suite does not start"
fi
# Missing libraries would show up only when a code path dlopens them; the
# binary's own NEEDED list must resolve inside the private root.
if "$root/$ldso" --library-path "$root/$libdir" --list "$root/usr/bin/v4l2-compliance" 2>&1 |
	grep -q 'not found'; then
	die "v4l2-compliance from $suite needs a library that is not unpacked"
fi

printf '%s\n' "$want" >"$cache/stamp"
# Keep only what runs: the root and the wrappers (~22 MB).
rm -rf "$debs" "$apt/archives" "$apt/lists"
size=$(du -sh "$cache" | cut -f1)
say "ready: $v ($size in $cache)"
echo "$wrapper"
