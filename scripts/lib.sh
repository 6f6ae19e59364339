# Shared by the quick-start scripts: install what is missing, configure and
# build out of tree. Sourced, not run.
set -euo pipefail

VMEDIA_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 packages vmedia needs to build and test.
VMEDIA_DEPS="build-essential autoconf automake pkg-config libxen-dev
libv4l-dev libpng-dev v4l-utils file"

install_deps() {
	local missing=""
	for p in $VMEDIA_DEPS "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
		exit 1
	fi
	echo "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# build DIR [configure args...]: configure (once) and build in DIR.
build() {
	local dir=$1
	shift
	[ -x "$VMEDIA_SRC/configure" ] || (cd "$VMEDIA_SRC" && autoreconf -fi >/dev/null)
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$VMEDIA_SRC/configure" -q "$@")
	fi
	make -C "$dir" -s -j"$(nproc)"
}
