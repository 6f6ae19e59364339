#!/usr/bin/env bash
# Cross-build vmediad and the guest tools for arm64 (Xen's virtio= guests
# and most driver domains are Arm) on a Debian 12 amd64 machine.
#
# Installing libxen-dev:arm64 would remove the native libxen-dev (the two
# conflict), so the arm64 libraries are never installed: a private apt
# state (its own lists and status, architecture arm64, the host's own
# sources) downloads their .debs, and dpkg-deb unpacks them into a sysroot
# folder that a pkg-config wrapper and -I/-L/-rpath-link point into. The
# host's apt and dpkg are not touched beyond installing the cross compiler.
#
#   scripts/cross-arm64.sh            # build into build-arm64/
#   VMEDIA_ARM64_BUILD=DIR scripts/cross-arm64.sh
#
# Everything is cached in build-arm64/cross/ (lists, .debs, sysroot): a
# second run downloads nothing. Delete that folder to fetch newer packages.
# Every failure is one line "cross-arm64: ..." naming the log to read.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

TRIPLET=aarch64-linux-gnu
BUILD=${VMEDIA_ARM64_BUILD:-$VMEDIA_SRC/build-arm64}
CACHE=$BUILD/cross
SYSROOT=$CACHE/sysroot
LIBDIR=$SYSROOT/usr/lib/$TRIPLET
# Where the cross compiler's own libc lives (libc6-dev-arm64-cross).
TOOLCHAIN_LIBS=/usr/$TRIPLET/lib

# The arm64 packages to unpack: the -dev packages configure asks for and
# the run-time closure of the libraries vmedia links (found with
# apt-cache depends and checked below with readelf: libxenctrl, in
# libxenmisc4.17, needs xencall, xenevtchn, xengnttab, xenforeignmemory,
# xendevicemodel and xentoollog; xenstore needs xentoolcore; libv4l2 needs
# libv4lconvert, which needs libjpeg; libpng needs zlib). libc and the
# kernel headers come with the cross compiler, so libc6-dev and
# linux-libc-dev are left out.
ARM64_PKGS="libxen-dev libxenmisc4.17 libxenstore4 libxentoolcore1
libxentoollog1 libxencall1 libxenevtchn1 libxenforeignmemory1
libxendevicemodel1 libxengnttab1 libxenhypfs1 libv4l-dev libv4l-0
libv4lconvert0 libv4l2rds0 libjpeg62-turbo libpng-dev libpng16-16 zlib1g
zlib1g-dev"
# The libraries configure links (pkg-config modules).
PC_MODULES="xenstore xenevtchn xenforeignmemory xendevicemodel xengnttab
xencontrol libv4l2 libpng"
PROGRAMS="vmediad vmedia-probe vmedia-capture vmedia-bench"

die() {
	echo "cross-arm64: $*" >&2
	exit 1
}
trap 'echo "cross-arm64: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

start=$SECONDS
# libc6-dev-arm64-cross (crt*.o, libc.so) is only recommended by the
# compiler, and install_deps installs no recommendations.
install_deps gcc-$TRIPLET binutils-$TRIPLET libc6-dev-arm64-cross \
	linux-libc-dev-arm64-cross file
command -v $TRIPLET-gcc >/dev/null ||
	die "$TRIPLET-gcc not found after installing gcc-$TRIPLET"
[ -f "$VMEDIA_SRC/config.status" ] &&
	die "$VMEDIA_SRC is configured in-tree; run 'make distclean' there first"
mkdir -p "$CACHE"

# ---- the sysroot -----------------------------------------------------------

