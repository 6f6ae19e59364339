#!/bin/busybox sh
# tests/xen/dom0-initrd.sh: /init of dom0's busybox initramfs (built by
# run.sh). Loads the Xen and disk modules the rootfs kernel needs (the
# initramfs has no modprobe: run.sh wrote them in dependency order), mounts
# the dom0 image (/dev/vda, ext4) and switches to /rig-init.sh on it.
set -eu
# No folder: each applet goes where it belongs (/usr/bin/env for scripts).
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
K=$(uname -r)
for m in $(cat /etc/modules.order); do
	insmod "/lib/modules/$K/$m" || echo "XT: # dom0 initramfs: insmod $m failed"
done
# The disk shows up asynchronously once virtio_blk has probed it.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/vda ] && mount -t ext4 /dev/vda /mnt/root; then
	mount --move /dev /mnt/root/dev
	umount /proc /sys
	exec switch_root /mnt/root /rig-init.sh
fi
echo "XT: not ok - dom0: cannot mount the dom0 image /dev/vda (modules: $(cat /etc/modules.order | tr '\n' ' '))"
echo "XT: # end of scenarios"
poweroff -f
