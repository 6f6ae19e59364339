#!/usr/bin/env bash
# TAP: the harness's reading of v4l2-compliance output, on canned outputs
# of both tool versions (samples/*.out). Each samples/NAME.expect holds the
# totals "N S F W" (or "none") on its first line, then the lines that
# vmc_issues must pick, in order.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=compliance-lib.sh
. "$here/compliance-lib.sh"

samples=("$here"/samples/*.out)
echo "1..$((${#samples[@]} * 2 + 8))"
n=0
for out in "${samples[@]}"; do
	name=$(basename "$out" .out)
	expect=${out%.out}.expect
	want_totals=$(head -n 1 "$expect")
	got_totals=$(vmc_totals "$out") || got_totals=none
	n=$((n + 1))
	if [ "$got_totals" = "$want_totals" ]; then
		echo "ok $n - $name: totals $got_totals"
	else
		echo "not ok $n - $name: totals '$got_totals', expected '$want_totals'"
	fi
	n=$((n + 1))
	if diff <(tail -n +2 "$expect") <(vmc_issues "$out") >/dev/null; then
		echo "ok $n - $name: $(tail -n +2 "$expect" | wc -l) issue lines"
	else
		echo "not ok $n - $name: issue lines differ"
		diff <(tail -n +2 "$expect") <(vmc_issues "$out") | sed 's/^/# /' || true
	fi
done

# Streaming tests that really ran, as the harness counts them.
streamed=(
	"synthetic-fail-1.32.0 MMAP 2"
	"synthetic-fail-1.32.0 USERPTR 2"
	"synthetic-fail-1.32.0 DMABUF 0"
	"real-1.22.1-sp-userptr MMAP 3"
	"real-1.22.1-sp-userptr USERPTR 2"
	"real-1.32.0-mplane-userptr MMAP 6"
	"real-1.32.0-mplane-userptr USERPTR 2"
	"real-1.32.0-mplane-userptr DMABUF 0"
)
for t in "${streamed[@]}"; do
	read -r name mode want <<<"$t"
	n=$((n + 1))
	got=$(vmc_streamed "$here/samples/$name.out" "$mode")
	if [ "$got" = "$want" ]; then
		echo "ok $n - $name: $got $mode streaming tests ran"
	else
		echo "not ok $n - $name: $got $mode streaming tests ran, expected $want"
	fi
done
