#!/usr/bin/env bash
# Boots a test kernel under QEMU and runs a command inside it.
#
#   scripts/run-vm.sh [--kernel DIR] [--cpus N] [--one-thread] [--module KO]
#                     [--timeout SECONDS] [--keep DIR] -- CMD [ARG...]
#
# DIR is a test kernel (scripts/build-kernel.sh) or Debian's stock kernel
# (scripts/debian-kernel.sh: its signed vmlinuz boots with an initramfs that
# loads the stock 9p modules). --module installs KO into updates/ of a
# depmod'ed copy of the kernel's modules, as `make install` would (modprobe
# then prefers it to the kernel's own module of that name). The guest uses
# the host's root filesystem read-only over 9p, so every tool installed here
# (ipvsadm, iproute2, python3) exists there too; an arm64 kernel
# (DEBIAN_ARCH=arm64) boots under qemu-system-aarch64 (-M virt, TCG) with
# its target's root of arm64 packages instead, this checkout mounted at its
# own path. CMD runs as
# root in the guest, in the current directory. The exit code is CMD's; the
# run fails as well if the guest's kernel log holds any report (BUG, WARNING,
# KASAN, lockdep, RCU, kmemleak, Oops), which is then printed.
source "$(dirname "$0")/common.sh"

kernel_dir=${KERNEL_DIR:-}
timeout_s=${VM_TIMEOUT:-900}
keep=
cpus=2
module=
icount=
tcg_threads=
while (($#)); do
	case $1 in
	--kernel) kernel_dir=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	# Under TCG, all vCPUs on one host thread, taking turns (QEMU's round
	# robin), instead of a thread each: for a guest that shares the host's
	# cores with another. Two 2-vCPU guests on 2 cores, a thread per vCPU,
	# took 227 s each; with one thread each, 122 s (2026-12-07: four vCPU
	# threads on two cores mostly wait for each other, in the guest's
	# spinning and in QEMU's stop-the-world operations). The guest's CPUs
	# then never run at the same instant: not for scenarios about races.
	--one-thread) tcg_threads=single; shift ;;
	--keep) keep=$2; shift 2 ;;
	# Deterministic time (benchmarks): the guest's clocks count executed
	# instructions, one nanosecond each, so a duration it measures is an
	# instruction count whatever the host does. TCG only.
	--icount) icount=1; shift ;;
	--) shift; break ;;
	*) break ;;
	esac
