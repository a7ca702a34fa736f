#!/usr/bin/env bash
# Fetches Debian's linux-source-$KERNEL_SERIES and unpacks it into the cache.
#   scripts/kernel-source.sh [VERSION]    (default: the newest upload)
# Prints the unpacked source directory on stdout.
# Uses an apt configuration of its own: the machine's apt sources stay untouched.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

debian_apt "$KERNEL_SUITE" "$KERNEL_SUITE"
pkg=linux-source-$KERNEL_SERIES
version=${1:-$(debian_version "$pkg")}
[[ -n $version ]] ||
	die "Debian $KERNEL_SUITE has no package $pkg: KERNEL_SERIES=$KERNEL_SERIES does not exist there (try KERNEL_SERIES=7.3, or KERNEL_SUITE=trixie for 6.12)"

src_dir=$CACHE_DIR/src/$pkg-$version
if [[ ! -f $src_dir/.unpacked ]]; then
	debian_download "$APT_DIR/debs" "$pkg=$version"
	deb=$(debian_deb "$APT_DIR/debs" "$pkg=$version")
	[[ -n $deb ]] || die "no .deb for $pkg $version after the download"
	log "unpacking $deb into $src_dir"
	rm -rf "$src_dir" "$src_dir.tmp"
	mkdir -p "$src_dir.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src_dir.tmp" --wildcards '*.tar.xz'
	tarball=$(find "$src_dir.tmp" -name 'linux-source-*.tar.xz' | head -n1)
	[[ -n $tarball ]] || die "$deb holds no linux-source tarball"
	tar -xJf "$tarball" -C "$src_dir.tmp"
	rm -f "$tarball"
	[[ -f $src_dir.tmp/$pkg/Makefile ]] || die "unexpected layout in $deb: no $pkg/Makefile"
	mv "$src_dir.tmp/$pkg" "$src_dir"
	rm -rf "$src_dir.tmp"
	touch "$src_dir/.unpacked"
fi
echo "$src_dir"
