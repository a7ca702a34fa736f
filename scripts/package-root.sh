#!/usr/bin/env bash
# A Debian system in a directory, as an operator's machine has it: made by
# mmdebstrap with dpkg's database and apt, so that packages install with
# their maintainer scripts, triggers and hooks (DKMS's included). Two
# kinds: "build", where the project's Debian packages are built
# (scripts/debian-package.sh: only their build dependencies are ever
# installed there, trixie amd64), and "operator", where they are installed
# as an operator would (scripts/package-test.sh), of a SUITE (trixie, with
# trixie-backports; forky; sid) and an ARCH (amd64, or arm64: its binaries
# run under qemu-user, registered with binfmt_misc here).
# Commands run in them with scripts/in-root.sh.
#
#   scripts/package-root.sh build|operator [SUITE [ARCH]]
#                      prints the root's path (made once, kept in the cache;
#                      its package lists refreshed daily)
#
# Unlike scripts/debian-root.sh (an unpacked package set, no maintainer
# scripts), everything here is installed the way apt installs it.
source "$(dirname "$0")/common.sh"

name=${1:-} suite=${2:-trixie} arch=${3:-amd64}
[[ ($name == build && $suite == trixie && $arch == amd64) || $name == operator ]] ||
	die "usage: package-root.sh build|operator [SUITE [ARCH]] (the build system is trixie amd64)"
[[ $suite =~ ^(trixie|forky|sid)$ ]] || die "package-root.sh: no operator system of suite '$suite' (trixie, forky or sid)"
[[ $arch =~ ^(amd64|arm64)$ ]] || die "package-root.sh: no operator system of architecture '$arch' (amd64 or arm64)"
root=$CACHE_DIR/package-root/$name
[[ $suite == trixie && $arch == amd64 ]] || root+=-$suite-$arch
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
sources=("deb [signed-by=$keyring] $mirror $suite main")
[[ $suite != trixie ]] || sources+=("deb [signed-by=$keyring] $mirror trixie-backports main")
# Daemons do not start in it (policy-rc.d); the build tools of a Debian
# package are there from the start. The archive this machine reaches may be
# a snapshot older than a Release file's Valid-Until (sid's was 30 days
# past it on 2026-12-06; the machine's own apt configuration ignores it
# too); the signatures are still checked.
# shellcheck disable=SC2016 # expanded by mmdebstrap's hook shell
options=(--variant=apt --mode=root --aptopt='Acquire::Retries "3"'
	--aptopt='Acquire::Check-Valid-Until "false"' --skip=cleanup/apt/lists
	--include=build-essential,fakeroot,lintian,ca-certificates
	--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod 755 "$1/usr/sbin/policy-rc.d"'
	--arch="$arch" "$suite")
# The root is remade when what makes it changes.
key=$(printf '%s\n' "${options[@]}" "${sources[@]}" | sha256sum | cut -c1-16)

# An arm64 system's programs run here only while binfmt_misc knows the
# emulator: making the root and every later command in it need that.
[[ $arch == amd64 ]] || "$PROJECT_DIR/scripts/binfmt-arm64.sh"
if [[ ! -f $root/.root-$key ]]; then
	command -v mmdebstrap >/dev/null ||
		die "mmdebstrap is missing (scripts/bootstrap.sh installs it)"
	log "making a $suite $arch system with apt and dpkg in $root (mmdebstrap), for the $name"
	rm -rf "$root" "$root.tmp"
	mkdir -p "$(dirname "$root")"
	mmdebstrap "${options[@]}" "$root.tmp" "${sources[@]}" >&2 ||
		die "mmdebstrap of $suite $arch failed (its messages are above; deb.debian.org must be reachable)"
	# in-root.sh runs commands here as in the other roots.
	[[ -x $root.tmp/usr/bin/bash ]] || die "the $suite system in $root.tmp has no bash"
	touch "$root.tmp/.root-$key"
	mv "$root.tmp" "$root"
	touch "$root/.apt-updated"
fi
# Fresh package lists, at most once a day.
if [[ -n $(find "$root/.apt-updated" -mmin +1440) ]]; then
	"$PROJECT_DIR/scripts/in-root.sh" "$root" -- apt-get -q update >&2 ||
		die "apt-get update in $root failed: deb.debian.org must be reachable"
	touch "$root/.apt-updated"
fi
echo "$root"
