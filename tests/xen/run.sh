#!/usr/bin/env bash
# tests/xen/run.sh: vmediad against a real Xen hypervisor, end to end.
#
#   qemu-system-aarch64 (TCG, virt board with EL2, GICv3)
#     -> Xen 4.17 rebuilt from Debian's own source package with
#        CONFIG_IOREQ_SERVER (Debian's arm64 hypervisor has no IOREQ server)
#     -> dom0: Debian 12 arm64 kernel and rootfs with the Xen 4.17 tools,
#        running the arm64 vmediad built from this tree
#     -> domUs created with xl, each with a virtio-mmio window at 0x2000000
#        and SPI 33, running V4L2 programs over the userspace guest driver
#
# Everything comes from Debian's archive, through private apt states (the
# host's apt configuration is not changed beyond installing host tools).
# Downloads and build products are cached in $VMEDIA_SRC/build-xen/ (delete
# it for a cold run); a warm run rebuilds only what changed and boots once.
# The scenarios run inside dom0 (tests/xen/dom0-scenarios.sh) and the domUs
# (tests/xen/domu-init.sh); every check is one "ok - ..." or "not ok - ..."
# line, and the last line is "N passed, N failed". Exit status 0 only when
# nothing failed. A hard timeout (VMEDIA_XEN_TIMEOUT, seconds) ends the
# whole run, QEMU included, so it can never hang CI.
#
# Environment:
#   VMEDIA_XEN_CACHE     cache folder (default $VMEDIA_SRC/build-xen)
#   VMEDIA_XEN_TIMEOUT   hard limit for the whole run (default 3600 s)
#   VMEDIA_XEN_BOOT_TIMEOUT  hard limit for the QEMU run (default 2400 s)
#   VMEDIA_XEN_CYCLES    create/stream/destroy cycles (default 20)
#   VMEDIA_XEN_ONLY      foreign or grants: only that guest scenario;
#                        cycles: neither (the lifecycle cycles always run)
#   VMEDIA_XEN_DEBUG=1   vmediad at log level debug, the guest library
#                        verbose (VMEDIA_SHIM_VERBOSE=1)
#   VMEDIA_XEN_MIRROR    Debian mirror (default http://deb.debian.org/debian)
#   VMEDIA_XEN_VERSION   xen source version to use (default: what the
#                        archive's bookworm Sources offer, newest first)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$HERE/../../scripts/lib.sh"

XC=${VMEDIA_XEN_CACHE:-$VMEDIA_SRC/build-xen}
TOTAL_TIMEOUT=${VMEDIA_XEN_TIMEOUT:-3600}

# The hard timeout: run the rest under timeout(1), which kills the whole
# process group (QEMU, debootstrap, make) when time is up.
if [ -z "${VMEDIA_XEN_INNER:-}" ]; then
	mkdir -p "$XC"
	rc=0
	VMEDIA_XEN_INNER=1 timeout -k 20 "$TOTAL_TIMEOUT" "$0" "$@" || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok - xen rig: the whole run exceeded ${TOTAL_TIMEOUT} s (VMEDIA_XEN_TIMEOUT) and was killed; see $XC/run/serial.log"
		echo "0 passed, 1 failed"
	fi
	exit "$rc"
fi

