#!/bin/busybox sh
# tests/xen/domu-init.sh: /init of the domU's initramfs (built by run.sh).
#
# Runs what the dom0 harness asked for on the kernel command line and
# prints everything on the console (hvc0, which xenconsoled logs in dom0):
#   vmt.mode=full    the device's registers through /dev/mem (busybox
#                    devmem), then V4L2 programs over the userspace guest
#                    driver: v4l2-ctl --all, v4l2-compliance -s (USERPTR
#                    allowed), v4l2-ctl USERPTR and MMAP captures whose
#                    frames are checked
#   vmt.mode=cycle   the registers and a short checked capture
#   vmt.grants=1     the guest driver shares its memory by grants
#                    (VMEDIA_GRANTS=1, /dev/xen/gntalloc)
# Lines: "VMT: REG ..." (values the harness checks), "VMT: ok - ..." /
# "VMT: not ok - ..." (checks made here), "VMT| ..." (program output, for
# the record) and "VMT-DONE" at the end. virtio_mmio is never loaded: the
# userspace driver can map the window only while no kernel driver owns it.
set -eu
# No folder: each applet goes where it belongs (/usr/bin/env for scripts).
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /tmp
K=$(uname -r)
# The guest driver's pool: VMEDIA_GUEST_RAM_MB locked pages (its default,
# 256 MiB, is most of this domU). In grant mode each page is a grant, and
# gntalloc refuses more than `limit` (1024 by default): 32 MiB = 8192.
POOL_MB=32
grep -q 'vmt.mode=cycle' /proc/cmdline && POOL_MB=16
for m in $(cat /etc/modules.order); do
	args=
	[ "$m" = xen-gntalloc.ko ] && args="limit=$((POOL_MB * 256 + 1024))"
	# shellcheck disable=SC2086 # no args or one
	insmod "/lib/modules/$K/$m" $args || echo "VMT: not ok - insmod $m failed"
done
# Locked pages must stay where pagemap said they are: no compaction of
# unevictable pages (see tools/guest/vg_xenguest_ram.c).
echo 0 >/proc/sys/vm/compact_unevictable_allowed
export PATH=/usr/bin:/bin:/sbin LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu
export VMEDIA_GUEST_RAM_MB=$POOL_MB

mode=full grants=0 base=0x2000000 frames=30
for w in $(cat /proc/cmdline); do
	case $w in
	vmt.mode=*) mode=${w#*=} ;;
	vmt.grants=*) grants=${w#*=} ;;
	vmt.base=*) base=${w#*=} ;;
	vmt.frames=*) frames=${w#*=} ;;
	vmt.verbose=1) export VMEDIA_SHIM_VERBOSE=1 ;;
	esac
done
up() { cut -d' ' -f1 /proc/uptime; }
echo "VMT: # domU up at $(up) s (uptime), mode $mode, grants $grants"

# ---- the registers (scenario a) -------------------------------------------
# word ADDR: one 32-bit read; the card name is 8 of them, little-endian.
word() { devmem "$1" 32; }
card=""
a=$((base + 0x108))
while [ $a -lt $((base + 0x128)) ]; do
	w=$(word $a)
	for s in 0 8 16 24; do
		c=$(((w >> s) & 0xff))
		[ $c = 0 ] && break 2
		card="$card$(printf "\\$(printf %03o $c)")"
	done
	a=$((a + 4))
done
echo "VMT: REG magic=$(word $base) version=$(word $((base + 4))) device=$(word $((base + 8))) vendor=$(word $((base + 12))) caps=$(word $((base + 0x100))) type=$(word $((base + 0x104))) card=$card"

# ---- V4L2 programs over the userspace guest driver (scenarios b, c) -------
# run LABEL CMD...: CMD's output for the record, its status returned.
run() {
	label=$1
	shift
	st=0
	"$@" >/tmp/out.txt 2>&1 || st=$?
	sed "s/^/VMT| $label: /" /tmp/out.txt
	return $st
}
if ! vmedia-guest --help 2>&1 | grep -q -- '--devmem'; then
	echo "VMT: ok - V4L2 programs over /dev/mem # SKIP this vmedia-guest has no --devmem (the guest driver's Xen transport has not landed)"
