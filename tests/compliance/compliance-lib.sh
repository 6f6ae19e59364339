# shellcheck shell=bash
# Helpers for the v4l2-compliance harness: reading v4l2-compliance's
# output, finding the tools, running vmediad. Sourced, not run (bash).

# vmc_totals FILE: print "TOTAL SUCCEEDED FAILED WARNINGS" from the
# tool's summary, or nothing (status 1) when the run never got there.
# v4l2-compliance prints one "Total for <driver> device <node>: N,
# Succeeded: S, Failed: F, Warnings: W" line per device node it tested,
# and a "Grand Total for ..." line when it walked a media controller; the
# grand total wins, else the last per-node total counts.
vmc_totals() {
	tr '\r' '\n' <"$1" | awk '
	function grab(line,   m) {
		if (match(line, /: [0-9]+, Succeeded: [0-9]+, Failed: [0-9]+, Warnings: [0-9]+/) == 0)
			return ""
		m = substr(line, RSTART + 2, RLENGTH - 2)
		gsub(/[A-Za-z]+: /, "", m)
		gsub(/,/, "", m)
		return m
	}
	/^[ \t]*Grand Total for .*Succeeded: / { t = grab($0); if (t != "") grand = t; next }
	/^[ \t]*Total for .*Succeeded: / { t = grab($0); if (t != "") last = t }
	END {
		if (grand != "") print grand
		else if (last != "") print last
		else exit 1
	}'
}

# vmc_issues FILE: the lines that explain a result: every "fail:" and
# "warn:" message and every test reported FAIL, without the indentation,
# in the order printed. Also the tool's own fatal messages ("Cannot open
# device ...", "Unable to detect ...", "FAIL: ...").
vmc_issues() {
	tr '\r' '\n' <"$1" | awk '
	{ sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") }
	/^(fail|warn): / { print; next }
	/^test .*: FAIL/ { print; next }
	/^FAIL: / { print; next }
	/^(Cannot open device|Unable to detect what device|Failed to open) / { print; next }'
}

# vmc_streamed FILE MODE: how many streaming tests with MODE (MMAP,
# USERPTR, DMABUF) really ran and passed: "test MODE (...): OK", not
# "OK (Not Supported)". Progress lines end in carriage returns and the
# results may carry trailing blanks.
vmc_streamed() {
	tr '\r' '\n' <"$1" | grep -cE "^[[:space:]]*test $2( \(.*\))?: OK[[:space:]]*\$" || true
}

# vmc_failed_tests FILE: the names of the tests reported FAIL, one a line
# ("VIDIOC_(UN)SUBSCRIBE_EVENT/DQEVENT" for "test VIDIOC_...: FAIL").
vmc_failed_tests() {
	vmc_issues "$1" | sed -n 's/^test \(.*\): FAIL.*/\1/p'
}

# vmc_passed_test FILE NAME: true when NAME ran and passed ("test NAME: OK").
vmc_passed_test() {
	tr '\r' '\n' <"$1" | grep -qxF "$(printf '\ttest %s: OK' "$2")"
}

# vmc_known FILE NAME: the reason NAME is a known failure in FILE (lines
# "test name :: reason", # comments), or status 1.
vmc_known() {
	[ -f "$1" ] || return 1
	awk -v name="$2" '
	/^[ \t]*(#|$)/ { next }
	{
		i = index($0, " :: ")
		if (i && substr($0, 1, i - 1) == name) { print substr($0, i + 4); found = 1; exit }
	}
	END { exit !found }' "$1"
}

# vmc_version BIN: the tool's version line ("v4l2-compliance 1.22.1, ...")
# as the short version "1.22.1", or nothing.
vmc_version() {
	"$@" --version 2>/dev/null |
		sed -n 's/^v4l2-compliance \([0-9][0-9.]*\).*/\1/p' | head -n 1
}

vmc_now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# vmc_start_daemon DIR LOG VMEDIAD ARGS...: start vmediad on DIR/sock and
# wait until it listens. Sets VMC_DAEMON_PID and VMC_SOCKET. Status 1 if
# it died or never listened (its log says why).
vmc_start_daemon() {
	local dir=$1 log=$2 bin=$3 i
	shift 3
	VMC_SOCKET=$dir/sock
	VMC_DAEMON_PID=
	"$bin" --test-socket "$VMC_SOCKET" "$@" >"$log" 2>&1 </dev/null &
	VMC_DAEMON_PID=$!
	for ((i = 0; i < 400; i++)); do
		[ -S "$VMC_SOCKET" ] && return 0
		kill -0 "$VMC_DAEMON_PID" 2>/dev/null || break
		sleep 0.025
	done
	vmc_stop_daemon || true
	return 1
}

# vmc_alive PID: true while PID runs (a zombie does not count).
vmc_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# vmc_stop_daemon: SIGTERM, up to 5 s to exit, then SIGKILL. Sets
# VMC_DAEMON_STATUS to the daemon's exit status (128+N for signal N) and
# returns 0 when it was 0. Call it in this shell, not in $(...): only the
# parent can collect the status.
vmc_stop_daemon() {
	local pid=${VMC_DAEMON_PID:-} i
	VMC_DAEMON_STATUS=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		vmc_alive "$pid" || break
		sleep 0.025
	done
	vmc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || VMC_DAEMON_STATUS=$?
	VMC_DAEMON_PID=
	[ "$VMC_DAEMON_STATUS" = 0 ]
}
