#!/bin/busybox sh
# /init of the vivid test VM's initramfs (busybox only; run.sh packs it).
# Loads the modules listed in /modules.order (already in dependency order),
# mounts the host's root read-only over virtio-9p, the build folder's
# result folder read-write on top of it, loads vivid, chroots into the host
# root and runs the test script there. The kernel command line carries the
# settings as plain words (no dots, so the kernel hands them to init's
# environment): vmedia_test, vmedia_out, vmedia_vivid (vivid's options, ','
# for ' ', '%' for ',' since ',' separates vivid's per-instance values),
# vmedia_env (extra KEY=VALUE words for the test, ',' separated),
# vmedia_keep (host folders under /tmp that must stay visible, ',').
# The last console line is "vmedia-vm: exit N" (N = the test's status),
# which run.sh reads; the VM then powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin

say() { echo "vmedia-vm: $*"; }
finish() {
	say "exit $1"
	sync
	poweroff -f
	# poweroff -f returns only if it failed; never let init exit (panic).
	while :; do sleep 1; done
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say "initramfs up after $(cut -d' ' -f1 /proc/uptime) s"

while read -r m; do
	[ -n "$m" ] || continue
	insmod "/modules/$m" || { say "insmod $m failed"; finish 90; }
done </modules.order

R=/hostroot
mkdir -p $R
# cache=loose: the host root is read-only and does not change under us;
# a large msize makes reading the binaries and libraries over 9p quick.
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=524288 hostroot $R; then
	say "cannot mount the host root over 9p"
	finish 91
fi
# The host's /tmp disappears under the VM's own tmpfs; keep a view of it
# for the folders the test needs that live there (a build folder in /tmp).
mkdir -p /oldtmp
mount --bind $R/tmp /oldtmp
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/shm $R/dev/pts
mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmp $R/tmp
mount -t tmpfs -o mode=755 run $R/run
for p in $(echo "${vmedia_keep:-}" | tr ',' ' '); do
	case $p in
	/tmp/*)
		mkdir -p "$R$p"
		mount --bind "/oldtmp${p#/tmp}" "$R$p" || { say "cannot keep $p"; finish 92; }
		;;
	esac
done
# The result folder: the same path inside the chroot as on the host.
if [ -n "${vmedia_out:-}" ]; then
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 out "$R$vmedia_out" ||
		{ say "cannot mount the result folder $vmedia_out"; finish 92; }
fi

vivid_opts=$(echo "${vmedia_vivid:-}" | tr ',%' ' ,')
# shellcheck disable=SC2086 # the options are separate words on purpose
if ! insmod /modules/vivid.ko $vivid_opts; then
	say "insmod vivid.ko $vivid_opts failed"
	finish 93
fi
say "vivid loaded ($vivid_opts) after $(cut -d' ' -f1 /proc/uptime) s"

env_words=$(echo "${vmedia_env:-}" | tr ',' ' ')
# shellcheck disable=SC2086
chroot $R /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 TERM=dumb $env_words /bin/bash "$vmedia_test"
finish $?
