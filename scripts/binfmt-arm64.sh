#!/usr/bin/env bash
# Lets this amd64 machine run arm64 programs, so that an arm64 Debian
# system (scripts/package-root.sh operator SUITE arm64) installs and builds
# as on an arm64 server: qemu-user-static's aarch64 emulator registered with
# the kernel's binfmt_misc, with the F flag (the kernel opens the emulator
# now, so it works inside chroots that do not have it). A runtime setting
# of the running kernel, not of the installed system; idempotent.
#
#   scripts/binfmt-arm64.sh
source "$(dirname "$0")/common.sh"

misc=/proc/sys/fs/binfmt_misc
entry=/usr/lib/binfmt.d/qemu-aarch64.conf
[[ -f $entry ]] || die "no aarch64 emulator: apt install qemu-user-static (scripts/bootstrap.sh does)"
if [[ ! -f $misc/register ]]; then
	grep -qw binfmt_misc /proc/filesystems ||
		die "this kernel has no binfmt_misc: arm64 programs cannot run here"
	as_root mount -t binfmt_misc binfmt_misc "$misc" || die "mounting binfmt_misc on $misc failed"
fi
if [[ ! -f $misc/qemu-aarch64 ]]; then
	# Debian's entry, with F added to its flags.
	line=$(grep -m 1 '^:qemu-aarch64:' "$entry") || die "$entry holds no qemu-aarch64 entry"
	flags=${line##*:}
	line=${line%:*}:${flags//F/}F
	as_root sh -c 'printf "%s\n" "$1" >"$2/register"' register "$line" "$misc" ||
		die "registering qemu-aarch64 with binfmt_misc failed"
	log "arm64 programs run here under qemu-aarch64 (binfmt_misc)"
fi
grep -qx enabled "$misc/qemu-aarch64" || die "binfmt_misc's qemu-aarch64 entry is disabled"
grep -q '^flags: .*F' "$misc/qemu-aarch64" ||
	die "binfmt_misc's qemu-aarch64 entry lacks the F flag, so chroots of arm64 systems cannot run (echo -1 >$misc/qemu-aarch64 and run this again)"
