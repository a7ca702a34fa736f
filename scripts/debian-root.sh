#!/usr/bin/env bash
# Assembles a root of one Debian suite (trixie, forky, sid) from Debian's
# packages, without debootstrap or maintainer scripts: apt resolves the
# closure of PACKAGEs with an empty status file (the project's own apt
# configuration, see debian-apt.sh), every .deb of it is unpacked with
# dpkg-deb, and the few things maintainer scripts would have made are made
# here.
#
#   scripts/debian-root.sh SUITE DIR [--arch ARCH] [--deb FILE]... PACKAGE[=VERSION]...
#
# --deb unpacks further .debs (kernel headers from trixie-backports, say) on
# top. --arch makes a root of another architecture (arm64: what an arm64
# test guest boots; default amd64). The root is rebuilt only when the
# resolved package set changes. Commands run in an amd64 root with
# scripts/in-root.sh. Prints DIR.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

suite=$1 root=$2
shift 2
usage="usage: debian-root.sh SUITE DIR [--arch ARCH] [--deb FILE]... PACKAGE..."
[[ $suite =~ ^[a-z]+$ ]] || die "$usage"
extra=() arch=amd64
while [[ ${1:-} == --* ]]; do
	case $1 in
	--deb) extra+=("$2") ;;
	--arch) arch=$2 ;;
	*) die "$usage" ;;
	esac
	shift 2
done
(($#)) || die "$usage"

if [[ $arch == amd64 ]]; then
	debian_apt "$suite" "$suite"
else
	APT_ARCHS=$arch debian_apt "$suite-$arch" "$suite"
fi
# The essential set a shell script needs is not pulled in by dependencies.
base=(base-files base-passwd bash coreutils dash diffutils findutils grep gawk sed tar gzip xz-utils)
plan=$(apt-get "${APT_OPTS[@]}" install -s --no-install-recommends "${base[@]}" "$@" 2>&1) ||
	die "apt cannot resolve the $suite packages $*:"$'\n'"$plan"
mapfile -t debs < <(awk '/^Inst / {gsub(/[()]/, ""); print $2 "_" $3}' <<<"$plan" | sort)
((${#debs[@]})) || die "apt resolved no packages for $*"
key=$({
	echo "$suite $arch"
	printf '%s\n' "${debs[@]}"
	for f in "${extra[@]}"; do basename "$f"; done
	sha256sum "$0" | cut -c1-16
} | sha256sum | cut -c1-16)
if [[ -f $root/.root-$key ]]; then
	echo "$root"
	exit 0
fi

log "assembling a $suite root in $root (${#debs[@]} packages)"
apt-get "${APT_OPTS[@]}" install -y --download-only --no-install-recommends "${base[@]}" "$@" >&2 ||
	die "downloading the $suite packages failed"
rm -rf "$root" "$root.tmp"
mkdir -p "$root.tmp/usr/bin" "$root.tmp/usr/sbin" "$root.tmp/usr/lib" "$root.tmp/usr/lib64"
# The merged /usr that base-files would set up.
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root.tmp/$d"; done
for spec in "${debs[@]}"; do
	name=${spec%%_*} version=${spec#*_}
	deb=$(compgen -G "$APT_DIR/archives/${name}_${version//:/%3a}_*.deb" | head -n 1) ||
		die "apt downloaded no .deb for $name $version"
	dpkg-deb -x "$deb" "$root.tmp"
done
for deb in "${extra[@]}"; do
	dpkg-deb -x "$deb" "$root.tmp"
done
for d in bin sbin lib lib64; do
	[[ -L $root.tmp/$d ]] || die "a package replaced the /$d symlink in the $suite root"
done
# What maintainer scripts and alternatives would have made.
cp "$root.tmp/usr/share/base-passwd/passwd.master" "$root.tmp/etc/passwd"
cp "$root.tmp/usr/share/base-passwd/group.master" "$root.tmp/etc/group"
[[ -e $root.tmp/usr/bin/sh ]] || ln -s dash "$root.tmp/usr/bin/sh"
[[ -e $root.tmp/usr/bin/awk ]] || ln -s gawk "$root.tmp/usr/bin/awk"
mkdir -p "$root.tmp"/{proc,sys,dev,tmp,run,root}
chmod 1777 "$root.tmp/tmp"
printf '%s\n' "${debs[@]}" >"$root.tmp/.packages"
touch "$root.tmp/.root-$key"
mv "$root.tmp" "$root"
log "$suite root ready: $root"
echo "$root"
