#!/bin/bash
# tests/xen/dom0-init.sh: PID 1 on dom0's disk (/rig-init.sh). Starts the
# least Xen dom0 userspace that xl needs (xenstored, xen-init-dom0,
# xenconsoled), runs the scenarios (/rig/scenarios.sh) and powers off, so
# QEMU exits. The rootfs was unpacked with dpkg-deb -x: no maintainer
# scripts ran, so the links and folders they would make are made here.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin

off() {
	sync
	echo o >/proc/sysrq-trigger 2>/dev/null || true
	busybox poweroff -f
}
# Whatever happens below, end with the marker and a power-off: the host
# must never wait for its timeout because of a failed step here.
trap 'echo "XT: not ok - dom0 init failed at line $LINENO: $BASH_COMMAND"; echo "XT: # end of scenarios"; off' ERR

mount -t proc proc /proc
mount -t sysfs sys /sys
[ -s /etc/ld.so.cache ] || ldconfig
mkdir -p /dev/pts /dev/shm
# devtmpfs has no /dev/fd (udev makes it): bash's <(...) needs it.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t xenfs xenfs /proc/xen
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# base-files' postinst would make these links; libxl's lock files need them.
[ -L /var/run ] || { rm -rf /var/run; ln -s /run /var/run; }
[ -L /var/lock ] || { rm -rf /var/lock; ln -s /run/lock /var/lock; }
# Nor did update-alternatives run: awk is mawk.
[ -e /usr/bin/awk ] || ln -s mawk /usr/bin/awk
mkdir -p /run/lock /run/xen /run/xenstored /var/log/xen /var/lib/xen
mount -t tmpfs tmpfs /var/log/xen
# Kernel messages would interleave with the result lines on the console.
dmesg -n 1
echo "XT: # dom0 userspace up at $(cut -d' ' -f1 /proc/uptime) s (uptime)"
xenstored --pid-file=/run/xenstore.pid
xen-init-dom0 >/dev/null
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen
echo "XT: # xl toolstack up at $(cut -d' ' -f1 /proc/uptime) s; $(xl info | sed -n 's/^xen_version *: /Xen /p')"
trap - ERR
/rig/scenarios.sh || echo "XT: not ok - /rig/scenarios.sh exited with status $?"
echo "XT: # end of scenarios at $(cut -d' ' -f1 /proc/uptime) s"
off
