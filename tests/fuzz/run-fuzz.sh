#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Run the libFuzzer targets (called by make fuzz-short, fuzz-long and
# fuzz-regress from the build directory).
#
#   run-fuzz.sh fuzz SECONDS FUZZDIR TARGET...
#       each target for SECONDS from FUZZDIR/corpus/<name> (read only;
#       what it learns goes to tests/fuzz/work/<name> in the build tree);
#       one summary line per target; exit 1 if any found a crash.
#   run-fuzz.sh regress 0 FUZZDIR TARGET...
#       every file in FUZZDIR/regressions/<name> once; exit 1 if any
#       still crashes.
#
# Crash inputs land in tests/fuzz/artifacts/<name>/, full logs in
# tests/fuzz/logs/<name>.log. FUZZ_ARGS adds libFuzzer options;
# FUZZ_PARALLEL=1 runs the targets side by side (needs a core each).
set -u

mode=$1
seconds=$2
fuzzdir=$3
shift 3

failed=0
mkdir -p tests/fuzz/logs

# The last value libFuzzer printed for a stat (stat::name: value).
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

# Coverage from libFuzzer's last status line: "cov: N ft: M corp: C/S".
coverage() {
	grep -E '^#[0-9]+.*cov: ' "$1" | tail -n 1 |
		sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+\/[0-9a-zA-Z]+).*/cov \1, ft \2, corpus \3/'
}

fuzz_one() {
	t=$1
	name=$(basename "$t")
	log=tests/fuzz/logs/$name.log
	work=tests/fuzz/work/$name
	art=tests/fuzz/artifacts/$name
	seeds=$fuzzdir/corpus/$name

	mkdir -p "$work" "$art"
	[ -d "$seeds" ] || seeds=
	# Command headers and V4L2 values: tokens no comparison reveals.
	case $name in
	fuzz_mmio | fuzz_commands) dict=-dict=$fuzzdir/media.dict ;;
	*) dict= ;;
	esac
	# -timeout: any input slower than 10 s is a hang (a guest stalling
	# the vCPU); ASAN/UBSAN options make every report fatal. $dict,
	# $seeds and FUZZ_ARGS are split on purpose (each may be empty).
	# shellcheck disable=SC2086
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=4096 -artifact_prefix="$art/" $dict ${FUZZ_ARGS:-} \
		"$work" $seeds >"$log" 2>&1
	rc=$?
	execs=$(stat number_of_executed_units "$log")
	rate=$(stat average_exec_per_sec "$log")
	cov=$(coverage "$log")
	if [ $rc -eq 0 ]; then
		echo "$name: ${seconds}s, ${execs:-?} execs (${rate:-?}/s), $cov: no crash"
		return 0
	fi
	echo "$name: CRASH after ${execs:-?} execs ($cov), exit $rc; log $log"
	grep -E '^(==[0-9]+==ERROR|==FUZZ ORACLE==|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/    /'
	grep -E 'Test unit written to' "$log" | sed 's/^/    /'
	return 1
}

regress_one() {
	t=$1
	name=$(basename "$t")
	dir=$fuzzdir/regressions/$name
	n=0

	[ -d "$dir" ] || { echo "$name: no regressions"; return 0; }
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		case $f in *.md | *.txt) continue ;; esac
		n=$((n + 1))
		if ! "$t" -runs=1 "$f" >tests/fuzz/logs/regress.log 2>&1; then
			echo "$name: $f still crashes:"
			grep -E '^(==[0-9]+==ERROR|==FUZZ ORACLE==|SUMMARY|.*runtime error)' \
				tests/fuzz/logs/regress.log | head -n 3 | sed 's/^/    /'
			failed=1
		fi
	done
	echo "$name: $n reproducers replayed"
}

# FUZZ_PARALLEL=1: all targets at once (one core each), summaries after.
fuzz_parallel() {
	for t in "$@"; do
		name=$(basename "$t")
		(fuzz_one "$t" >"tests/fuzz/logs/$name.summary" 2>&1
		 echo $? >"tests/fuzz/logs/$name.rc") &
	done
	wait
	for t in "$@"; do
		name=$(basename "$t")
		cat "tests/fuzz/logs/$name.summary"
		[ "$(cat "tests/fuzz/logs/$name.rc")" = 0 ] || failed=1
	done
}

case $mode in
fuzz)
	if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
		fuzz_parallel "$@"
	else
		for t in "$@"; do fuzz_one "$t" || failed=1; done
	fi
	;;
regress)
	for t in "$@"; do regress_one "$t"; done
	;;
*)
	echo "run-fuzz.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
exit $failed
