#!/bin/sh
# vmediad under valgrind memcheck: a guest streams MMAP and USERPTR on
# every device, another is SIGKILLed mid-stream, then SIGTERM. The daemon
# must exit 0 with no memcheck error and no definite or indirect leak.
# TAP output; skipped when valgrind is missing or vmediad has ASan.

: "${VMEDIAD:?VMEDIAD not set (run through make check)}"
guest=${ATTACK_GUEST:-$(dirname "$VMEDIAD")/tests/attack/attack-guest}
timeout=${VALGRIND_TIMEOUT:-120}

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind not installed (apt-get install valgrind)"
	exit 0
fi
if grep -q __asan_init "$VMEDIAD"; then
	echo "1..0 # SKIP vmediad is built with AddressSanitizer"
	exit 0
fi
if [ ! -x "$guest" ]; then
	echo "1..0 # SKIP $guest not built"
	exit 0
fi

dir=$(mktemp -d /tmp/vmedia-valgrind.XXXXXX) || exit 1
sock=$dir/sock
vlog=$dir/valgrind.log
dlog=$dir/stderr
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$KEEP_VALGRIND_LOG" ] || rm -rf "$dir"
}
trap cleanup EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }

valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=9 --log-file="$vlog" \
	"$VMEDIAD" --test-socket "$sock" --device vcam:unpaced \
	--device vcam:mplane,unpaced 2>"$dlog" &
pid=$!

# valgrind takes its time to start the daemon.
i=0
while [ ! -S "$sock" ] && [ $i -lt $((timeout * 10)) ] &&
	kill -0 "$pid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
check "vmediad starts under valgrind" '[ -S "$sock" ]'

"$guest" "$sock" once 6 >/dev/null 2>"$dir/guest.err"
r=$?
check "a guest streams MMAP and USERPTR on both devices" '[ $r -eq 0 ]'
[ $r -eq 0 ] || sed 's/^/# /' "$dir/guest.err"

# A guest killed mid-stream: its teardown runs under memcheck too.
"$guest" "$sock" forever >"$dir/ready" 2>/dev/null &
gpid=$!
i=0
while [ ! -s "$dir/ready" ] && [ $i -lt $((timeout * 10)) ] &&
	kill -0 "$gpid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
check "a second guest streams, then is SIGKILLed" '[ -s "$dir/ready" ]'
kill -KILL "$gpid" 2>/dev/null
wait "$gpid" 2>/dev/null

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt $((timeout * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$pid"
status=$?
pid=
check "vmediad exits 0 on SIGTERM under memcheck (9 = errors/leaks)" \
	'[ $status -eq 0 ]'
check "memcheck: 0 errors, nothing definitely or indirectly lost" \
	'grep -q "ERROR SUMMARY: 0 errors" "$vlog" &&
	 ! grep -Eq "(definitely|indirectly) lost: [1-9]" "$vlog"'
grep -E "ERROR SUMMARY|lost:|in use at exit" "$vlog" | sed 's/^==[0-9]*== */# /'
if ! grep -q "ERROR SUMMARY: 0 errors" "$vlog"; then
	sed 's/^/# /' "$vlog" | head -80
fi
echo "1..$n"
