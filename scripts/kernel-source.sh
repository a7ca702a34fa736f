#!/usr/bin/env bash
# Fetches Debian's linux-source-$KERNEL_SERIES and unpacks it into the cache.
# Prints the unpacked source directory on stdout.
# Uses an apt configuration of its own: the machine's apt sources stay untouched.
source "$(dirname "$0")/common.sh"

apt_dir=$CACHE_DIR/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc" "$apt_dir/debs"
cat >"$apt_dir/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $KERNEL_SUITE main
SRC
apt_opts=(
	-o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir"
	-o "Dir::State::status=/dev/null"
	-o "APT::Get::List-Cleanup=0"
	-o "Debug::NoLocking=1"
	-q
)
pkg=linux-source-$KERNEL_SERIES

# Refresh the package index at most once a day.
stamp=$apt_dir/lists/.updated-$KERNEL_SUITE
if [[ ! -e $stamp ]] || [[ -n $(find "$stamp" -mmin +1440) ]]; then
	log "updating the $KERNEL_SUITE package index (own apt config in $apt_dir)"
	apt-get "${apt_opts[@]}" update >&2 || die "apt-get update for $KERNEL_SUITE failed: deb.debian.org must be reachable"
	touch "$stamp"
fi

version=$(apt-cache "${apt_opts[@]}" show "$pkg" 2>/dev/null | awk '/^Version:/ {print $2; exit}') || true
[[ -n $version ]] ||
	die "Debian $KERNEL_SUITE has no package $pkg: KERNEL_SERIES=$KERNEL_SERIES does not exist there (try KERNEL_SERIES=7.3, or KERNEL_SUITE=trixie for 6.12)"

src_dir=$CACHE_DIR/src/$pkg-$version
if [[ ! -f $src_dir/.unpacked ]]; then
	deb=$(ls "$apt_dir/debs/${pkg}_${version//:/%3a}_"*.deb 2>/dev/null | head -n1) || true
	if [[ -z $deb ]]; then
		log "downloading $pkg $version"
		(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "$pkg=$version" >&2) ||
			die "apt-get download $pkg=$version failed"
		deb=$(ls "$apt_dir/debs/${pkg}_"*.deb | head -n1)
	fi
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
