#!/bin/busybox sh
# /init of the initramfs that boots Debian's stock kernel in the test guest
# (made by scripts/debian-kernel.sh). Debian builds 9p as modules, so the
# host root cannot be mounted by the kernel itself: this loads them, mounts
# the root the kernel command line describes (root=, rootflags=; for an
# arm64 guest also its checkout, ipvsmh.project=) and hands over to its
# init= (scripts/guest-init.sh), as the test kernels do directly.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev

fail() {
	echo "initramfs: $*"
	# Ends the guest at once (panic=-1) instead of waiting for the timeout.
	echo o >/proc/sysrq-trigger
	exit 1
}

for m in netfs 9pnet 9pnet_virtio 9p; do
	insmod "/modules/$m.ko" || fail "insmod $m failed"
done

root=/dev/root flags=ro init=/sbin/init project=
for arg in $(cat /proc/cmdline); do
	case $arg in
	root=*) root=${arg#root=} ;;
	rootflags=*) flags=ro,${arg#rootflags=} ;;
	init=*) init=${arg#init=} ;;
	ipvsmh.project=*) project=${arg#ipvsmh.project=} ;;
	esac
done
mount -t 9p -o "$flags" "$root" /newroot || fail "mounting the 9p root ($root) failed"
# A root other than the host's (an arm64 guest's) gets the checkout, which
# holds init=, at its host path.
if [ -n "$project" ]; then
	mount -t 9p -o "$flags" project "/newroot$project" || fail "mounting the checkout at $project failed"
fi
mount --move /dev /newroot/dev
umount /proc
exec switch_root /newroot "$init"
