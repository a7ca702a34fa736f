#!/usr/bin/env bash
# A Debian trixie system in a directory, as an operator's machine has it:
# made by mmdebstrap with dpkg's database and apt (sources: trixie and
# trixie-backports), so that packages install with their maintainer
# scripts, triggers and hooks (DKMS's included). Two of them: "build", where
# the project's Debian packages are built (scripts/debian-package.sh: only
# their build dependencies are ever installed there), and "operator", where
# they are installed as an operator would (tests/debian/package.sh).
# Commands run in them with scripts/in-root.sh.
#
#   scripts/package-root.sh build|operator
#                      prints the root's path (made once, kept in the cache;
#                      its package lists refreshed daily)
#
# Unlike scripts/debian-root.sh (an unpacked package set, no maintainer
# scripts), everything here is installed the way apt installs it.
source "$(dirname "$0")/common.sh"

name=${1:-}
[[ $name == build || $name == operator ]] || die "usage: package-root.sh build|operator"
root=$CACHE_DIR/package-root/$name
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# The root is remade when this script changes.
key=$(sha256sum "$0" | cut -c1-16)

if [[ ! -f $root/.root-$key ]]; then
	command -v mmdebstrap >/dev/null ||
		die "mmdebstrap is missing (scripts/bootstrap.sh installs it)"
	log "making a trixie system with apt and dpkg in $root (mmdebstrap), for the $name"
	rm -rf "$root" "$root.tmp"
	mkdir -p "$(dirname "$root")"
	# Daemons do not start in it (policy-rc.d); the build tools of a
	# Debian package are there from the start.
	mmdebstrap --variant=apt --mode=root --aptopt='Acquire::Retries "3"' --skip=cleanup/apt/lists \
		--include=build-essential,fakeroot,lintian,ca-certificates \
		--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod 755 "$1/usr/sbin/policy-rc.d"' \
		trixie "$root.tmp" \
		"deb [signed-by=$keyring] $mirror trixie main" \
		"deb [signed-by=$keyring] $mirror trixie-backports main" >&2 ||
		die "mmdebstrap of trixie failed: deb.debian.org must be reachable"
	# in-root.sh runs commands here as in the other roots.
	[[ -x $root.tmp/usr/bin/bash ]] || die "the trixie system in $root.tmp has no bash"
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