# apt with its own state: arm64 only, nothing installed, the host's sources.
apt_arm64() {
	apt-get -q -o Dir::State="$CACHE/apt/state" \
		-o Dir::State::status="$CACHE/apt/state/status" \
		-o Dir::Cache="$CACHE/apt/cache" \
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

# NEEDED entries of an ELF file (readelf reads any architecture).
needed() {
	readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}

find_lib() {
	local d
	for d in "$LIBDIR" "$SYSROOT/lib/$TRIPLET" "$TOOLCHAIN_LIBS"; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# Every library the linked ones need, transitively, must be in the sysroot
# or the toolchain, or the link fails later with a vaguer message.
check_closure() {
	local todo=() seen=" " lib path n
	# shellcheck disable=SC2086 # one word per module
	for n in $(pkgconfig_arm64 --libs-only-l $PC_MODULES); do
		todo+=("lib${n#-l}.so")
	done
	while [ ${#todo[@]} -gt 0 ]; do
		lib=${todo[0]}
		todo=("${todo[@]:1}")
		case $seen in *" $lib "*) continue ;; esac
		seen="$seen$lib "
		path=$(find_lib "$lib") ||
			die "$lib is not in the sysroot; add its package to ARM64_PKGS in $0"
		for n in $(needed "$path"); do todo+=("$n"); done
	done
}

# The stamp names the package set: change the list and the sysroot is
# rebuilt; keep it and nothing is downloaded.
stamp=$(echo "$ARM64_PKGS" | tr -s ' \n' ' ')
if [ "$(cat "$SYSROOT/.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "fetching the arm64 libraries into $SYSROOT"
	mkdir -p "$CACHE/apt/state/lists/partial" \
		"$CACHE/apt/cache/archives/partial" "$CACHE/debs"
	touch "$CACHE/apt/state/status"
	apt_arm64 update >"$CACHE/apt-update.log" 2>&1 ||
		die "apt-get update (arm64 lists) failed; see $CACHE/apt-update.log"
	rm -f "$CACHE"/debs/*.deb
	# shellcheck disable=SC2086 # one word per package
	(cd "$CACHE/debs" && apt_arm64 download $ARM64_PKGS) \
		>"$CACHE/download.log" 2>&1 ||
		die "downloading the arm64 .debs failed; see $CACHE/download.log"
	rm -rf "$SYSROOT.new"
	mkdir -p "$SYSROOT.new"
	for deb in "$CACHE"/debs/*.deb; do
		dpkg-deb -x "$deb" "$SYSROOT.new" ||
			die "cannot unpack $deb"
	done
	# An absolute symlink (zlib1g-dev's libz.so) would point at the host's
	# amd64 file: make it relative, inside the sysroot.
	find "$SYSROOT.new" -type l -lname '/*' | while read -r l; do
		ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" \
			"$SYSROOT.new$(readlink "$l")")" "$l"
	done
	echo "$stamp" >"$SYSROOT.new/.stamp"
	rm -rf "$SYSROOT"
	mv "$SYSROOT.new" "$SYSROOT"
fi

# pkg-config for the sysroot, as a program so configure records it and a
# later automatic re-run of configure finds the same libraries.
mkdir -p "$CACHE/bin"
PKGCONF=$CACHE/bin/$TRIPLET-pkg-config
cat >"$PKGCONF.new" <<EOF
#!/bin/sh
# Written by scripts/cross-arm64.sh: pkg-config over the arm64 sysroot.
PKG_CONFIG_SYSROOT_DIR='$SYSROOT'
PKG_CONFIG_LIBDIR='$LIBDIR/pkgconfig:$SYSROOT/usr/share/pkgconfig'
PKG_CONFIG_PATH=
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR PKG_CONFIG_PATH
exec pkg-config "\$@"
EOF
chmod +x "$PKGCONF.new"
mv "$PKGCONF.new" "$PKGCONF"
pkgconfig_arm64() { "$PKGCONF" "$@"; }

# shellcheck disable=SC2086 # one word per module
pkgconfig_arm64 --exists $PC_MODULES ||
	die "pkg-config finds no arm64 $(for m in $PC_MODULES; do pkgconfig_arm64 --exists $m || printf '%s ' $m; done)in $SYSROOT; delete $CACHE and run again"
check_closure

# ---- configure and build ---------------------------------------------------

# pkgconf drops -I/usr/include (a system directory) before adding the
# sysroot, so the sysroot's include and library folders are named here;
# -rpath-link lets ld find what the linked libraries need in turn (zlib1g
# puts libz.so.1 in /lib, not /usr/lib).
CONF_ARGS=("--host=$TRIPLET"
	"PKG_CONFIG=$PKGCONF"
	"CPPFLAGS=-I$SYSROOT/usr/include"
	"LDFLAGS=-L$LIBDIR -Wl,-rpath-link,$LIBDIR:$SYSROOT/lib/$TRIPLET")
if [ "$(cat "$BUILD/.cross-configure" 2>/dev/null)" != "${CONF_ARGS[*]}" ] ||
	[ ! -f "$BUILD/Makefile" ]; then
	[ -x "$VMEDIA_SRC/configure" ] ||
		(cd "$VMEDIA_SRC" && autoreconf -fi >/dev/null)
	echo "configuring $BUILD for $TRIPLET"
	(cd "$BUILD" && "$VMEDIA_SRC/configure" "${CONF_ARGS[@]}") \
		>"$BUILD/cross-configure.log" 2>&1 ||
		die "configure failed; see $BUILD/cross-configure.log ($(tail -n 1 "$BUILD/cross-configure.log"))"
	echo "${CONF_ARGS[*]}" >"$BUILD/.cross-configure"
fi
make -C "$BUILD" -j"$(nproc)" >"$BUILD/cross-make.log" 2>&1 ||
	die "make failed; see $BUILD/cross-make.log ($(grep -m1 -E 'error|Error' "$BUILD/cross-make.log" || tail -n 1 "$BUILD/cross-make.log"))"

# ---- check what came out ---------------------------------------------------

for p in $PROGRAMS; do
	f=$BUILD/$p
	[ -f "$f" ] || die "$p was not built; see $BUILD/cross-make.log"
	desc=$(file -b "$f")
	case $desc in
	*"ARM aarch64"*) ;;
	*) die "$p is not an aarch64 ELF: $desc" ;;
	esac
	libs=$(needed "$f" | tr '\n' ' ')
	for l in $libs; do
		find_lib "$l" >/dev/null ||
			die "$p needs $l, which neither the sysroot nor the toolchain has"
	done
	echo "$p: $(echo "$desc" | cut -d, -f1,2), NEEDED: $libs"
done
file -b "$BUILD/vmediad"

# vmediad does not link the Xen libraries until the Xen transport lands:
# link a probe against every library configure found, so a missing arm64
# piece shows up now and not in the first Xen build.
cat >"$CACHE/probe.c" <<'EOF'
#include <libv4l2.h>
#include <png.h>
#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
int main(void)
{
	return !xs_open(0) + !xenevtchn_open(0, 0) + !xendevicemodel_open(0, 0) +
	       !xenforeignmemory_open(0, 0) + !xengnttab_open(0, 0) +
	       !xc_interface_open(0, 0, 0) + v4l2_open("/dev/video0", 0) +
	       !png_create_read_struct(PNG_LIBPNG_VER_STRING, 0, 0, 0);
}
EOF
# shellcheck disable=SC2046,SC2086 # pkg-config's words are flags
$TRIPLET-gcc -I"$SYSROOT/usr/include" $(pkgconfig_arm64 --cflags $PC_MODULES) \
	"$CACHE/probe.c" -o "$CACHE/probe" -L"$LIBDIR" \
	-Wl,-rpath-link,"$LIBDIR:$SYSROOT/lib/$TRIPLET" \
	$(pkgconfig_arm64 --libs $PC_MODULES) >"$CACHE/probe.log" 2>&1 ||
	die "the arm64 Xen/V4L2/PNG libraries do not link; see $CACHE/probe.log"
echo "link probe (every library configure checks): $(file -b "$CACHE/probe" | cut -d, -f2), NEEDED: $(needed "$CACHE/probe" | tr '\n' ' ')"
echo "cross-arm64: done in $((SECONDS - start)) s; binaries in $BUILD"
