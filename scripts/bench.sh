#!/usr/bin/env bash
# Benchmarks of the test transport: command round trips and unpaced
# streaming next to a memcpy baseline, measured in one run.
. "$(dirname "$0")/lib.sh"

install_deps
B=$VMEDIA_SRC/build
build "$B"
sock=$(mktemp -u /tmp/vmedia-bench.XXXXXX.sock)
"$B/vmediad" --test-socket "$sock" --device vcam:unpaced --shm-size 512M \
	--log-level warn &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -f "$sock"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
"$B/vmedia-bench" --socket "$sock"