BOOT_TIMEOUT=${VMEDIA_XEN_BOOT_TIMEOUT:-2400}
CYCLES=${VMEDIA_XEN_CYCLES:-20}
MIRROR=${VMEDIA_XEN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${MIRROR%/debian}/debian-security
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
TRIPLET=aarch64-linux-gnu
ARM64_BUILD=$XC/arm64
RUN=$XC/run
T0=$EPOCHREALTIME

die() {
	echo "not ok - xen rig: $*"
	echo "0 passed, 1 failed"
	exit 1
}
trap 'die "run.sh failed at line $LINENO: $BASH_COMMAND (see the logs in $XC)"' ERR

# lap WHAT: one timing line for the host steps.
lap_t=$EPOCHREALTIME
lap() {
	local now=$EPOCHREALTIME
	printf '# time: %-28s %6.1f s (total %6.1f s)\n' "$1" \
		"$(echo "$now - $lap_t" | bc)" "$(echo "$now - $T0" | bc)"
	lap_t=$now
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mkfs.ext4 -d with root-owned files); run it as root"
mkdir -p "$XC/dl/debs" "$XC/dl/src" "$RUN"

# ---- host tools ------------------------------------------------------------
# bison/flex/python3: the hypervisor's Kconfig and build; dpkg-dev: for
# dpkg-source; debootstrap: the dom0 rootfs; bc: the timings.
install_deps qemu-system-arm debootstrap bison flex python3 dpkg-dev \
	gcc-$TRIPLET binutils-$TRIPLET libc6-dev-arm64-cross cpio e2fsprogs \
	kmod xz-utils bc gzip
lap "host packages"

# ---- a private apt state ---------------------------------------------------
# Binary lists for arm64 and the bookworm Sources (for `apt-get source
# xen`), without touching the host's sources or lists. Only bookworm main
# has deb-src here: the archive serves the source of the release's xen but
# not that of the security update (it 404s).
APT=$XC/apt
apt_x() { # apt-get|apt-cache ARGS...
	local tool=$1
	shift
	"$tool" -q -o Dir::State="$APT/state" \
		-o Dir::State::status="$APT/state/status" \
		-o Dir::Cache="$APT/cache" \
		-o Dir::Etc::SourceList="$APT/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent \
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}
apt_sources="deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [signed-by=$KEYRING] $SECURITY bookworm-security main
deb-src [signed-by=$KEYRING] $MIRROR bookworm main"
if [ "$(cat "$APT/sources.list" 2>/dev/null)" != "$apt_sources" ] ||
	[ ! -f "$APT/.updated" ]; then
	rm -rf "$APT"
	mkdir -p "$APT/state/lists/partial" "$APT/cache/archives/partial"
	touch "$APT/state/status"
	echo "$apt_sources" >"$APT/sources.list"
	apt_x apt-get update >"$XC/apt-update.log" 2>&1 ||
		die "apt-get update of the private arm64/deb-src state failed; see $XC/apt-update.log (network? mirror $MIRROR?)"
	touch "$APT/.updated"
fi

# ---- downloads: xen source, hypervisor (for its config), kernel, busybox --
DL=$XC/dl
if [ ! -f "$DL/.done" ]; then
	# The xen source: the version asked for, else every version bookworm's
	# Sources offer, newest first, until one downloads.
	versions=${VMEDIA_XEN_VERSION:-$(apt_x apt-cache showsrc xen 2>/dev/null |
		sed -n 's/^Version: //p' | sort -rV | uniq)}
	[ -n "$versions" ] || die "the archive offers no xen source package for bookworm; see $XC/apt-update.log"
	xenv=
	for v in $versions; do
		rm -f "$DL"/src/*
		if (cd "$DL/src" && apt_x apt-get source --download-only "xen=$v") \
			>"$XC/xen-source.log" 2>&1; then
			xenv=$v
			break
		fi
	done
	[ -n "$xenv" ] || die "no xen source version downloads ($versions); see $XC/xen-source.log"
	# The hypervisor of the same version (Debian's arm64 .config is the
	# start of the rebuild), else whatever the archive has.
	rm -f "$DL"/debs/*.deb
	kpkg=$(apt_x apt-cache depends linux-image-arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6[^ :]*\).*/\1/p' | head -n 1)
	[ -n "$kpkg" ] || die "cannot resolve linux-image-arm64 to a kernel package; see $XC/apt-update.log"
	(cd "$DL/debs" &&
		{ apt_x apt-get download "xen-hypervisor-4.17-arm64=$xenv" ||
			apt_x apt-get download xen-hypervisor-4.17-arm64; } &&
		apt_x apt-get download "$kpkg" busybox-static) >"$XC/download.log" 2>&1 ||
		die "downloading the arm64 hypervisor, kernel or busybox failed; see $XC/download.log"
	echo "$xenv $kpkg" >"$DL/.done"
fi
read -r XENV KPKG <"$DL/.done"
lap "downloads ($XENV, $KPKG)"

# ---- the kernel (dom0 and domU) and Debian's hypervisor config ------------
KDIR=$XC/kernel
if [ ! -f "$KDIR/.done" ]; then
	rm -rf "$KDIR" "$XC/xh"
	mkdir -p "$KDIR" "$XC/xh"
	dpkg-deb -x "$DL"/debs/"${KPKG}"_*_arm64.deb "$KDIR"
	dpkg-deb -x "$DL"/debs/xen-hypervisor-4.17-arm64_*_arm64.deb "$XC/xh"
	kv=$(ls "$KDIR/lib/modules/")
	depmod -b "$KDIR" "$kv"
	touch "$KDIR/.done"
fi
KVER=$(ls "$KDIR/lib/modules/")
KIMAGE=$(ls "$KDIR"/boot/vmlinuz-*)
lap "kernel $KVER"

# ---- the hypervisor: Debian's config + IOREQ server ------------------------
# On Arm, IOREQ_SERVER depends on UNSUPPORTED, which needs EXPERT. The
# source is unpacked in a scratch folder and deleted after the build:
# only the hypervisor image and its .config are kept.
XEN=$XC/xen-ioreq
if [ ! -f "$XEN" ] || [ "$(cat "$XEN.version" 2>/dev/null)" != "$XENV" ]; then
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmedia-xen-src.XXXXXX")
	dpkg-source -x "$DL"/src/xen_*.dsc "$scratch/xen" >"$XC/xen-build.log" 2>&1 ||
		die "dpkg-source -x of the xen source failed; see $XC/xen-build.log"
	m=(make -C "$scratch/xen/xen" XEN_TARGET_ARCH=arm64
		"CROSS_COMPILE=$TRIPLET-" PYTHON=/usr/bin/python3)
	cp "$XC"/xh/boot/xen-*-arm64.config "$scratch/xen/xen/.config"
	printf 'CONFIG_EXPERT=y\nCONFIG_UNSUPPORTED=y\nCONFIG_IOREQ_SERVER=y\n' \
		>>"$scratch/xen/xen/.config"
	{ "${m[@]}" olddefconfig && "${m[@]}" -j"$(nproc)" XEN_VENDORVERSION=-ioreq; } \
		>>"$XC/xen-build.log" 2>&1 ||
		die "the hypervisor build failed; see $XC/xen-build.log"
	grep -q '^CONFIG_IOREQ_SERVER=y' "$scratch/xen/xen/.config" ||
		die "CONFIG_IOREQ_SERVER did not stick in the hypervisor config; see $XC/xen-build.log"
	cp "$scratch/xen/xen/xen" "$XEN"
	cp "$scratch/xen/xen/.config" "$XEN.config"
	rm -rf "$scratch"
	echo "$XENV" >"$XEN.version"
fi
lap "hypervisor (IOREQ)"

# ---- the dom0 rootfs ------------------------------------------------------
# debootstrap --foreign downloads and unpacks the base; every downloaded
# .deb is then unpacked with dpkg-deb -x (no maintainer scripts, no
# qemu-user). The domU initramfs takes its programs and libraries from here
# too, so v4l-utils is in the list.
ROOT=$XC/rootfs
ROOT_PKGS=xen-utils-4.17,xenstore-utils,busybox,kmod,procps,v4l-utils,libv4l-0,libpng16-16
if [ "$(cat "$ROOT/.stamp" 2>/dev/null)" != "$ROOT_PKGS" ]; then
	rm -rf "$ROOT" "$ROOT.new"
	mkdir -p "$DL/debootstrap"
	debootstrap --arch=arm64 --variant=minbase --foreign \
		--cache-dir="$DL/debootstrap" --include="$ROOT_PKGS" \
		bookworm "$ROOT.new" "$MIRROR" >"$XC/debootstrap.log" 2>&1 ||
		die "debootstrap of the arm64 rootfs failed; see $XC/debootstrap.log"
	for d in "$ROOT.new"/var/cache/apt/archives/*.deb; do
		dpkg-deb -x "$d" "$ROOT.new" || die "cannot unpack $d"
	done
	rm -rf "$ROOT.new/debootstrap" "$ROOT.new"/var/cache/apt/archives/*.deb
	echo "$ROOT_PKGS" >"$ROOT.new/.stamp"
	mv "$ROOT.new" "$ROOT"
fi
lap "dom0 rootfs"

# ---- vmediad and the guest tools for arm64 ---------------------------------
VMEDIA_ARM64_BUILD=$ARM64_BUILD "$VMEDIA_SRC/scripts/cross-arm64.sh" \
	>"$XC/cross-arm64.log" 2>&1 ||
	die "scripts/cross-arm64.sh failed: $(grep -m1 'cross-arm64:' "$XC/cross-arm64.log" || tail -n 1 "$XC/cross-arm64.log")"
# The frame checker of the shim tests (a check program, not built by all).
make -C "$ARM64_BUILD" -s tests/integration/shim_frames >>"$XC/cross-arm64.log" 2>&1 ||
	die "building tests/integration/shim_frames for arm64 failed; see $XC/cross-arm64.log"
lap "cross-build (vmediad, guest tools)"

# ---- images ----------------------------------------------------------------
# The guest programs and the shared libraries they need, resolved in the
# rootfs (the cross-built ones need the same Debian libraries).
KMOD=$KDIR/lib/modules/$KVER
W=$RUN/stage
BUSYBOX_DEB=$(ls "$DL"/debs/busybox-static_*_arm64.deb | head -n 1)

# needed FILE: its NEEDED libraries.
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# copy_libs DEST FILE...: every library FILE needs, transitively, from the
# rootfs into DEST/usr/lib/$TRIPLET (DEST/lib links to usr/lib).
copy_libs() {
	local dest=$1 todo seen=" " lib f d
	shift
	todo=("$@")
	mkdir -p "$dest/usr/lib/$TRIPLET"
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for lib in $(needed "$f"); do
			case $seen in *" $lib "*) continue ;; esac
			seen="$seen$lib "
			d=
			for p in "$ROOT/usr/lib/$TRIPLET/$lib" "$ROOT/lib/$TRIPLET/$lib"; do
				[ -e "$p" ] && { d=$p; break; }
			done
			[ -n "$d" ] || die "$lib (needed by $(basename "$f")) is not in the arm64 rootfs; add its package to ROOT_PKGS in $0"
			cp -L "$d" "$dest/usr/lib/$TRIPLET/$lib"
			todo+=("$dest/usr/lib/$TRIPLET/$lib")
		done
	done
	cp -L "$ROOT/usr/lib/ld-linux-aarch64.so.1" "$dest/usr/lib/" 2>/dev/null ||
		cp -L "$ROOT/lib/ld-linux-aarch64.so.1" "$dest/usr/lib/"
}

# modules DEST LIST...: copy these modules (paths under kernel/) and their
# dependencies in load order; write DEST/etc/modules.order.
modules() {
	local dest=$1 order="" m
	shift
	add_mod() {
		local m=$1 d
		case " $order " in *" $m "*) return ;; esac
		for d in $(grep "^$m:" "$KMOD/modules.dep" | cut -d: -f2); do add_mod "$d"; done
		order="$order $m"
	}
	for m in "$@"; do
		grep -q "^$m:" "$KMOD/modules.dep" || die "kernel $KVER has no module $m"
		add_mod "$m"
	done
	mkdir -p "$dest/lib/modules/$KVER" "$dest/etc"
	: >"$dest/etc/modules.order"
	for m in $order; do
		cp "$KMOD/$m" "$dest/lib/modules/$KVER/"
		basename "$m" >>"$dest/etc/modules.order"
	done
}

# busybox_root DEST: the skeleton of an initramfs with busybox.
busybox_root() {
	local dest=$1
	rm -rf "$dest"
	mkdir -p "$dest"/{bin,sbin,proc,sys,dev,tmp,run,mnt/root,etc,usr/bin,usr/sbin,usr/lib}
	ln -s usr/lib "$dest/lib"
	dpkg-deb --fsys-tarfile "$BUSYBOX_DEB" | tar -xO ./bin/busybox >"$dest/bin/busybox"
	chmod +x "$dest/bin/busybox"
}

cpio_gz() { (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"; }

X=kernel/drivers/xen
# dom0: Xen device modules, the virtio-mmio disk of the board, ext4.
busybox_root "$W/dom0-initrd"
modules "$W/dom0-initrd" $X/xen-evtchn.ko $X/xen-privcmd.ko $X/xenfs/xenfs.ko \
	$X/xen-gntdev.ko $X/xen-gntalloc.ko kernel/drivers/virtio/virtio_mmio.ko \
	kernel/drivers/block/virtio_blk.ko kernel/crypto/crc32c_generic.ko \
	kernel/fs/ext4/ext4.ko
install -m755 "$HERE/dom0-initrd.sh" "$W/dom0-initrd/init"
cpio_gz "$W/dom0-initrd" "$RUN/dom0-initrd.gz"

# domU: busybox, gntalloc (grant mode), and the V4L2 programs with the
# userspace guest driver. No virtio_mmio: the guest driver owns the
# window through /dev/mem, which only works while no kernel driver does.
D=$W/domu-initrd
busybox_root "$D"
modules "$D" $X/xen-gntalloc.ko
progs=()
for p in usr/bin/v4l2-ctl usr/bin/v4l2-compliance bin/bash; do
	[ -f "$ROOT/$p" ] || [ -f "$ROOT/usr/$p" ] || die "$p is missing from the rootfs"
	src=$ROOT/$p
	[ -f "$src" ] || src=$ROOT/usr/$p
	install -m755 "$src" "$D/usr/bin/$(basename "$p")"
	progs+=("$D/usr/bin/$(basename "$p")")
done
mkdir -p "$D/usr/lib/vmedia"
for p in vmedia-capture vmedia-probe tests/integration/shim_frames; do
	install -m755 "$ARM64_BUILD/$p" "$D/usr/bin/$(basename "$p")"
	progs+=("$D/usr/bin/$(basename "$p")")
done
install -m755 "$ARM64_BUILD/vmedia-guest" "$D/usr/bin/vmedia-guest"
install -m644 "$ARM64_BUILD/libvmedia-shim.so" "$D/usr/lib/vmedia/libvmedia-shim.so"
progs+=("$D/usr/lib/vmedia/libvmedia-shim.so")
copy_libs "$D" "${progs[@]}"
install -m755 "$HERE/domu-init.sh" "$D/init"
cpio_gz "$D" "$RUN/domu-initrd.gz"

# dom0's disk: the rootfs plus the harness, vmediad, the domU's kernel and
# initramfs. A copy, so the cached rootfs stays pristine.
R=$W/dom0-root
rm -rf "$R"
cp -a "$ROOT" "$R"
rm -rf "$R/usr/share/doc" "$R/usr/share/man" "$R/usr/share/locale" "$R/usr/share/info"
install -m755 "$HERE/dom0-init.sh" "$R/rig-init.sh"
install -D -m755 "$HERE/dom0-scenarios.sh" "$R/rig/scenarios.sh"
install -D -m644 "$HERE/vmediad-rig.conf" "$R/rig/vmediad-rig.conf"
install -D -m755 "$ARM64_BUILD/vmediad" "$R/usr/local/sbin/vmediad"
printf 'CYCLES=%s\nONLY=%s\nDEBUG=%s\n' "$CYCLES" "${VMEDIA_XEN_ONLY:-}" \
	"${VMEDIA_XEN_DEBUG:-0}" >"$R/rig/params"
mkdir -p "$R/boot" "$R/etc/xen/rig"
cp "$KIMAGE" "$R/boot/domU-Image"
cp "$RUN/domu-initrd.gz" "$R/boot/domU-initrd.gz"
rm -f "$RUN/dom0.img"
size=$(($(du -sm "$R" | cut -f1) + 160))
mkfs.ext4 -q -F -L rigroot -d "$R" "$RUN/dom0.img" "${size}M" >"$XC/mkfs.log" 2>&1 ||
	die "mkfs.ext4 of the dom0 image failed; see $XC/mkfs.log"
rm -rf "$R"
lap "images (domU initrd $(du -h "$RUN/domu-initrd.gz" | cut -f1))"

# ---- boot ------------------------------------------------------------------
# One QEMU: Xen with the kernel and the dom0 initramfs as guest-loader
# modules, the dom0 image as a virtio-mmio disk. dom0 powers off at the end.
SERIAL=$RUN/serial.log
boot_start=$EPOCHREALTIME
qrc=0
timeout -k 5 "$BOOT_TIMEOUT" qemu-system-aarch64 \
	-machine virt,virtualization=on,gic-version=3 -cpu cortex-a57 -smp 2 -m 2048 \
	-nographic -no-reboot \
	-kernel "$XEN" \
	-append "dom0_mem=1024M console=dtuart loglvl=all guest_loglvl=all" \
	-device "guest-loader,addr=0x49000000,kernel=$KIMAGE,bootargs=console=hvc0 earlycon=xen rdroot=1 quiet" \
	-device guest-loader,addr=0x50000000,initrd="$RUN/dom0-initrd.gz" \
	-drive if=none,file="$RUN/dom0.img",format=raw,id=hd0 \
	-device virtio-blk-device,drive=hd0 \
	</dev/null >"$SERIAL" 2>&1 || qrc=$?
boot_secs=$(echo "$EPOCHREALTIME - $boot_start" | bc)
lap "QEMU run"

# ---- results ---------------------------------------------------------------
# dom0 prints "XT: ok - ...", "XT: not ok - ...", "XT: # ..." lines; the
# serial console may add carriage returns.
tr -d '\r' <"$SERIAL" | sed -n 's/^XT: //p' >"$RUN/results.txt"
pass=0 fail=0 skip=0
check() { # VERDICT TEXT
	if [ "$1" = ok ]; then
		pass=$((pass + 1))
		echo "ok - $2"
	else
		fail=$((fail + 1))
		echo "not ok - $2"
	fi
}
if grep -aq 'Xen version .*-ioreq' "$SERIAL"; then
	check ok "boot: Xen $(tr -d '\r' <"$SERIAL" | sed -n 's/.*Xen version \([^ ]*\).*/\1/p' | head -n 1) with the IOREQ server"
else
	check "not ok" "boot: the rebuilt hypervisor did not start; see $SERIAL"
fi
while IFS= read -r line; do
	case $line in
	"ok - "*"# SKIP"*) skip=$((skip + 1)); echo "$line" ;;
	"ok - "*) check ok "${line#ok - }" ;;
	"not ok - "*) check "not ok" "${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$RUN/results.txt"
if grep -q '^# end of scenarios' "$RUN/results.txt"; then
	check ok "the scenarios ran to the end and dom0 powered off (QEMU exit $qrc)"
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	check "not ok" "QEMU was killed after ${BOOT_TIMEOUT} s (VMEDIA_XEN_BOOT_TIMEOUT) before the scenarios ended; see $SERIAL"
else
	check "not ok" "the scenarios did not end (QEMU exit $qrc); see $SERIAL"
fi
printf '# time: boot-and-test (QEMU) %.1f s; whole run %.1f s\n' "$boot_secs" \
	"$(echo "$EPOCHREALTIME - $T0" | bc)"
[ "$skip" = 0 ] || echo "# $skip skipped"
echo "$pass passed, $fail failed"
trap - ERR
if [ "$fail" != 0 ]; then
	exit 1
fi
