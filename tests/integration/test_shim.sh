#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Unmodified V4L2 tools on vmediad through libvmedia-shim.so (TAP).
#
# For vcam single-planar and multi-planar (unpaced): v4l2-ctl --all, a
# 30-frame capture in MMAP and in USERPTR memory whose frames must carry
# vcam's stamp (tests/integration/shim_frames), and v4l2-compliance -s
# with MMAP only (the default: allow_userptr off, as Linux) and with
# VMEDIA_ALLOW_USERPTR=1, and GStreamer's v4l2src when installed. Each
# v4l2-compliance total is printed.
#
# Needs $VMEDIAD (make check exports it); the shim and the frame checker
# are found next to it (or at $VMEDIA_SHIM_SO, $VMEDIA_SHIM_FRAMES,
# $VMEDIA_SHIM_PROBE). tests/integration/shim_probe checks what the
# tools do not: EFAULT, dup/close, poll timeouts, epoll, fork, syscall(). Without v4l2-ctl everything is skipped, without
# v4l2-compliance its points are.

set -u

: "${VMEDIAD:?VMEDIAD must point at the vmediad binary}"
top=$(cd "$(dirname "$VMEDIAD")" && pwd)
shim=${VMEDIA_SHIM_SO:-$top/libvmedia-shim.so}
frames=${VMEDIA_SHIM_FRAMES:-$top/tests/integration/shim_frames}
probe=${VMEDIA_SHIM_PROBE:-$top/tests/integration/shim_probe}
tmo=300
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }

if ! command -v v4l2-ctl >/dev/null 2>&1; then
	echo "1..0 # SKIP v4l2-ctl not installed (apt-get install v4l-utils)"
	exit 0
fi
if [ ! -f "$shim" ] || [ ! -x "$frames" ] || [ ! -x "$probe" ]; then
	echo "1..0 # SKIP the shim or its test programs are not built"
	exit 0
fi

work=$(mktemp -d /tmp/vmedia-shim.XXXXXX)
pid=
stop_daemon() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
trap 'stop_daemon; rm -rf "$work"' EXIT

# start_daemon DEVICE_SPEC: vmediad on its own socket, ready to serve.
start_daemon() {
	sock=$work/sock
	rm -f "$sock"
	"$VMEDIAD" --test-socket "$sock" --device "$1" \
		>"$work/vmediad.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	return 1
}

# run ENV... -- TOOL ARGS...: the tool with the shim preloaded.
run() {
	env LD_PRELOAD="$shim" VMEDIA_SOCKET="$sock" "$@"
}

check_all() { # LABEL
	out=$work/all.txt
	if run timeout -s KILL $tmo v4l2-ctl -d /dev/video-vmedia0 --all \
		>"$out" 2>&1 &&
		grep -q 'Driver name *: virtio-media' "$out" &&
		grep -q 'Bus info *: platform:virtio-media' "$out"; then
		ok "$1: v4l2-ctl --all"
	else
		not_ok "$1: v4l2-ctl --all"
		diag <"$out"
	fi
}

check_capture() { # LABEL FOURCC MEMORY(mmap|user) [ENV...]
	label=$1 fourcc=$2 mem=$3
	shift 3
	raw=$work/cap.raw
	rm -f "$raw"
	if run "$@" timeout -s KILL $tmo v4l2-ctl -d /dev/video-vmedia0 \
		--set-fmt-video=width=640,height=480,pixelformat="$fourcc" \
		--stream-"$mem" --stream-count=30 --stream-to="$raw" \
		>"$work/cap.txt" 2>&1 &&
		"$frames" "$raw" "$fourcc" 640 480 30 >"$work/frames.txt"; then
		ok "$label: 30 frames ($mem) $(cat "$work/frames.txt")"
	else
		not_ok "$label: 30 frames ($mem)"
		cat "$work/cap.txt" "$work/frames.txt" 2>/dev/null | diag
	fi
}

