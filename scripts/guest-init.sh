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

# The result's first line says whether the scans ran; the runner fails a
# kernel with kmemleak whose result is missing or says otherwise.
if [[ -e $kmemleak ]]; then
	t0=$SECONDS
	# kmemleak reports no object younger than 5 s: let the job's last
	# objects age first.
	sleep 6
	# Two scans: an object must be seen unreferenced twice to be reported.
	# A scan is refused once kmemleak has turned itself off.
	if echo scan >"$kmemleak" && echo scan >"$kmemleak" && leaks=$(cat "$kmemleak"); then
		printf 'kmemleak: scanned\n%s\n' "$leaks" >"$job/kmemleak"
	else
		echo "kmemleak: disabled at run time (a scan was refused)" >"$job/kmemleak"
	fi
	echo "guest: kmemleak scans in $((SECONDS - t0))s"
fi
t0=$SECONDS
dmesg >"$job/dmesg"
sync
echo "guest: log saved in $((SECONDS - t0))s"
echo "guest: job exited with $rc (uptime $(cut -d" " -f1 /proc/uptime)s)"
/bin/busybox reboot -f
