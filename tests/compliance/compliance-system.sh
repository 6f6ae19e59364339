#!/usr/bin/env bash
# TAP: v4l2-compliance (system) x {vcam:unpaced, vcam:mplane,unpaced} x
# {MMAP, USERPTR} against vmediad through the userspace guest.
set -euo pipefail
exec "$(dirname "$0")/run-compliance.sh" --tool system "$@"
