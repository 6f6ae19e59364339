#!/usr/bin/env bash
# Quick start, part 1: build vmedia, start vmediad on the test transport
# with its built-in camera, and capture frames through the whole stack
# (userspace guest driver -> virtio rings -> vmediad -> vcam) into PNGs.
. "$(dirname "$0")/lib.sh"

install_deps
B=$VMEDIA_SRC/build
OUT=${VMEDIA_DEMO_OUT:-$VMEDIA_SRC/out/frames}
build "$B"
mkdir -p "$OUT"

sock=$(mktemp -u /tmp/vmedia-demo.XXXXXX.sock)
"$B/vmediad" --test-socket "$sock" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -f "$sock"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
"$B/vmedia-probe" --socket "$sock"
"$B/vmedia-capture" --socket "$sock" --frames 30 --out "$OUT"
