#!/usr/bin/env bash
# TAP: run-compliance.sh's verdicts, with a stand-in v4l2-compliance that
# prints canned results (so this tests the harness, not the device): a
# pass, a failure, a run without totals, a hang (SIGKILL at the timeout),
# USERPTR not exercised, a known failure (TODO) and a known failure that
# passes again (TODO on an ok line: XPASS). vmediad really runs.
# Environment: VMEDIAD (default ./vmediad).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vmediad=${VMEDIAD:-./vmediad}
if [ ! -x "$vmediad" ]; then
	echo "1..0 # SKIP vmediad not found (set VMEDIAD)"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/vmedia-harness-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The stand-in tool: its behaviour comes from $work/mode.
cat >"$work/v4l2-compliance" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "v4l2-compliance 0.0.1, 64 bits, 64-bit time_t"; exit 0; }
mode=\$(cat "$work/mode")
[ -S "\$VMEDIA_SOCKET" ] || { echo "no daemon socket"; exit 1; }
printf 'Required ioctls:\n\ttest VIDIOC_QUERYCAP: OK\n'
case \$mode in
hang) exec sleep 600 ;;
nototals) echo "Segmentation fault"; exit 139 ;;
fail) printf '\t\tfail: v4l2-test-x.cpp(1): broken\n\ttest VIDIOC_S_FMT: FAIL\n' ;;
esac
printf '\tFrame #001\r\ttest MMAP (no poll): OK   \n'
if [ "\$mode" != nouserptr ] && [ -n "\${VMEDIA_ALLOW_USERPTR:-}" ]; then
	printf '\ttest USERPTR (no poll): OK\n'
else
	printf '\ttest USERPTR (no poll): OK (Not Supported)\n'
fi
if [ "\$mode" = fail ]; then
	printf '\nTotal for vmedia device /dev/video-vmedia0: 4, Succeeded: 3, Failed: 1, Warnings: 0\n'
	exit 1
fi
printf '\nTotal for vmedia device /dev/video-vmedia0: 3, Succeeded: 3, Failed: 0, Warnings: 0\n'
EOF
chmod +x "$work/v4l2-compliance"
printf 'VIDIOC_S_FMT :: a known bug\n' >"$work/known-fail"
printf 'VIDIOC_QUERYCAP :: fixed long ago\n' >"$work/known-pass"
: >"$work/known-none"

# case MODE IO KNOWN TIMEOUT PATTERN DESCRIPTION
n=0
total=8
echo "1..$total"
case_() {
	local mode=$1 io=$2 known=$3 tmo=$4 want=$5 what=$6 out
	n=$((n + 1))
	echo "$mode" >"$work/mode"
	out=$(VMEDIAD=$vmediad VMEDIA_SHIM=$(ldd /bin/sh | awk '$1 ~ /^libc\.so/ {print $3}') \
		VMEDIA_COMPLIANCE_KNOWN=$work/$known CI='' VMEDIA_COMPLIANCE_REQUIRE=0 \
		"$here/run-compliance.sh" --tool "$work/v4l2-compliance" --device vcam:unpaced \
		--io "$io" --timeout "$tmo" --logdir "$work/logs" 2>&1) || true
	if grep -qE "$want" <<<"$out"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
case_ pass mmap known-none 30 '^ok 1 - .* MMAP: 3/3 succeeded, 0 failed, 0 warnings, [0-9.]+ s$' \
	"a clean run is ok, with its totals"
case_ pass userptr known-none 30 '^ok 1 - .* USERPTR: 3/3 succeeded' \
	"USERPTR point: ok when USERPTR streaming ran"
case_ nouserptr userptr known-none 30 '^not ok 1 - .*USERPTR streaming was not exercised' \
	"USERPTR point: not ok when USERPTR was never offered"
case_ fail mmap known-none 30 '^# test VIDIOC_S_FMT: FAIL' \
	"a failure is not ok and its lines are diagnostics"
case_ nototals mmap known-none 30 '^not ok 1 - .*no totals printed \(exit status 139\)' \
	"a run that prints no totals is not ok"
case_ hang mmap known-none 1 '^not ok 1 - .*killed after 1 s \(timeout\)' \
	"a hung run is killed at the timeout"
case_ fail mmap known-fail 30 '^not ok 1 - .* # TODO known: VIDIOC_S_FMT \(a known bug\)$' \
	"a known failure is a TODO (XFAIL)"
case_ pass mmap known-pass 30 '^ok 1 - .* # TODO known failures that pass now .*VIDIOC_QUERYCAP' \
	"a known failure that passes is flagged (XPASS)"
[ "$n" = "$total" ]
