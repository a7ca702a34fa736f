#!/usr/bin/env bash
# The project's Debian packages as an operator installs them: built
# (scripts/debian-package.sh: dpkg-buildpackage and lintian in a clean
# trixie system), then installed, upgraded to a second kernel and removed
# with apt in an operator's system of SUITE and ARCH
# (scripts/package-root.sh operator SUITE ARCH; tests/debian/package.sh
# says what is checked there).
#
#   scripts/package-test.sh [SUITE [ARCH]]      (default: trixie amd64)
#
# The kernel is the newest upload of SUITE's kernels (for trixie: of
# trixie-backports' KERNEL_SERIES) for ARCH; DEBIAN_UPGRADE, the second
# kernel (an upstream version of the same suite: trixie-backports' 7.2.12
# by default on amd64; "-" for none, the default elsewhere: sid and forky
# carry one upload at a time, and on arm64 each upload's metadata is tens
# of emulated minutes). Prints the directory holding the module DKMS built
# there (ip_vs_mh.ko), which a guest of that kernel can run.
#
# arm64 runs under qemu-user (scripts/binfmt-arm64.sh): DKMS rebuilds the
# kernel's Rust metadata there once per upload, at emulated speed (tens of
# minutes); later runs reuse it as an operator's machine would. On a
# system of another architecture than this machine's, the clone-and-make
# paths (tests/debian/operator-install.sh: make debian-install, signing)
# then run there too, natively: on this machine's own architecture they run
# in the kernel's target root (scripts/test-all.sh).
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

suite=${1:-trixie} arch=${2:-amd64}
kernel_suite=$suite
[[ $suite != trixie ]] || kernel_suite=$KERNEL_SUITE
upgrade=${DEBIAN_UPGRADE:-}
[[ -n $upgrade ]] || { [[ $suite == trixie && $arch == amd64 ]] && upgrade=7.2.12 || upgrade=-; }

APT_ARCHS="amd64 arm64" debian_apt kernels "$KERNEL_SUITE" forky sid experimental
abi=$(debian_kernel_uploads "$arch" | awk -v s="$kernel_suite" -v series="$KERNEL_SERIES" '
	$2 == s && (s != "'"$KERNEL_SUITE"'" || index($1, series ".") == 1) { abi = $3 } END { print abi }')
[[ -n $abi ]] || die "no $arch kernel upload in $kernel_suite (scripts/debian-kernel.sh lists them)"
release=$abi-$arch

then=
[[ $upgrade == - ]] || then=", a kernel upgrade to $upgrade"
log "the Debian packages in a $suite $arch system: dpkg-buildpackage and lintian, then apt install on $release$then, apt remove"
debs=$("$PROJECT_DIR/scripts/debian-package.sh")
root=$("$PROJECT_DIR/scripts/package-root.sh" operator "$suite" "$arch")
installed=$CACHE_DIR/package/installed
[[ $suite == trixie && $arch == amd64 ]] || installed+=-$suite-$arch
mkdir -p "$installed"
rm -f "$installed/ip_vs_mh.ko"
# The test seeds the operator system's metadata cache with its last run's
# (an operator rebuilds it once per upload); a first run starts from the
# kernel's target root (scripts/debian-kernel.sh), which built the same
# inputs, if it exists. Those roots run this machine's programs: their
# metadata (its proc macros are host programs) fits only an amd64 system.
seed=$(compgen -G "$CACHE_DIR/debian/$release-*/root/var/cache/ip-vs-mh-rs" | head -n 1 || true)
[[ -d $installed/metadata-cache || -z $seed || $arch != amd64 ]] || cp -a "$seed" "$installed/metadata-cache"
"$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$PROJECT_DIR" --bind "$debs" --bind "$installed" -- \
	"$PROJECT_DIR/tests/debian/package.sh" "$PROJECT_DIR" "$debs" "$release" "$upgrade" "$installed" >&2 ||
	die "the Debian package test in the $suite $arch system failed (its FAIL lines are above)"
[[ -f $installed/ip_vs_mh.ko ]] || die "the package test left no DKMS-built module"
if [[ $arch != "$(dpkg --print-architecture)" ]]; then
	log "the clone-and-make install paths on $release (make debian-install, signing) in the $suite $arch system"
	# The toolchain, headers and source the package brought stay after its
	# removal; the metadata cache went with the purge: an operator who
	# builds by hand next has it from their earlier build, as here.
	# shellcheck disable=SC2016 # expanded by the inner shell
	"$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$PROJECT_DIR" --bind "$installed" -- bash -c '
		mkdir -p /var/cache/ip-vs-mh-rs && cp -a "$1/metadata-cache/." /var/cache/ip-vs-mh-rs/ &&
		"$2/tests/debian/operator-install.sh" "$2" "$3" "/lib/modules/$3"' run "$installed" "$PROJECT_DIR" "$release" >&2 ||
		die "the clone-and-make install paths failed in the $suite $arch system (above)"
fi
echo "$installed"
