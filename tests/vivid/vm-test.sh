#!/usr/bin/env bash
# Runs inside the vivid VM (run.sh boots it; init.sh chroots into the
# host's root and starts this), against the kernel's vivid driver:
#   compliance  v4l2-compliance -s on each vivid node, directly and
#               through vmediad's v4l2 proxy + the userspace guest driver;
#               fails when the proxied run fails a test the direct run
#               passes
#   concurrent  three guests streaming at once through one vmediad
#   bench       1920x1080 capture, direct vs proxied, MMAP and USERPTR:
#               frames per second and CPU time per frame
# Prints "ok - ..."/"not ok - ..." per check and "# ..." notes; the exit
# status is the number of failed checks (capped at 100).
#
# Environment (set by run.sh through the kernel command line):
# VMEDIA_VIVID_BUILD (the build folder), VMEDIA_VIVID_OUT (where the full
# outputs go), V4L2_COMPLIANCE_SID (sid's v4l2-compliance wrapper, if
# any), VMEDIA_VIVID_BACKEND (v4l2, or vcam to test the rig without the
# proxy), VMEDIA_VIVID_ONLY (stages to run, '+'-separated),
# VMEDIA_VIVID_FRAMES (frames per benchmark run, default 30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../compliance/compliance-lib.sh
. "$here/../compliance/compliance-lib.sh"

B=${VMEDIA_VIVID_BUILD:?}
O=${VMEDIA_VIVID_OUT:?}
only=" ${VMEDIA_VIVID_ONLY:-compliance+concurrent+bench} "
only=${only//+/ }
frames=${VMEDIA_VIVID_FRAMES:-30}
vmediad=$B/vmediad
shim=$B/libvmedia-shim.so
guest=$B/vmedia-guest
export LC_ALL=C
# Each tool run is killed after this long; the VM as a whole has run.sh's
# timeout on top.
run_timeout=300

pass=0
fail=0
ok() {
	echo "ok - $*"
	pass=$((pass + 1))
}
# replay FILE: print the lines a background job wrote and count its checks.
replay() {
	local l
	while IFS= read -r l; do
		case $l in
		"ok - "*) pass=$((pass + 1)) ;;
		"not ok - "*) fail=$((fail + 1)) ;;
		esac
		printf '%s\n' "$l"
	done <"$1"
}
notok() {
	echo "not ok - $*"
	fail=$((fail + 1))
}
note() { echo "# $*"; }
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }
stage_on() { [[ $only == *" $1 "* ]]; }

# Kill whatever we started if the script stops early.
started=()
cleanup() {
	local p
	for p in "${started[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	return 0
}
trap cleanup EXIT

# ---- vivid's nodes, by name (numbering depends on module load order) ------
node_of() {
	local d
	for d in /sys/class/video4linux/video*; do
		[ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && { echo "/dev/$(basename "$d")"; return 0; }
	done
	return 1
}
# Four instances, each with a capture and an output node.
declare -A cap=() out=()
missing=
for i in 0 1 2 3; do
	cap[$i]=$(node_of "vivid-00$i-vid-cap") || missing="$missing vivid-00$i-vid-cap"
	out[$i]=$(node_of "vivid-00$i-vid-out") || missing="$missing vivid-00$i-vid-out"
done
if [ -z "$missing" ]; then
	ok "vivid nodes: instances 0-3 capture ${cap[0]} ${cap[1]} ${cap[2]} ${cap[3]}, output ${out[0]} ${out[1]} ${out[2]} ${out[3]}"
else
	notok "vivid nodes missing:$missing"
	exit 1
fi
cap0=${cap[0]} cap1=${cap[1]} out0=${out[0]}

# ---- the proxy ----------------------------------------------------------------
backend=${VMEDIA_VIVID_BACKEND:-}
if [ -z "$backend" ]; then
	# vmediad names the backends it knows when given one it does not.
	probe=$("$vmediad" --no-xen --test-socket /nonexistent/sock --device vmedia-no-such-backend 2>&1 || true)
	if [[ $probe == *known:*v4l2* ]]; then
		backend=v4l2
	else
		backend=none
		notok "vmediad has a v4l2 backend (it says: ${probe##*known: })"
	fi
fi
# spec NODE: the --device spec that serves NODE.
spec() {
	case $backend in
	v4l2) echo "v4l2:$1" ;;
	*) echo "$backend" ;; # vcam: the rig without the proxy
	esac
}
[ "$backend" = v4l2 ] || note "proxied runs use --device $(spec /dev/videoN), not the proxy"