done
(($#)) || die "usage: run-vm.sh [--kernel DIR] [--cpus N] [--one-thread] [--module KO] [--timeout S] [--keep DIR] [--icount] -- CMD [ARG...]"
[[ -n $kernel_dir ]] || kernel_dir=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
initrd= arch=amd64
if [[ -f $kernel_dir/boot/vmlinuz ]]; then
	arch=$(cat "$kernel_dir/arch" 2>/dev/null || echo amd64)
	image=$kernel_dir/boot/vmlinuz
	initrd=$kernel_dir/boot/initrd.img
	release=$(cat "$kernel_dir/release")
	config=$kernel_dir/root$(cat "$kernel_dir/headers")/.config
else
	image=$kernel_dir/arch/x86/boot/bzImage
	release=$(cat "$kernel_dir/include/config/kernel.release")
	config=$kernel_dir/.config
fi
moddir=$kernel_dir/modroot/lib/modules/$release
[[ -f $image && -d $moddir ]] ||
	die "no kernel in $kernel_dir (run scripts/build-kernel.sh or scripts/debian-kernel.sh)"
[[ -z $module || -f $module ]] || die "no module $module"

job=$(mktemp -d "${TMPDIR:-/tmp}/ipvs-mh-vm.XXXXXX")
qemu_pid=
cleanup() {
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [[ -n $keep ]]; then
		mkdir -p "$keep" && rsync -a --exclude=/modroot "$job/" "$keep/"
	fi
	rm -rf "$job"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n $module ]]; then
	# Hard links keep the copy cheap; the guest's /tmp is its own, so the
	# copy must be real files, not symbolic links to the cache.
	mkdir -p "$job/modroot/lib/modules"
	cp -al "$moddir" "$job/modroot/lib/modules/" 2>/dev/null || cp -a "$moddir" "$job/modroot/lib/modules/"
	moddir=$job/modroot/lib/modules/$release
	mkdir -p "$moddir/updates"
	cp "$module" "$moddir/updates/"
	depmod -b "$job/modroot" "$release" || die "depmod of the guest's modules failed"
fi

{
	echo "cd $(printf %q "$PWD") || exit 1"
	# Pass the caller's test settings through to the guest.
	# Files they name are copied into the job share: the guest's /tmp is
	# its own, so host paths there would not be seen.
	mkdir -p "$job/files"
	while IFS='=' read -r name value; do
		if [[ -f $value ]]; then
			# Under its own name: modinfo wants a .ko to end in .ko.
			mkdir -p "$job/files/$name"
			cp "$value" "$job/files/$name/"
			value=/run/job/files/$name/$(basename "$value")
		fi
		printf 'export %s=%q\n' "$name" "$value"
	done < <(env | grep -E '^(IPVS_MH_|TEST_|BENCH_|CI=)')
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$job/cmd"

# The machine: x86_64 shares this machine's root; arm64 its target's root,
# with this checkout as a fourth share the initramfs mounts at its path.
qemu=(qemu-system-x86_64) console=ttyS0 guest_root=/ machine_append=" acpi=noirq"
if [[ $arch == arm64 ]]; then
	# pauth-impdef: QEMU's own pointer-authentication hash, far cheaper to
	# emulate than the architected one (the kernel does not depend on which).
	qemu=(qemu-system-aarch64 -M virt) console=ttyAMA0 machine_append=
	guest_root=$kernel_dir/guest-root
	[[ -x $guest_root/usr/bin/bash ]] || die "no arm64 guest root in $kernel_dir (scripts/debian-kernel.sh makes it)"
	mkdir -p "$guest_root$PROJECT_DIR"
fi

# Boots with the given accelerator; the console goes to $job/console.
boot() {
	local accel=$1 limit=$2 cpu=max accel_opts=$1
	[[ $accel == kvm ]] && cpu=host
	[[ $accel == tcg && -n $tcg_threads ]] && accel_opts+=",thread=$tcg_threads"
	[[ $arch == arm64 ]] && cpu=max,pauth-impdef=on
	local append="console=$console root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro init=$PROJECT_DIR/scripts/guest-init.sh loglevel=5 log_buf_len=8M panic=-1 oops=panic kmemleak=on watchdog_thresh=30$machine_append"
	[[ -n $icount ]] && append+=" rcupdate.rcu_cpu_stall_suppress=1"
	[[ $guest_root == / ]] || append+=" ipvsmh.project=$PROJECT_DIR"
	local args=(
		-accel "$accel_opts" -cpu "$cpu" -smp "$cpus" -m 1536M
		-nographic -no-reboot -nodefaults -serial "file:$job/console"
		-kernel "$image" ${initrd:+-initrd "$initrd"} -append "$append"
		-fsdev "local,id=root,path=$guest_root,security_model=none,readonly=on,multidevs=remap"
		-device "virtio-9p-pci,fsdev=root,mount_tag=/dev/root"
		-fsdev "local,id=modules,path=$moddir,security_model=none,readonly=on"
		-device "virtio-9p-pci,fsdev=modules,mount_tag=modules"
		-fsdev "local,id=job,path=$job,security_model=none"
		-device "virtio-9p-pci,fsdev=job,mount_tag=job"
	)
	[[ $guest_root == / ]] ||
		args+=(-fsdev "local,id=project,path=$PROJECT_DIR,security_model=none,readonly=on"
			-device "virtio-9p-pci,fsdev=project,mount_tag=project")
	# Under icount, QEMU 7.2 with two vCPUs was seen to leave an idle
	# vCPU's timer unfired for 21 s of guest time at the same point of
	# every benchmark boot (2026-12-05, 12-06: the RCU grace-period
	# kthread's wakeup, "All QSes seen", with sleep=off and sleep=on, with
	# and without nohz=off); the boot's measurements all completed. Such
	# boots do not report RCU stalls (above); every other boot does.
	[[ -n $icount ]] && args+=(-icount shift=0,sleep=off,align=off)
	: >"$job/console"
	"${qemu[@]}" "${args[@]}" </dev/null >"$job/qemu.log" 2>&1 &
	qemu_pid=$!
	local waited=0 tail_pid
	timed_out=
	tail -n +1 -f "$job/console" --pid "$qemu_pid" 2>/dev/null | sed -u 's/^/  | /' >&2 &
	tail_pid=$!
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if ((waited >= limit)); then
			log "guest timed out after ${limit}s; killing QEMU"
			timed_out=$limit
			kill -KILL "$qemu_pid" 2>/dev/null || true
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	wait "$tail_pid" 2>/dev/null || true
}

# KVM hangs at boot on some hosts: use it only where a short probe boot
# proved it works (a working KVM guest is at init within seconds; here it
# hangs). Guests start side by side, so the probe runs under a
# lock and its result is written whole (rename); it holds for this boot of
# this machine only, so a failed probe is not kept forever.
probe_accel() {
	local probe=$CACHE_DIR/kvm-probe-$(basename "$kernel_dir") boot cached result saved lock
	boot=$(cat /proc/sys/kernel/random/boot_id)
	exec {lock}>"$probe.lock"
	flock "$lock"
	cached=$(cat "$probe" 2>/dev/null || true)
	if [[ $cached =~ ^$boot\ (kvm|tcg)$ ]]; then
		result=${BASH_REMATCH[1]}
	else
		result=tcg
		if [[ -w /dev/kvm ]]; then
			log "probing KVM with a short boot"
			saved=$(cat "$job/cmd")
			echo 'exit 0' >"$job/cmd"
			boot kvm 20 2>/dev/null
			[[ $(cat "$job/rc" 2>/dev/null) == 0 ]] && result=kvm
			rm -f "$job/rc" "$job/dmesg" "$job/kmemleak" "$job/cpus"
			printf '%s\n' "$saved" >"$job/cmd"
		fi
		printf '%s %s\n' "$boot" "$result" >"$probe.$$"
		mv -f "$probe.$$" "$probe"
	fi
	exec {lock}>&-
	echo "$result"
}
accel=${VM_ACCEL:-}
[[ -n $icount || $arch != amd64 ]] && accel=tcg
[[ -n $accel ]] || accel=$(probe_accel)
[[ $accel == kvm || $accel == tcg ]] || die "no accelerator for QEMU ('$accel')"

threads_said=
[[ $accel == tcg && -n $tcg_threads ]] && threads_said=", vCPUs on one host thread"
log "booting $release under QEMU ($accel$threads_said), timeout ${timeout_s}s: $*"
start=$SECONDS
boot "$accel" "$timeout_s"
# A kernel that dies before our init runs has run none of the job: QEMU
# 7.2's TCG has been seen to miss a cross-CPU code patch while the host was
# loaded ("Oops: int3" in sched_clock_cpu, 2 s after boot). One more boot,
# said so in the log; a second death fails as any other.
if [[ -z $timed_out ]] && ! grep -q 'guest: init started' "$job/console"; then
	log "the guest died before its init started; its console's end, then one more boot:"
	tail -n 40 "$job/console" | sed 's/^/  first boot | /' >&2
	cp "$job/console" "$job/console.first-boot"
	boot "$accel" "$timeout_s"
fi
# The host CPU the boots took (QEMU's vCPU threads, almost all of this
# script's children's time): beside the wall time, how much of the host's
# cores a guest kept busy, which decides how guests share them.
times >"$job/times"
host_cpu=$(awk 'NR == 2 {
	split($1 " " $2, t, /[ms ]+/)
	printf "%d", t[1] * 60 + t[2] + t[3] * 60 + t[4]
}' "$job/times")
log "guest ran for $((SECONDS - start))s, $host_cpu s of host CPU"

rc=$(cat "$job/rc" 2>/dev/null || echo "none")
status=0
failed() {
	echo "error: $*" >&2
	((status)) || status=1
}
guest_cpus=$(cat "$job/cpus" 2>/dev/null || echo "?")
if [[ $rc != none && $guest_cpus != "$cpus" ]]; then
	failed "the guest brought up $guest_cpus CPUs, not the $cpus it was given"
fi
if [[ $rc == none ]]; then
	[[ -s $job/qemu.log ]] && sed 's/^/qemu: /' "$job/qemu.log" >&2
	failed "the guest did not finish the job (timeout or crash); console above"
elif [[ $rc != 0 ]]; then
	echo "error: the job exited with $rc" >&2
	status=$rc
fi
# The guest writes rc before its last checks: a guest that hangs after the
# job (in a kmemleak scan, or saving its log) fails whatever rc says.
[[ -z $timed_out ]] || failed "the guest hung and was killed after ${timed_out}s"
[[ -s $job/dmesg ]] || failed "the guest saved no kernel log: its reports cannot be checked"

# Any kernel report fails the run, even when the job itself passed.
reports='BUG:|WARNING:|KASAN|Oops|Kernel panic|suspicious RCU usage|possible (recursive|circular) locking|inconsistent lock state|unreferenced object|general protection fault|Call Trace:|UBSAN|ODEBUG|INFO: task .* blocked|rcu_.*detected (expedited )?stalls?|detected expedited stalls|soft lockup|hard LOCKUP|hung_task'
for f in "$job/dmesg" "$job/console"; do
	[[ -s $f ]] || continue
	if grep -Eq "$reports" "$f"; then
		echo "error: kernel report in the guest's log ($(basename "$f")):" >&2
		grep -En -B2 -A25 "$reports" "$f" | head -n 120 >&2
		((status)) || status=1
		break
	fi
done
# A kernel with kmemleak must have scanned after the job: a missing result,
# or kmemleak turned off at run time, hides leaks.
if grep -qx 'CONFIG_DEBUG_KMEMLEAK=y' "$config" 2>/dev/null; then
	if [[ $(head -n1 "$job/kmemleak" 2>/dev/null) != "kmemleak: scanned" ]]; then
		failed "no kmemleak result from a kernel with kmemleak: $(head -n1 "$job/kmemleak" 2>/dev/null || echo missing)"
	elif tail -n +2 "$job/kmemleak" | grep -q .; then
		echo "error: kmemleak found leaks:" >&2
		tail -n +2 "$job/kmemleak" | head -n 80 >&2
		((status)) || status=1
	fi
fi
exit "$status"
