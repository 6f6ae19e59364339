#!/usr/bin/env bash
# The host V4L2 proxy against a real V4L2 driver: boot Debian 12's kernel
# under QEMU (TCG: no KVM here), load vivid, and run vm-test.sh inside the
# VM against the binaries of BUILD_DIR: v4l2-compliance directly on
# vivid's nodes and through vmediad's v4l2 proxy + the userspace guest
# driver, two proxied streams at once, and the benchmarks.
#
# Usage: tests/vivid/run.sh [BUILD_DIR]     (default: $VMEDIA_SRC/build)
#
# The VM shares the host's root read-only over virtio-9p and chroots into
# it, so it runs the host's v4l-utils and the freshly built vmediad, shim
# and vmedia-guest, with nothing copied. Only the kernel (Debian's
# linux-image-6.1.0-*-amd64, which ships vivid as a module) is downloaded,
# once, into $VMEDIA_VM_CACHE (default $VMEDIA_SRC/build-vm); a warm run
# downloads nothing.
#
# Output: the test's "ok - ..."/"not ok - ..." lines and one final line
# "N passed, N failed"; exit status 0 only when nothing failed. The VM's
# console goes to BUILD_DIR/tests/vivid/console.log, the tools' full
# outputs to BUILD_DIR/tests/vivid/ (the VM writes there through a second 9p share).
#
# Environment: VMEDIA_VIVID_TIMEOUT (seconds for the whole VM, default
# 900), VMEDIA_VM_CACHE, VMEDIA_VIVID_ONLY (a space-separated subset of the
# stages: compliance concurrent bench), VMEDIA_VIVID_BACKEND (what the
# proxied runs use: default "v4l2" when vmediad knows it, else the test
# reports the proxy as missing; "vcam" runs the same stages against the
# built-in camera, to check the rig itself), VMEDIA_VIVID_SCRIPT (run this
# script in the VM instead of vm-test.sh).
. "$(dirname "$0")/../../scripts/lib.sh"

here=$VMEDIA_SRC/tests/vivid
build_dir=$(cd "${1:-$VMEDIA_SRC/build}" 2>/dev/null && pwd) || {
	echo "vivid: build folder ${1:-$VMEDIA_SRC/build} not found (run scripts/check.sh first)" >&2
	exit 2
}
vmcache=${VMEDIA_VM_CACHE:-$VMEDIA_SRC/build-vm}
timeout_s=${VMEDIA_VIVID_TIMEOUT:-900}
out=$build_dir/tests/vivid
# Another in-VM script instead of vm-test.sh (debugging the rig).
test_script=${VMEDIA_VIVID_SCRIPT:-$here/vm-test.sh}
t_start=$(date +%s%N)

# elapsed: seconds since t_start, one decimal.
elapsed() { awk -v a="$t_start" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }
say() { echo "vivid: $*"; }
die() {
	echo "vivid: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

for f in vmediad libvmedia-shim.so vmedia-guest; do
	[ -e "$build_dir/$f" ] || die "$build_dir/$f is missing (build first: scripts/check.sh)"
done
# The VM sees the host's files under the same paths; 9p and the kernel
# command line both need them free of blanks.
case $build_dir$here$test_script in *[[:space:],]*) die "paths with blanks or commas are not supported: $build_dir" ;; esac

# qemu-system-x86: the VM; busybox-static: the initramfs; kmod: depmod and
# modprobe --show-depends for vivid's dependencies; cpio: the initramfs;
# time: CPU time of the benchmarked processes.
install_deps qemu-system-x86 busybox-static kmod cpio time

# v4l2-compliance 1.32 from sid (private cache, as tests/compliance): an
# extra column, not a requirement.
sid_tool=$("$VMEDIA_SRC/scripts/sid-v4l-utils.sh" --quiet 2>/dev/null) || sid_tool=