preload=$shim
rundir=$(mktemp -d /tmp/vivid-test.XXXXXX)

# start_daemon NAME SPEC...: vmediad on its own socket, one device per SPEC.
start_daemon() {
	local name=$1 s args=()
	shift
	for s in "$@"; do args+=(--device "$s"); done
	mkdir -p "$rundir/$name"
	if vmc_start_daemon "$rundir/$name" "$O/$name.vmediad.log" "$vmediad" --no-xen "${args[@]}"; then
		started+=("$VMC_DAEMON_PID")
		return 0
	fi
	return 1
}

# cpu_ticks PID: user+sys clock ticks of PID (all its threads) so far.
cpu_ticks() {
	awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK)

# ---- compliance ---------------------------------------------------------------
# tests/vivid/guest-differences: "TEST :: reason" lines for failures that
# the virtio-media guest driver (and the V4L2 core above it) causes on
# any device; they are reported, never counted against the proxy.
differences=$here/guest-differences

# guest_differences FAILED: the listed tests among those in file FAILED.
guest_differences() {
	sed -n 's/^\([^#].*[^ ]\) *:: .*/\1/p' "$differences" | sort -u |
		comm -12 - "$1"
}

guest_reason() {
	awk -v t="$1" -F ' *:: *' '$1 == t {print $2}' "$differences"
}

# compliance TOOLNAME TOOL NODE LABEL
compliance() {
	local tname=$1 tool=$2 node=$3 label=$4 ver d p dt pt rc t0 secs
	ver=$(vmc_version "$tool")
	d=$O/compliance-$tname-$label-direct.log
	p=$O/compliance-$tname-$label-proxied.log

	t0=$(now_ns)
	rc=0
	timeout -s KILL "$run_timeout" "$tool" -d "$node" -s >"$d" 2>&1 </dev/null || rc=$?
	secs=$(secs_since "$t0")
	if dt=$(vmc_totals "$d"); then
		read -r total okc failc warnc <<<"$dt"
		ok "direct v4l2-compliance $ver $label ($node): $okc/$total succeeded, $failc failed, $warnc warnings, $secs s"
	else
		notok "direct v4l2-compliance $ver $label ($node): no totals (exit status $rc), $secs s"
		tail -n 5 "$d" | sed 's/^/# | /'
	fi
	vmc_failed_tests "$d" | sort -u >"$d.failed"
	sed 's/^/# direct FAIL: /' "$d.failed"

	[ "$backend" != none ] || return 0
	if ! start_daemon "compliance-$tname-$label" "$(spec "$node")"; then
		notok "proxied v4l2-compliance $ver $label: vmediad --device $(spec "$node") did not start"
		sed 's/^/# vmediad: /' "$O/compliance-$tname-$label.vmediad.log" | tail -n 5
		return 0
	fi
	t0=$(now_ns)
	rc=0
	# USERPTR too, as the direct run tests it (the shim's default is MMAP
	# only, like the virtio-media guest driver).
	# driver_name=vivid, as the Linux driver's module parameter allows,
	# so that the tool applies the quirks it applies to vivid directly
	# (it skips the sequence check vivid's timing breaks, for one).
	env LD_PRELOAD="$preload" VMEDIA_SOCKET="$VMC_SOCKET" VMEDIA_ALLOW_USERPTR=1 \
		VMEDIA_DRIVER_NAME=vivid \
		timeout -s KILL "$run_timeout" "$tool" -d /dev/video-vmedia0 -s >"$p" 2>&1 </dev/null || rc=$?
	secs=$(secs_since "$t0")
	local died=
	vmc_alive "$VMC_DAEMON_PID" || died=" vmediad died during the run;"
	vmc_stop_daemon || died="$died vmediad exited with status $VMC_DAEMON_STATUS;"
	vmc_failed_tests "$p" | sort -u >"$p.failed"
	# Failures the guest driver causes whatever the device does.
	guest_differences "$p.failed" >"$p.guest"
	local new
	new=$(comm -13 "$d.failed" "$p.failed" | comm -23 - "$p.guest" |
		paste -sd, - | sed 's/,/, /g')
	if pt=$(vmc_totals "$p"); then
		read -r total okc failc warnc <<<"$pt"
		local what="$okc/$total succeeded, $failc failed, $warnc warnings, $secs s (direct: ${dt:-none})"
		if [ -z "$new$died" ]; then
			ok "proxied v4l2-compliance $ver $label: $what; no failure the direct run lacks"
		else
			notok "proxied v4l2-compliance $ver $label: $what;$died${new:+ fails only through the proxy: $new}"
		fi
	else
		notok "proxied v4l2-compliance $ver $label: no totals (exit status $rc), $secs s;$died"
		tr '\r' '\n' <"$p" | tail -n 8 | sed 's/^/# | /'
	fi
	comm -13 "$d.failed" "$p.failed" | comm -12 - "$p.guest" |
		while IFS= read -r t; do
			note "guest-driver FAIL (not the proxy's): $t: $(guest_reason "$t")"
		done
	comm -13 "$d.failed" "$p.failed" | comm -23 - "$p.guest" | while IFS= read -r t; do
		note "proxy-only FAIL: $t"
		# The fail: lines just above the test's result name the check.
		tr '\r' '\n' <"$p" | grep -B3 -F "test $t: FAIL" | grep 'fail:' | sed 's/^[[:space:]]*/#   /' || true
	done
	comm -23 "$d.failed" "$p.failed" | sed 's/^/# direct-only FAIL (passes through the proxy): /'
	grep -iE 'error|sanitizer' "$O/compliance-$tname-$label.vmediad.log" | tail -n 5 | sed 's/^/# [vmediad] /' || true
}

