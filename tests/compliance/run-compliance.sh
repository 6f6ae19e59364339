#!/usr/bin/env bash
# Run the unmodified v4l2-compliance against vmediad through the userspace
# guest (libvmedia-shim.so, LD_PRELOAD) and report each run as one TAP
# test point.
#
# Usage: run-compliance.sh [--tool T]... [--device SPEC]... [--io MODE]...
#                          [--timeout SECONDS] [--logdir DIR] [-- TOOL-ARGS]
#   --tool T       system (Debian 12's /usr/bin/v4l2-compliance, 1.22.1),
#                  sid (1.32 through scripts/sid-v4l-utils.sh's wrapper), or
#                  the path of a v4l2-compliance binary. Default: system, sid
#   --device SPEC  vmediad --device spec. Default: vcam:unpaced,
#                  vcam:mplane,unpaced
#   --io MODE      mmap (the shim's default: MMAP streaming only) or userptr
#                  (VMEDIA_ALLOW_USERPTR=1: USERPTR streaming too).
#                  Default: mmap, userptr
#   --config FILE  start vmediad with --config FILE (default: none, i.e.
#                  vmediad's defaults; env VMEDIA_COMPLIANCE_CONFIG)
#   --timeout S    SIGKILL a run after S seconds (default 120)
#   --logdir DIR   keep each run's output and vmediad's log there (default
#                  tests/compliance under the current folder when it exists,
#                  else a new folder under /tmp)
#   TOOL-ARGS      what v4l2-compliance gets after "-d /dev/video-vmedia0";
#                  default -s (streaming tests)
# The matrix is every tool x device x io combination, one test point each.
# A point is ok when the tool printed its totals with Failed: 0, exited 0,
# really streamed with the io mode under test, and vmediad neither died
# nor exited non-zero when stopped.
#
# Environment: VMEDIAD (vmediad; default ./vmediad, then ../../vmediad
# from this script), VMEDIA_SHIM (libvmedia-shim.so; default: next to
# vmediad or in tools/shim/), V4L2_COMPLIANCE (the system tool),
# V4L2_COMPLIANCE_SID (the sid wrapper; default from VMEDIA_SID_CACHE or
# ~/.cache/vmedia/sid-v4l-utils), VMEDIA_COMPLIANCE_TIMEOUT,
# VMEDIA_COMPLIANCE_LOGDIR, VMEDIA_COMPLIANCE_KNOWN (the known-failures
# list; default known-failures beside this script: a point whose only
# failures are listed there is reported as a TAP TODO, i.e. XFAIL, and a
# listed test that passes again as an XPASS).
# A tool that is not there makes its points SKIP, with the reason, except
# in CI (CI=true) or with VMEDIA_COMPLIANCE_REQUIRE=1: there they FAIL,
# because CI must really run both versions. In CI a missing sid tool is
# first fetched with scripts/sid-v4l-utils.sh (VMEDIA_COMPLIANCE_FETCH=1
# does the same outside CI; =0 never fetches).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=compliance-lib.sh
. "$here/compliance-lib.sh"

node=/dev/video-vmedia0
tools=()
devices=()
ios=()
timeout_s=${VMEDIA_COMPLIANCE_TIMEOUT:-120}
config=${VMEDIA_COMPLIANCE_CONFIG:-}
known=${VMEDIA_COMPLIANCE_KNOWN:-$here/known-failures}
logdir=${VMEDIA_COMPLIANCE_LOGDIR:-}
toolargs=()

while [ $# -gt 0 ]; do
	case $1 in
	--tool) tools+=("${2:?--tool needs a value}"); shift 2 ;;
	--device) devices+=("${2:?--device needs a spec}"); shift 2 ;;
	--io)
		case ${2:-} in
		mmap | userptr) ios+=("$2") ;;
		*) echo "run-compliance: --io is mmap or userptr" >&2; exit 2 ;;
		esac
		shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--config) config=${2:?}; shift 2 ;;
	--logdir) logdir=${2:?}; shift 2 ;;
	--) shift; toolargs=("$@"); break ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "run-compliance: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[ ${#tools[@]} -gt 0 ] || tools=(system sid)
