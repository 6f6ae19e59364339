#!/usr/bin/env bash
# Quick start, part 1: build vmedia and show a test guest negotiating the
# virtio-media device served by a real vmediad over the test transport.
. "$(dirname "$0")/lib.sh"

install_deps
B=$VMEDIA_SRC/build
build "$B"

sock=$(mktemp -u /tmp/vmedia-demo.XXXXXX.sock)
"$B/vmediad" --test-socket "$sock" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -f "$sock"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
"$B/vmedia-probe" --socket "$sock"