if stage_on compliance; then
	t_stage=$(now_ns)
	tools=("system:/usr/bin/v4l2-compliance")
	if [ -n "${V4L2_COMPLIANCE_SID:-}" ] && [ -x "$V4L2_COMPLIANCE_SID" ]; then
		tools+=("sid:$V4L2_COMPLIANCE_SID")
	else
		note "sid's v4l2-compliance not available (scripts/sid-v4l-utils.sh): 1.22.1 only"
	fi
	# Every tool x node pair in its own lane, all lanes at once, each on
	# its own vivid instance: instances share no state (one instance's
	# capture and output nodes share controls, which the tool sets and
	# reads back), and most of a run is waiting (frame pacing, the tool's
	# fixed sleeps), so the lanes overlap well on two vCPUs. Each lane runs
	# its direct run, then its proxied run.
	lanes=()
	lane=0
	for t in "${tools[@]}"; do
		for kind in cap out; do
			if [ "$kind" = cap ]; then node=${cap[$lane]}; else node=${out[$lane]}; fi
			compliance "${t%%:*}" "${t#*:}" "$node" "vid-$kind" >"$rundir/lane$lane" 2>&1 &
			lanes+=($!)
			lane=$((lane + 1))
		done
	done
	wait "${lanes[@]}" || true
	for ((l = 0; l < lane; l++)); do
		replay "$rundir/lane$l"
	done
	note "stage compliance: $(secs_since "$t_stage") s"
fi

