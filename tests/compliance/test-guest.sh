#!/usr/bin/env bash
# shellcheck disable=SC2016 # the sh -c scripts expand in the child
# TAP: the vmedia-guest wrapper. It starts vmediad, hands COMMAND the
# socket and the preload, passes COMMAND's exit status through and stops
# the daemon. With the guest library built, v4l2-ctl also runs through it.
# Environment: VMEDIA_GUEST (default ./vmedia-guest), VMEDIAD, VMEDIA_SHIM.
set -euo pipefail

guest=${VMEDIA_GUEST:-./vmedia-guest}
if [ ! -x "$guest" ]; then
	echo "1..0 # SKIP vmedia-guest is not built (set VMEDIA_GUEST)"
	exit 0
fi
shim=${VMEDIA_SHIM:-}
if [ -z "$shim" ]; then
	for c in ./libvmedia-shim.so ./tools/shim/libvmedia-shim.so; do
		[ -f "$c" ] && { shim=$(cd "$(dirname "$c")" && pwd)/$(basename "$c"); break; }
	done
fi
real_shim=$shim
if [ -z "$shim" ]; then
	# Without the guest library, the wrapper's own logic is still tested
	# with a harmless stand-in preload: the C library itself.
	shim=$(ldd /bin/sh | awk '$1 ~ /^libc\.so/ {print $3}')
fi
g=("$guest" --shim "$shim")
[ -z "${VMEDIAD:-}" ] || g+=(--vmediad "$VMEDIAD")

echo "1..7"
n=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

# 1-2: COMMAND sees a live socket and the preload; the daemon goes away.
out=$("${g[@]}" -- sh -c '[ -S "$VMEDIA_SOCKET" ] && echo "$VMEDIA_SOCKET $LD_PRELOAD"' 2>&1) && st=0 || st=$?
sock=${out%% *}
check "$st" "COMMAND runs with VMEDIA_SOCKET=<live socket> and LD_PRELOAD ($out)"
case " $out" in *" $shim"*) st=0 ;; *) st=1 ;; esac
[ -n "$sock" ] && [ ! -e "$sock" ] || st=1
check "$st" "LD_PRELOAD starts with the guest library; the socket is gone afterwards"

# 3: the exit status is COMMAND's.
"${g[@]}" -- sh -c 'exit 7' && st=0 || st=$?
[ "$st" = 7 ] && st=0 || st=1
check "$st" "exit status passes through (7)"

# 4: a bad --device: vmediad does not start, status 125, its reason shown.
out=$("${g[@]}" --device no-such-backend -- true 2>&1) && st=0 || st=$?
if [ "$st" = 125 ] && grep -q 'unknown backend' <<<"$out"; then st=0; else st=1; fi
check "$st" "vmediad failing to start gives 125 and its message"

# 5: --socket uses a running daemon and starts none.
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmedia-guest-test.XXXXXX")
vmediad=${VMEDIAD:-./vmediad}
"$vmediad" --test-socket "$dir/sock" >"$dir/log" 2>&1 &
dpid=$!
for ((i = 0; i < 400; i++)); do [ -S "$dir/sock" ] && break; sleep 0.025; done
out=$("${g[@]}" --socket "$dir/sock" -- sh -c 'echo "$VMEDIA_SOCKET"' 2>&1) && st=0 || st=$?
[ "$st" = 0 ] && [ "$out" = "$dir/sock" ] && kill -0 "$dpid" 2>/dev/null || st=1
check "$st" "--socket connects to a running vmediad and leaves it running"
kill -TERM "$dpid" 2>/dev/null || true
wait "$dpid" 2>/dev/null || true
rm -rf "$dir"

# 6: usage text.
"$guest" --help | grep -q '^SYNOPSIS' && st=0 || st=$?
check "$st" "--help prints the manual"

# 7: a real V4L2 program through the guest library.
n=$((n + 1))
if [ -z "$real_shim" ]; then
	echo "ok $n # SKIP libvmedia-shim.so is not built"
elif ! command -v v4l2-ctl >/dev/null; then
	echo "ok $n # SKIP v4l2-ctl not installed (apt-get install v4l-utils)"
else
	out=$("${g[@]}" -- timeout -s KILL 60 v4l2-ctl -d /dev/video-vmedia0 --all 2>&1) && st=0 || st=$?
	if [ "$st" = 0 ] && grep -q 'Driver name' <<<"$out"; then
		echo "ok $n - v4l2-ctl --all through vmedia-guest"
	else
		echo "not ok $n - v4l2-ctl --all through vmedia-guest (status $st)"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
	fi
fi