[ ${#devices[@]} -gt 0 ] || devices=(vcam:unpaced 'vcam:mplane,unpaced')
[ ${#ios[@]} -gt 0 ] || ios=(mmap userptr)
[ ${#toolargs[@]} -gt 0 ] || toolargs=(-s)

required=0
if [ "${CI:-}" = true ] || [ "${VMEDIA_COMPLIANCE_REQUIRE:-0}" = 1 ]; then
	required=1
fi
fetch=${VMEDIA_COMPLIANCE_FETCH:-$required}

# ---- what runs ------------------------------------------------------------
abspath() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }

vmediad=${VMEDIAD:-}
if [ -z "$vmediad" ]; then
	for c in ./vmediad "$here/../../vmediad"; do
		[ -x "$c" ] && { vmediad=$c; break; }
	done
fi
if [ -z "$vmediad" ] || [ ! -x "$vmediad" ]; then
	echo "Bail out! vmediad not found (set VMEDIAD)"
	exit 1
fi
vmediad=$(abspath "$vmediad")

shim=${VMEDIA_SHIM:-}
if [ -z "$shim" ]; then
	d=$(dirname "$vmediad")
	for c in "$d/libvmedia-shim.so" "$d/tools/shim/libvmedia-shim.so" \
		"$d/tools/shim/.libs/libvmedia-shim.so"; do
		[ -f "$c" ] && { shim=$c; break; }
	done
fi
if [ -z "$shim" ] || [ ! -f "$shim" ]; then
	echo "1..0 # SKIP libvmedia-shim.so is not built (set VMEDIA_SHIM)"
	exit 0
fi
shim=$(abspath "$shim")

# A shim built with -fsanitize needs the sanitizer runtimes loaded first
# in a tool that is not sanitized itself.
preload=$shim
san_runtimes=$(ldd "$shim" 2>/dev/null |
	awk '$1 ~ /^lib(asan|ubsan)\.so/ && $3 ~ /^\// {print $3}' | sort -r | paste -sd: -)
if [ -n "$san_runtimes" ]; then
	preload=$san_runtimes:$shim
fi
preload=$preload${LD_PRELOAD:+:$LD_PRELOAD}

if [ -z "$logdir" ]; then
	if [ -d tests/compliance ]; then
		logdir=tests/compliance
	else
		logdir=$(mktemp -d "${TMPDIR:-/tmp}/vmedia-compliance.XXXXXX")
	fi
fi
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)

# resolve_tool NAME: set tool_bin, tool_ver, tool_label, or tool_why (why
# it is missing). Looked up (and fetched) once per tool.
declare -A resolved=()
resolve_tool() {
	local name=$1 cache
	if [ -n "${resolved[$name]:-}" ]; then
		IFS=$'\x1f' read -r tool_bin tool_ver tool_label tool_why <<<"${resolved[$name]}"
		return 0
	fi
	tool_bin='' tool_ver='' tool_label='' tool_why=''
	case $name in
	system)
		tool_bin=${V4L2_COMPLIANCE:-/usr/bin/v4l2-compliance}
		[ -x "$tool_bin" ] || tool_why="$tool_bin not found (apt-get install v4l-utils)"
		;;
	sid)
		cache=${VMEDIA_SID_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/vmedia/sid-v4l-utils}
		tool_bin=${V4L2_COMPLIANCE_SID:-$cache/bin/v4l2-compliance-sid}
		if [ ! -x "$tool_bin" ] && [ "$fetch" = 1 ] && [ -z "${V4L2_COMPLIANCE_SID:-}" ]; then
			echo "# fetching v4l-utils from Debian sid (scripts/sid-v4l-utils.sh)"
			if ! "$here/../../scripts/sid-v4l-utils.sh" --quiet --cache "$cache" \
				>/dev/null 2>"$logdir/sid-fetch.log"; then
				sed 's/^/# /' "$logdir/sid-fetch.log"
			fi
		fi
		[ -x "$tool_bin" ] || tool_why="$tool_bin not found (run scripts/sid-v4l-utils.sh; it needs Debian's archive)"
		;;
	*)
		tool_bin=$name
		[ -x "$tool_bin" ] || tool_why="$tool_bin not found"
		;;
	esac
	if [ -z "$tool_why" ]; then
		tool_ver=$(vmc_version "$tool_bin")
		[ -n "$tool_ver" ] || tool_why="$tool_bin does not start (no version)"
	fi
	tool_label="v4l2-compliance${tool_ver:+ $tool_ver} ($name)"
	resolved[$name]=$(printf '%s\x1f%s\x1f%s\x1f%s' "$tool_bin" "$tool_ver" "$tool_label" "$tool_why")
}

# ---- one run --------------------------------------------------------------
n=0
failed=0
VMC_DAEMON_PID=
rundir=
tool_pid=
cleanup() {
	# timeout passes TERM on to the tool.
	[ -n "$tool_pid" ] && kill -TERM "$tool_pid" 2>/dev/null
	if [ -n "${VMC_DAEMON_PID:-}" ]; then
		kill -KILL "$VMC_DAEMON_PID" 2>/dev/null || true
		wait "$VMC_DAEMON_PID" 2>/dev/null || true
	fi
	[ -n "$rundir" ] && rm -rf "$rundir"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# diag FILE: the issue lines as TAP diagnostics, at most 40.
diag_issues() {
	local issues count
	issues=$(vmc_issues "$1")
	[ -n "$issues" ] || return 0
	count=$(printf '%s\n' "$issues" | wc -l)
	printf '%s\n' "$issues" | head -n 40 | sed 's/^/# /'
	[ "$count" -le 40 ] || echo "# ... $((count - 40)) more in $1"
}

run_point() {
	local tool=$1 dev=$2 io=$3 name desc out dlog rc t0 t1 secs totals dst
	local total ok fail warn why="" streamed
	n=$((n + 1))
	resolve_tool "$tool"
	desc="$tool_label $dev ${io^^}"
	if [ -n "$tool_why" ]; then
		if [ "$required" = 1 ]; then
			echo "not ok $n - $desc: tool missing: $tool_why"
			echo "# CI (CI=true) requires every tool of the matrix; locally this is a SKIP"
			failed=$((failed + 1))
		else
			echo "ok $n - $desc # SKIP $tool_why"
		fi
		return 0
	fi
	name=run-$tool-${dev//[^A-Za-z0-9]/-}-$io
	[ "$tool" = system ] || [ "$tool" = sid ] || name=run-$n-${dev//[^A-Za-z0-9]/-}-$io
	out=$logdir/$name.log
	dlog=$logdir/$name.vmediad.log
	rundir=$(mktemp -d "${TMPDIR:-/tmp}/vmedia-compliance.XXXXXX")
	local dargs=(--device "$dev")
	[ -z "$config" ] || dargs+=(--config "$config")
	if ! vmc_start_daemon "$rundir" "$dlog" "$vmediad" "${dargs[@]}"; then
		echo "not ok $n - $desc: vmediad did not start"
		sed 's/^/# vmediad: /' "$dlog" | tail -n 20
		failed=$((failed + 1))
		rm -rf "$rundir"
		rundir=
		return 0
	fi
	local envs=(LC_ALL=C "LD_PRELOAD=$preload" "VMEDIA_SOCKET=$VMC_SOCKET")
	[ "$io" = userptr ] && envs+=(VMEDIA_ALLOW_USERPTR=1)
	t0=$(vmc_now_ms)
	rc=0
	# SIGKILL, never SIGINT: the tool's SIGINT handler does ioctls.
	# In the background so that a signal to this script is handled at
	# once (timeout puts the tool in its own process group).
	env -u VMEDIA_ALLOW_USERPTR "${envs[@]}" timeout -s KILL "$timeout_s" \
		"$tool_bin" -d "$node" "${toolargs[@]}" >"$out" 2>&1 </dev/null &
	tool_pid=$!
	wait "$tool_pid" || rc=$?
	tool_pid=
	t1=$(vmc_now_ms)
	secs=$(awk -v ms=$((t1 - t0)) 'BEGIN {printf "%.1f", ms / 1000}')
	if ! vmc_alive "$VMC_DAEMON_PID"; then
		why="vmediad died during the run"
	fi
	vmc_stop_daemon || true
	dst=$VMC_DAEMON_STATUS
	rm -rf "$rundir"
	rundir=

	if totals=$(vmc_totals "$out"); then
		read -r total ok fail warn <<<"$totals"
	else
		total=0 ok=0 fail='?' warn='?'
	fi
	if [ "$rc" = 137 ] || [ "$rc" = 124 ]; then
		why=${why:-"killed after ${timeout_s} s (timeout)"}
	elif [ -z "$totals" ]; then
		why=${why:-"no totals printed (exit status $rc)"}
	elif [ "$fail" != 0 ]; then
		why=${why:-"$fail failed"}
	elif [ "$rc" != 0 ]; then
		why=${why:-"exit status $rc with 0 failures"}
	fi
	if [ -z "$why" ] && [ "$dst" != 0 ]; then
		why="vmediad exited with status $dst when stopped"
	fi
	# -s must have streamed with the io mode under test; "OK (Not
	# Supported)" everywhere would be a pass that tested nothing.
	if [ -z "$why" ] && [ "${toolargs[*]}" = -s ]; then
		if [ "$io" = userptr ]; then
			streamed=$(vmc_streamed "$out" USERPTR)
			[ "$streamed" -gt 0 ] || why="USERPTR streaming was not exercised (the device did not offer it)"
		else
			streamed=$(vmc_streamed "$out" MMAP)
			[ "$streamed" -gt 0 ] || why="MMAP streaming was not exercised"
		fi
	fi

	# Known failures (tests/compliance/known-failures): a point whose
	# only failures are listed there is a TAP TODO (automake: XFAIL); a
	# listed test that passes turns the point into an XPASS, which fails
	# the suite until the entry is removed.
	local todo="" t reason
	if [ -n "$why" ] && [ -n "$totals" ] && [ "$fail" != 0 ] && [ "$dst" = 0 ] &&
		[ "$why" = "$fail failed" ]; then
		todo=" # TODO known:"
		while IFS= read -r t; do
			if reason=$(vmc_known "$known" "$t"); then
				todo="$todo $t ($reason);"
			else
				todo=
				break
			fi
		done < <(vmc_failed_tests "$out")
		todo=${todo%;}
	elif [ -z "$why" ] && [ -f "$known" ]; then
		while IFS= read -r t; do
			vmc_passed_test "$out" "$t" || continue
			todo="${todo:- # TODO known failures that pass now (remove them from $known):} $t"
		done < <(awk '/^[ \t]*(#|$)/ { next } { i = index($0, " :: "); if (i) print substr($0, 1, i - 1) }' "$known")
	fi

	local result="$ok/$total succeeded, $fail failed, $warn warnings, "
	[ -n "$totals" ] || result=
	if [ -z "$why" ]; then
		echo "ok $n - $desc: $result${secs} s$todo"
	else
		echo "not ok $n - $desc: $why; $result${secs} s$todo"
		[ -n "$todo" ] || failed=$((failed + 1))
	fi
	tr '\r' '\n' <"$out" | grep -E '^[[:space:]]*(Grand )?Total for ' | sed 's/^[[:space:]]*/# /' || true
	diag_issues "$out"
	if [ -n "$why" ]; then
		# No totals and nothing the tool called a failure: show its end.
		[ -n "$totals" ] || [ -n "$(vmc_issues "$out")" ] ||
			tr '\r' '\n' <"$out" | tail -n 15 | sed 's/^/# | /'
		grep -iE 'error|fatal|warn|sanitizer' "$dlog" | tail -n 10 | sed 's/^/# [vmediad log] /' || true
	fi
	echo "# log: $out"
}

points=$((${#tools[@]} * ${#devices[@]} * ${#ios[@]}))
echo "1..$points"
echo "# vmediad: $vmediad"
echo "# LD_PRELOAD: $preload"
[ -z "$config" ] || echo "# vmediad --config $config"
for tool in "${tools[@]}"; do
	for dev in "${devices[@]}"; do
		for io in "${ios[@]}"; do
			run_point "$tool" "$dev" "$io"
		done
	done
done
[ "$failed" = 0 ]