# ---- the kernel -------------------------------------------------------------
mkdir -p "$vmcache/debs"
deb=$(ls "$vmcache"/debs/linux-image-6.1.0-*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$deb" ]; then
	# linux-image-amd64 is the metapackage; it depends on the current ABI.
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		apt-get update -qq
		pkg=$(apt-cache depends linux-image-amd64 |
			sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1)
	fi
	[ -n "$pkg" ] || die "cannot tell which linux-image-6.1.0-*-amd64 linux-image-amd64 needs"
	say "downloading $pkg"
	# As root, apt downloads as _apt, which cannot write into this folder.
	(cd "$vmcache/debs" && apt-get -q -o APT::Sandbox::User=root download "$pkg") \
		>"$vmcache/download.log" 2>&1 || { cat "$vmcache/download.log" >&2; die "apt-get download $pkg failed"; }
	deb=$(ls "$vmcache"/debs/linux-image-6.1.0-*-amd64_*_amd64.deb | sort -V | tail -n 1)
fi
kver=$(dpkg-deb -f "$deb" Package | sed 's/^linux-image-//')

# The modules the VM loads, in load order: the 9p root's transport, then
# vivid's dependencies (from modules.dep, via modprobe --show-depends).
# vivid itself is loaded last by init.sh, with its options.
boot_modules="virtio_pci 9pnet_virtio 9p"
kdir=$vmcache/kernel-$kver
stamp="$(basename "$deb") $(md5sum <"$here/init.sh" | cut -c1-32) $boot_modules"
if [ "$(cat "$kdir/stamp" 2>/dev/null)" != "$stamp" ]; then
	say "building the initramfs for $kver"
	rm -rf "$kdir"
	mkdir -p "$kdir/unpacked" "$kdir/root/modules" "$kdir/root/bin"
	dpkg-deb -x "$deb" "$kdir/unpacked"
	# The package leaves modules.dep to its postinst.
	depmod -b "$kdir/unpacked" "$kver"
	: >"$kdir/root/modules.order"
	for m in $boot_modules vivid; do
		modprobe -d "$kdir/unpacked" -S "$kver" --show-depends "$m" |
			awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' >"$kdir/list"
	while read -r ko; do
		cp "$ko" "$kdir/root/modules/"
		[ "$(basename "$ko")" = vivid.ko ] || basename "$ko" >>"$kdir/root/modules.order"
	done <"$kdir/list"
	cp "$kdir/unpacked/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	cp /bin/busybox "$kdir/root/bin/busybox"
	cp "$here/init.sh" "$kdir/root/init"
	chmod 755 "$kdir/root/init"
	mkdir -p "$kdir/root/proc" "$kdir/root/sys" "$kdir/root/dev" "$kdir/root/hostroot"
	(cd "$kdir/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$kdir/initrd.gz"
	rm -rf "$kdir/unpacked" "$kdir/list"
	echo "$stamp" >"$kdir/stamp"
fi
say "kernel $kver ready after $(elapsed) s"

# ---- the VM -----------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
console=$out/console.log

# vivid: four instances, each with a capture and an output node. The
# compliance stage gives each tool x node pair its own instance and runs
# them side by side (nodes of one instance share controls, which the tool
# sets and reads back); the concurrent stage streams two capture nodes and
# an output node at once (vivid lets one file handle stream on a queue);
# the benchmarks use instance 0's capture node. no_error_inj:
# v4l2-compliance would otherwise set the error-injection controls, e.g.
# "Disconnect", which unregisters the device mid-run. Single-planar
# (multiplanar=1, the default).
vivid="n_devs=4,node_types=0x101%0x101%0x101%0x101,no_error_inj=1"
backend=${VMEDIA_VIVID_BACKEND:-}
env_words="VMEDIA_VIVID_BUILD=$build_dir,VMEDIA_VIVID_OUT=$out"
[ -z "$sid_tool" ] || env_words="$env_words,V4L2_COMPLIANCE_SID=$sid_tool"
[ -z "$backend" ] || env_words="$env_words,VMEDIA_VIVID_BACKEND=$backend"
[ -z "${VMEDIA_VIVID_ONLY:-}" ] || env_words="$env_words,VMEDIA_VIVID_ONLY=${VMEDIA_VIVID_ONLY// /+}"
append="console=ttyS0 panic=-1 loglevel=4 vmedia_test=$test_script vmedia_out=$out"
append="$append vmedia_vivid=$vivid vmedia_env=$env_words vmedia_keep=$VMEDIA_SRC,$build_dir,$(dirname "$test_script")"

say "booting the VM (console: $console, timeout ${timeout_s} s)"
t_boot=$(date +%s%N)
rc=0
# -no-reboot with panic=-1: a kernel panic ends QEMU instead of looping.
# multidevs=remap: / spans several host file systems (/proc, /sys, ...);
# without it their inode numbers could collide inside the guest.
timeout -s KILL "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 \
	-nographic -no-reboot -nic none \
	-kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.gz" -append "$append" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=out,path="$out",security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=out,mount_tag=out \
	</dev/null >"$console" 2>&1 || rc=$?
vm_secs=$(awk -v a="$t_boot" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')

# The test's own lines, without the console's carriage returns.
tr -d '\r' <"$console" | grep -E '^(ok|not ok) - |^# ' || true
vm_status=$(tr -d '\r' <"$console" | sed -n 's/^vmedia-vm: exit \([0-9]*\)$/\1/p' | tail -n 1)
pass=$(tr -d '\r' <"$console" | grep -c '^ok - ' || true)
fail=$(tr -d '\r' <"$console" | grep -c '^not ok - ' || true)
say "VM ran ${vm_secs} s (QEMU status $rc), whole run $(elapsed) s"
if [ "$rc" = 137 ]; then
	echo "not ok - the VM finished within ${timeout_s} s (killed)"
	fail=$((fail + 1))
elif [ -z "$vm_status" ]; then
	echo "not ok - the VM's test script ran to its end (no exit line on the console)"
	fail=$((fail + 1))
elif [ "$vm_status" != 0 ] && [ "$fail" = 0 ]; then
	echo "not ok - the VM's test script exited with status $vm_status"
	fail=$((fail + 1))
fi
if [ "$fail" != 0 ] || [ "$pass" = 0 ]; then
	echo "---- last 40 lines of $console"
	tr -d '\r' <"$console" | tail -n 40
	[ "$pass" != 0 ] || [ "$fail" != 0 ] || fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