# ---- concurrent streaming -----------------------------------------------------
# vivid lets one file handle stream on a queue, so two streams on one node
# cannot both run, directly or proxied. The meaningful concurrent test is
# what two guests of one vmediad do: separate host devices at once. Three
# guest processes share one vmediad: two capture 30 frames each from two
# vivid instances (independent timers), one plays 30 frames out through
# vivid's output node (the other direction of the proxy). Each must get
# all its frames, intact in size. Then the one-streamer rule itself: a
# second guest streaming the node a first guest is streaming must be
# refused (EBUSY from vivid, passed through), not hang or steal buffers.
if stage_on concurrent && [ "$backend" != none ]; then
	t_stage=$(now_ns)
	n=30
	if start_daemon concurrent "$(spec "$cap0")" "$(spec "$cap1")" "$(spec "$out0")"; then
		sock=$VMC_SOCKET
		declare -A cpid=() imgsize=()
		for i in 0 1; do
			# The frame size as the guest sees it (each frame is one image).
			imgsize[$i]=$("$guest" --socket "$sock" -- v4l2-ctl -d /dev/video-vmedia$i --get-fmt-video 2>/dev/null |
				sed -n 's/.*Size Image *: *//p')
		done
		for i in 0 1; do
			timeout -s KILL 120 "$guest" --socket "$sock" -- v4l2-ctl -d /dev/video-vmedia$i \
				--stream-mmap --stream-count=$n --stream-to="$rundir/cap$i.raw" \
				>"$O/concurrent-cap$i.log" 2>&1 </dev/null &
			cpid[cap$i]=$!
		done
		timeout -s KILL 120 "$guest" --socket "$sock" -- v4l2-ctl -d /dev/video-vmedia2 \
			--stream-out-mmap --stream-count=$n \
			>"$O/concurrent-out.log" 2>&1 </dev/null &
		cpid[out]=$!
		for k in cap0 cap1 out; do
			rc=0
			wait "${cpid[$k]}" || rc=$?
			if [ "$k" = out ]; then
				if [ "$rc" = 0 ]; then
					ok "concurrent: guest 3 played $n frames out through $out0"
				else
					notok "concurrent: guest 3 output to $out0: exit status $rc"
					tail -n 5 "$O/concurrent-out.log" | sed 's/^/# | /'
				fi
				continue
			fi
			i=${k#cap}
			node=$cap0
			[ "$i" = 0 ] || node=$cap1
			size=$(stat -c %s "$rundir/cap$i.raw" 2>/dev/null || echo 0)
			img=${imgsize[$i]}
			if [ "$rc" = 0 ] && [ -n "$img" ] && [ "$size" = $((img * n)) ]; then
				ok "concurrent: guest $((i + 1)) captured $n frames from $node ($size bytes)"
			else
				notok "concurrent: guest $((i + 1)) from $node: exit status $rc, $size bytes, expected $n x ${img:-?}"
				tail -n 5 "$O/concurrent-cap$i.log" | sed 's/^/# | /'
			fi
		done
		rm -f "$rundir"/cap*.raw
		vmc_alive "$VMC_DAEMON_PID" && vmc_stop_daemon &&
			ok "concurrent: vmediad alive and exited cleanly" ||
			notok "concurrent: vmediad died or exited with status ${VMC_DAEMON_STATUS:-?}"
	else
		notok "concurrent: vmediad did not start"
	fi

	# The one-streamer rule: direct first (what vivid says), then proxied.
	# v4l2-ctl exits 0 even when REQBUFS fails, so the verdict is its
	# message and the frames each one got (it prints a '<' per frame).
	busy_check() {
		local how=$1 node=$2 pfx=() a b k
		[ "$how" = direct ] || pfx=("$guest" --socket "$VMC_SOCKET" --)
		a=$O/busy-$how-first.log
		b=$O/busy-$how-second.log
		timeout -s KILL 120 "${pfx[@]}" v4l2-ctl -d "$node" --stream-mmap --stream-count=$n \
			>"$a" 2>&1 </dev/null &
		local first=$!
		# Start the second one once the first one streams.
		for ((k = 0; k < 400; k++)); do
			grep -q '<' "$a" 2>/dev/null && break
			sleep 0.05
		done
		timeout -s KILL 60 "${pfx[@]}" v4l2-ctl -d "$node" --stream-mmap --stream-count=5 \
			>"$b" 2>&1 </dev/null || true
		wait "$first" || true
		busy_first=$(tr -cd '<' <"$a" | wc -c)
		busy_second=$(tr -cd '<' <"$b" | wc -c)
		busy_msg=$(grep -m1 -i 'busy' "$b" | sed 's/^[[:space:]]*//' || true)
	}
	busy_check direct "$cap0"
	d_msg=$busy_msg
	note "direct: first streamer got $busy_first frames; second got $busy_second: ${busy_msg:-no EBUSY}"
	if start_daemon busy "$(spec "$cap0")"; then
		busy_check proxied /dev/video-vmedia0
		note "proxied: first streamer got $busy_first frames; second got $busy_second: ${busy_msg:-no EBUSY}"
		if [ "$busy_first" = "$n" ] && [ "$busy_second" = 0 ] && [ -n "$busy_msg" ] && [ -n "$d_msg" ]; then
			ok "concurrent: a second streamer on a node that streams is refused (EBUSY) as directly, and the first gets all $n frames"
		else
			notok "concurrent: second streamer on one node: first got $busy_first/$n frames, second got $busy_second, '${busy_msg:-no EBUSY}' (directly: '${d_msg:-no EBUSY}')"
		fi
		vmc_stop_daemon || notok "concurrent: vmediad (one-streamer check) exited with status $VMC_DAEMON_STATUS"
	else
		notok "concurrent: vmediad did not start (one-streamer check)"
	fi
	note "stage concurrent: $(secs_since "$t_stage") s"
fi

# ---- benchmarks ---------------------------------------------------------------
# bench HOW IO: capture $frames frames of 1920x1080 YUYV from vivid's
# capture node. Prints "FPS CPU_MS_PER_FRAME" (CPU: user+sys of v4l2-ctl
# and, proxied, of vmediad) and keeps v4l2-ctl's output.
bench() {
	local how=$1 io=$2 node=$cap0 tf log rc=0 t0 wall u s d0=0 d1=0 pfx=() envs=()
	tf=$rundir/time-$how-$io
	log=$O/bench-$how-$io.log
	if [ "$how" = proxied ]; then
		start_daemon "bench-$io" "$(spec "$cap0")" || { echo "vmediad-did-not-start"; return 1; }
		node=/dev/video-vmedia0
		envs=(LD_PRELOAD="$preload" VMEDIA_SOCKET="$VMC_SOCKET")
		[ "$io" = user ] && envs+=(VMEDIA_ALLOW_USERPTR=1)
		d0=$(cpu_ticks "$VMC_DAEMON_PID")
	fi
	t0=$(now_ns)
	env "${envs[@]}" timeout -s KILL "$run_timeout" /usr/bin/time -o "$tf" -f '%U %S' \
		v4l2-ctl -d "$node" --set-fmt-video=width=1920,height=1080,pixelformat=YUYV \
		--stream-$io --stream-count="$frames" >"$log" 2>&1 </dev/null || rc=$?
	wall=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN {print (b - a) / 1e9}')
	if [ "$how" = proxied ]; then
		d1=$(cpu_ticks "$VMC_DAEMON_PID")
		vmc_stop_daemon || [ "$rc" != 0 ] || rc="$VMC_DAEMON_STATUS (vmediad)"
	fi
	[ "$rc" = 0 ] || { echo "exit-status-$rc"; return 1; }
	read -r u s <"$tf"
	awk -v n="$frames" -v w="$wall" -v u="$u" -v s="$s" -v d=$((d1 - d0)) -v hz="$hz" \
		'BEGIN {printf "%.2f %.2f\n", n / w, (u + s + d / hz) * 1000 / n}'
}

if stage_on bench; then
	t_stage=$(now_ns)
	# vivid's webcam input offers 1920x1080; select it before the runs.
	v4l2-ctl -d "$cap0" --set-input=0 >/dev/null 2>&1 || true
	declare -A fps=() cpu=()
	for io in mmap user; do
		for how in direct proxied; do
			[ "$how" = direct ] || [ "$backend" != none ] || continue
			if r=$(bench "$how" "$io"); then
				read -r fps[$how-$io] cpu[$how-$io] <<<"$r"
				ok "bench $how ${io^^}: 1920x1080 YUYV, $frames frames: ${fps[$how-$io]} fps, ${cpu[$how-$io]} ms CPU per frame"
			else
				notok "bench $how ${io^^} ran: $r (log: $O/bench-$how-$io.log)"
				tail -n 3 "$O/bench-$how-$io.log" | sed 's/^/# | /'
			fi
		done
		if [ -n "${fps[proxied-$io]:-}" ] && [ -n "${fps[direct-$io]:-}" ]; then
			note "bench ${io^^} proxied/direct: fps x$(awk -v a="${fps[proxied-$io]}" -v b="${fps[direct-$io]}" 'BEGIN {printf "%.2f", a / b}')," \
				"CPU per frame x$(awk -v a="${cpu[proxied-$io]}" -v b="${cpu[direct-$io]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')" \
				"(${cpu[direct-$io]} -> ${cpu[proxied-$io]} ms)"
		fi
	done
	note "stage bench: $(secs_since "$t_stage") s"
fi

rm -rf "$rundir"
note "in-VM tests: $pass passed, $fail failed"
[ "$fail" -lt 100 ] || fail=100
exit "$fail"