else
	guest="vmedia-guest --devmem $base"
	# Grants to the backend in dom0 (VMEDIA_BACKEND_DOMID's default).
	[ "$grants" = 1 ] && guest="$guest --grants"
	mem="foreign mapping"
	[ "$grants" = 1 ] && mem="grants"
	t=$(up)
	if [ "$mode" = full ]; then
		if run all $guest -- v4l2-ctl -d /dev/video-vmedia0 --all &&
			grep -q 'Driver name *: virtio-media' /tmp/out.txt; then
			echo "VMT: ok - v4l2-ctl --all ($mem): $(sed -n 's/^[[:space:]]*Card type *: //p' /tmp/out.txt | head -n 1)"
		else
			echo "VMT: not ok - v4l2-ctl --all ($mem) failed"
		fi
		t1=$(up)
		if run compliance $guest --userptr -- v4l2-compliance -d /dev/video-vmedia0 -s &&
			grep -q 'Failed: 0' /tmp/out.txt; then
			echo "VMT: ok - v4l2-compliance -s, USERPTR ($mem): $(grep 'Total for' /tmp/out.txt | tail -n 1) [$(awk "BEGIN{print $(up) - $t1}") s]"
		else
			echo "VMT: not ok - v4l2-compliance -s, USERPTR ($mem): $(grep 'Total for' /tmp/out.txt | tail -n 1)"
			grep -E 'fail:|FAIL' /tmp/out.txt | head -n 20 | sed 's/^/VMT: # /'
		fi
	fi
	t1=$(up)
	rm -f /tmp/cap.raw
	if run capture $guest --userptr -- v4l2-ctl -d /dev/video-vmedia0 \
		--set-fmt-video=width=640,height=480,pixelformat=YUYV \
		--stream-user --stream-count="$frames" --stream-to=/tmp/cap.raw &&
		run frames shim_frames /tmp/cap.raw YUYV 640 480 "$frames"; then
		echo "VMT: ok - v4l2-ctl --stream-user: $frames frames ($mem), stamps checked: $(tail -n 1 /tmp/out.txt) [$(awk "BEGIN{print $(up) - $t1}") s]"
	else
		echo "VMT: not ok - v4l2-ctl --stream-user: $frames frames ($mem): $(tail -n 1 /tmp/out.txt)"
	fi
	if [ "$mode" = full ]; then
		# MMAP buffers: pages vmediad adds to this guest's SHM window.
		t1=$(up)
		rm -f /tmp/cap.raw
		if run capture-mmap $guest -- v4l2-ctl -d /dev/video-vmedia0 \
			--set-fmt-video=width=640,height=480,pixelformat=YUYV \
			--stream-mmap --stream-count="$frames" --stream-to=/tmp/cap.raw &&
			run frames shim_frames /tmp/cap.raw YUYV 640 480 "$frames"; then
			echo "VMT: ok - v4l2-ctl --stream-mmap: $frames frames ($mem, SHM window), stamps checked: $(tail -n 1 /tmp/out.txt) [$(awk "BEGIN{print $(up) - $t1}") s]"
		else
			echo "VMT: not ok - v4l2-ctl --stream-mmap: $frames frames ($mem, SHM window): $(tail -n 1 /tmp/out.txt)"
		fi
	fi
	if [ "$mode" = cycle ]; then
		# Issue #9: MMAP buffers populated into the SHM window and given
		# back each cycle; dom0 checks the guest's memory accounting.
		if run capture-mmap $guest -- v4l2-ctl -d /dev/video-vmedia0 \
			--set-fmt-video=width=640,height=480,pixelformat=YUYV \
			--stream-mmap --stream-count="$frames" --stream-to=/tmp/cap.raw &&
			run frames shim_frames /tmp/cap.raw YUYV 640 480 "$frames"; then
			echo "VMT: ok - v4l2-ctl --stream-mmap: $frames frames ($mem, SHM window)"
		else
			echo "VMT: not ok - v4l2-ctl --stream-mmap: $frames frames ($mem, SHM window): $(tail -n 1 /tmp/out.txt)"
		fi
	fi
	if [ "$mode" = full ]; then
		# Benchmark (emulated: the ratio is the figure): 720p, MMAP
		# (SHM window) against USERPTR (guest pages mapped per frame).
		g=""
		[ "$grants" = 1 ] && g=--grants
		for how in mmap userptr; do
			u=""
			[ $how = userptr ] && u=-u
			if run bench-$how vmedia-capture --devmem "$base" $g $u \
				-S 1280x720 -f YUYV -n 20; then
				echo "VMT: # bench 720p $how ($mem): $(grep '^captured' /tmp/out.txt)"
			else
				echo "VMT: not ok - bench 720p $how ($mem): $(tail -n 1 /tmp/out.txt)"
			fi
		done
	fi
	echo "VMT: # guest programs took $(awk "BEGIN{print $(up) - $t}") s"
fi
echo "VMT-DONE at $(up) s"
# The harness destroys the domain; stay up until then.
while :; do sleep 3600; done
