#!/bin/bash
# PID 1 of the test guest. The root filesystem is the host's, read-only over
# 9p; this script makes the writable places a test needs, runs the job that
# scripts/run-vm.sh left in the job share, and powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home LANG=C.UTF-8

mount -t proc proc /proc
echo "guest: init started (uptime $(cut -d" " -f1 /proc/uptime)s)"
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
# What udev would add: bash process substitution needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mountpoint -q /run || mount -t tmpfs tmpfs /run
# A checkout under /tmp (a fresh clone, some CI workspaces) would vanish
# under the guest's own /tmp: hold it aside and put it back on top.
project=$(cd "$(dirname "$0")/.." && pwd)
case $project in
/tmp/* | /var/tmp/*) mkdir -p /run/project && mount --bind "$project" /run/project ;;
esac
for d in /tmp /var/tmp /var/lib/ipvsadm; do
	mountpoint -q "$d" 2>/dev/null || mount -t tmpfs tmpfs "$d" 2>/dev/null
done
if mountpoint -q /run/project; then
	mkdir -p "$project" && mount --bind /run/project "$project"
fi
mkdir -p "$HOME" /run/netns
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

job=/run/job
mkdir -p "$job"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job "$job"
# Modules of the test kernel, where modprobe looks for them.
mount -t tmpfs tmpfs /lib/modules
mkdir -p "/lib/modules/$(uname -r)"
mount -t 9p -o trans=virtio,version=9p2000.L,ro modules "/lib/modules/$(uname -r)"

ip link set lo up
hostname guest 2>/dev/null

kmemleak=/sys/kernel/debug/kmemleak
if [[ -w $kmemleak ]]; then
	# Objects from boot are not the test's business.
	t0=$SECONDS
	# Scans run when we ask, not from the background thread.
	echo scan=off >"$kmemleak"
	echo scan >"$kmemleak"
	echo clear >"$kmemleak"
	echo "guest: kmemleak baseline in $((SECONDS - t0))s"
fi

# The runner checks that the guest has the CPUs it was given.
nproc >"$job/cpus"
echo "guest: $(nproc) CPUs; running job (uptime $(cut -d" " -f1 /proc/uptime)s)"
bash "$job/cmd" </dev/null 2>&1
rc=$?
echo "$rc" >"$job/rc"

if [[ -w $kmemleak ]]; then
	# Two scans: an object must be seen unreferenced twice to be reported.
	t0=$SECONDS
	echo scan >"$kmemleak"
	echo scan >"$kmemleak"
	cat "$kmemleak" >"$job/kmemleak"
	echo "guest: kmemleak scans in $((SECONDS - t0))s"
fi
t0=$SECONDS
dmesg >"$job/dmesg"
sync
echo "guest: log saved in $((SECONDS - t0))s"
echo "guest: job exited with $rc (uptime $(cut -d" " -f1 /proc/uptime)s)"
/bin/busybox reboot -f