check_compliance() { # LABEL [ENV...]
	label=$1
	shift
	if ! command -v v4l2-compliance >/dev/null 2>&1; then
		ok "$label: v4l2-compliance # SKIP not installed"
		return
	fi
	log=$work/compliance.txt
	run "$@" timeout -s KILL $tmo v4l2-compliance -d /dev/video-vmedia0 \
		-s >"$log" 2>&1
	rc=$?
	total=$(grep '^Total for' "$log" | tail -n 1)
	echo "# $label: ${total:-no totals (exit $rc)}"
	case "$total" in
	*"Failed: 0,"*) ok "$label: v4l2-compliance -s" ;;
	*)
		grep -E 'fail:|FAIL' "$log" | diag
		not_ok "$label: v4l2-compliance -s"
		;;
	esac
}

check_gst() { # LABEL FOURCC: GStreamer's v4l2src, when installed
	if ! command -v gst-launch-1.0 >/dev/null 2>&1; then
		ok "$1: GStreamer v4l2src # SKIP gst-launch-1.0 not installed"
		return
	fi
	raw=$work/gst.raw
	rm -f "$raw"
	gst=$2
	[ "$2" = YUYV ] && gst=YUY2
	if run timeout -s KILL $tmo gst-launch-1.0 -q v4l2src \
		device=/dev/video-vmedia0 num-buffers=30 ! \
		video/x-raw,format="$gst",width=640,height=480 ! \
		filesink location="$raw" >"$work/gst.txt" 2>&1 &&
		"$frames" "$raw" "$2" 640 480 30 >"$work/frames.txt"; then
		ok "$1: GStreamer v4l2src $(cat "$work/frames.txt")"
	else
		not_ok "$1: GStreamer v4l2src"
		cat "$work/gst.txt" "$work/frames.txt" 2>/dev/null | diag
	fi
}

check_probe() { # LABEL
	if run timeout -s KILL $tmo "$probe" >"$work/probe.txt" 2>&1; then
		ok "$1: shim_probe ($(grep -c '^PASS' "$work/probe.txt") checks)"
	else
		not_ok "$1: shim_probe"
		diag <"$work/probe.txt"
	fi
}

variant() { # LABEL DEVICE FOURCC
	if ! start_daemon "$2"; then
		not_ok "$1: vmediad did not start"
		diag <"$work/vmediad.log"
		return
	fi
	check_all "$1"
	[ "$3" = YUYV ] && check_probe "$1"
	check_capture "$1" "$3" mmap
	check_capture "$1" "$3" user VMEDIA_ALLOW_USERPTR=1
	check_gst "$1" "$3"
	check_compliance "$1 MMAP"
	check_compliance "$1 MMAP+USERPTR" VMEDIA_ALLOW_USERPTR=1
	stop_daemon
}

# The driver's RAM scattered page by page, as inside a real Xen guest:
# every ring, command, SG list and USERPTR plane reaches the device split
# at page boundaries (tools/guest/vg_transport.h, dma_addr).
scattered() { # LABEL DEVICE FOURCC
	scatter="VMEDIA_SCATTER_RAM=1 VMEDIA_GUEST_RAM_MB=64"
	if ! start_daemon "$2"; then
		not_ok "$1: vmediad did not start"
		diag <"$work/vmediad.log"
		return
	fi
	# shellcheck disable=SC2086 # $scatter is a list of assignments
	check_capture "$1" "$3" mmap $scatter
	# shellcheck disable=SC2086
	check_capture "$1" "$3" user VMEDIA_ALLOW_USERPTR=1 $scatter
	# shellcheck disable=SC2086
	check_compliance "$1 MMAP+USERPTR" VMEDIA_ALLOW_USERPTR=1 $scatter
	stop_daemon
}

variant "single-planar" vcam:unpaced YUYV
variant "multi-planar" vcam:mplane,unpaced NV12
scattered "scattered RAM, single-planar" vcam:unpaced YUYV
scattered "scattered RAM, multi-planar" vcam:mplane,unpaced NV12
echo "1..$n"
exit $failed
