#!/usr/bin/env bash
# Prepares Debian's own signed kernel as a target (no kernel is built):
#
#   scripts/debian-kernel.sh
#
# takes the newest 7.3 upload in trixie-backports (KERNEL_SERIES,
# KERNEL_SUITE), or the one DEBIAN_KERNEL names: a Debian version, in any
# suite that carries Debian's 7.x kernels (7.2.13-1 in sid, 7.2.12-1 in
# forky, 7.3~rc7-1~exp1 in experimental, 7.2.6-1~bpo13+1), a suite (sid:
# its newest upload), or an upstream version for the default suite
# (7.2.12); DEBIAN_ARCH picks amd64 (the default) or arm64. It downloads
# with the project's own apt configuration the headers, kbuild, the signed
# image, the modules, linux-base and the linux-source of that same upload;
# assembles a root of the first suite (trixie, forky, sid) that carries the
# exact toolchain the headers' .config names (rustc, bindgen, gcc: for
# arm64 its cross gcc of the same Debian version, and kbuild's amd64 host
# tools), with those headers in it; rebuilds the headers' missing Rust
# metadata in that root with scripts/debian-metadata.sh (the operators'
# command, which also proves the symbol match); and lays out what the test
# guest boots: the stock vmlinuz, an initramfs with the stock 9p modules, a
# depmod'ed copy of the stock modules and, for arm64, a root of arm64
# Debian packages (the guest cannot share the host's). Prints the target
# directory (the --kernel of run-vm.sh and build-module.sh). Everything is
# cached, keyed by the upload and architecture.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

"$PROJECT_DIR/scripts/bootstrap.sh"
arch=${DEBIAN_ARCH:-amd64}
case $arch in
amd64) triplet=x86_64-linux-gnu ;;
arm64) triplet=aarch64-linux-gnu ;;
*) die "DEBIAN_ARCH=$arch: Debian builds its kernels with Rust for amd64 and arm64 only" ;;
esac
# Every suite that carries Debian's 7.x kernels, both architectures.
APT_ARCHS="amd64 arm64" debian_apt kernels "$KERNEL_SUITE" forky sid experimental
uploads=$(debian_kernel_uploads "$arch")
listing() { awk '{ printf "%s%s (%s)", (NR > 1 ? ", " : ""), $1, $2 }' <<<"$uploads"; }
want=${DEBIAN_KERNEL:-}
if [[ -z $want ]]; then
	# The newest upload of the series in the default suite.
	upload=$(awk -v s="$KERNEL_SUITE" -v p="^${KERNEL_SERIES//./[.]}[.][0-9]+[+]" '$2 == s && $3 ~ p' <<<"$uploads" | tail -n 1)
elif [[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	# An upstream version: that release in the default suite.
	upload=$(awk -v s="$KERNEL_SUITE" -v p="^${want//./[.]}[+]" '$2 == s && $3 ~ p' <<<"$uploads" | tail -n 1)
elif [[ $want =~ ^[a-z]+(-[a-z]+)?$ ]]; then
	# A suite: its newest upload.
	upload=$(awk -v s="$want" '$2 == s' <<<"$uploads" | tail -n 1)
else
	# A Debian version: that upload, in whichever suite has it.
	upload=$(awk -v v="$want" '$1 == v' <<<"$uploads" | tail -n 1)
fi
[[ -n $upload ]] ||
	die "no Debian $arch kernel upload ${want:-of the $KERNEL_SERIES series in $KERNEL_SUITE}: give DEBIAN_KERNEL as a Debian version, a suite or, for $KERNEL_SUITE, an upstream version (uploads: $(listing))"
read -r version suite abi <<<"$upload"
release=$abi-$arch
series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$abi")
# kbuild's tools run on this (amd64) machine; the rest is the target's.
packages=(
	"linux-headers-$release:$arch=$version"
	"linux-headers-$abi-common=$version"
	"linux-kbuild-$abi:amd64=$version"
	"linux-binary-$release:$arch=$version"
	"linux-modules-$release:$arch=$version"
	"linux-base-$release:$arch=$version"
	"linux-source-$series=$version"
)
out=$CACHE_DIR/debian/$release-${version//[~:+]/_}
if [[ -f $out/.ready ]]; then
	# Targets made before other suites were known were all built in trixie.
	[[ -f $out/upload ]] || echo "$version $suite trixie" >"$out/upload"
	[[ -f $out/arch ]] || echo amd64 >"$out/arch"
	log "reusing Debian's kernel $release ($version) in $out"
	echo "$out"
	exit 0
fi
log "Debian's kernel $release, upload $version"
kernel_debs=$APT_DIR/debs
debian_download "$kernel_debs" "${packages[@]}"
deb() { debian_deb "$kernel_debs" "$1=$version"; }
# The target's packages, of its architecture.
target_deb() { deb "$1:$arch"; }

# The toolchain the headers name, from the first Debian suite that carries
# all of it at the exact versions.
config=$(dpkg-deb --fsys-tarfile "$(target_deb "linux-headers-$release")" |
	tar -xO "./usr/src/linux-headers-$release/.config")
text() { sed -n "s/^CONFIG_$1=\"\(.*\)\"$/\1/p" <<<"$config"; }
rustc_text=$(text RUSTC_VERSION_TEXT) bindgen_text=$(text BINDGEN_VERSION_TEXT) cc_text=$(text CC_VERSION_TEXT)
[[ -n $rustc_text ]] || die "$release is built without Rust (no CONFIG_RUSTC_VERSION_TEXT)"
[[ $cc_text =~ ^$triplet-(gcc-[0-9]+)\ \(Debian\ ([^\)]+)\) ]] ||
	die "$release was built with '$cc_text', not a Debian GCC this script knows"
gcc_pkg=${BASH_REMATCH[1]} gcc_v=${BASH_REMATCH[2]}
# For arm64, Debian's cross compiler of the same version (14.2.0-19cross1
# says "Debian 14.2.0-19" as the native one does), its C library (Kconfig's
# CC_CAN_LINK links a program) and the 32-bit compiler the compat vDSO is
# built with (any version: no Rust there).
gcc_want="^${gcc_v//./[.]}\$" cross=()
if [[ $arch != amd64 ]]; then
	gcc_pkg=$gcc_pkg-$triplet gcc_want="^${gcc_v//./[.]}cross[0-9]+\$"
	cross=("libc6-dev-$arch-cross" gcc-arm-linux-gnueabihf)
fi
rustc_up=$(awk '{print $2}' <<<"$rustc_text") bindgen_up=$(awk '{print $2}' <<<"$bindgen_text")
# pick PACKAGE REGEX: the first version of PACKAGE in the current apt state
# that REGEX matches; "" if none.
pick() {
	apt-cache "${APT_OPTS[@]}" madison "$1" | awk -v w="$2" '$3 ~ w { print $3; exit }'
}
tool_suite= missing=()
for candidate in trixie forky sid; do
	debian_apt "$candidate" "$candidate"
	rust_v=$(pick rustc "^${rustc_up//./[.]}[-+]") bindgen_v=$(pick bindgen "^${bindgen_up//./[.]}[-+]")
	have_gcc=$(pick "$gcc_pkg" "$gcc_want")
	if [[ -n $rust_v && -n $bindgen_v && -n $have_gcc ]]; then
		tool_suite=$candidate
		break
	fi
	# What it lacks, shortest first: the matrix prints this in one line.
	lacks=()
	[[ -n $rust_v ]] || lacks+=("rustc $rustc_up")
	[[ -n $bindgen_v ]] || lacks+=("bindgen $bindgen_up")
	if [[ -z $have_gcc ]]; then
		other=$(pick "$gcc_pkg" .)
		lacks+=("$gcc_pkg $gcc_v (it has ${other:-none})")
	fi
	missing+=("$candidate lacks $(printf '%s, ' "${lacks[@]}" | sed 's/, $//')")
done
[[ -n $tool_suite ]] ||
	die "$release was built with rustc $rustc_up, bindgen $bindgen_up and $gcc_pkg $gcc_v, which no Debian suite carries together: $(printf '%s; ' "${missing[@]}" | sed 's/; $//')"
log "toolchain of $release from Debian $tool_suite: rustc $rust_v, bindgen $bindgen_v, $gcc_pkg $gcc_v"
toolchain=(
	"rustc=$rust_v" "rust-src=$rust_v" "libstd-rust-dev=$rust_v" "rust-clippy=$rust_v"
	"bindgen=$bindgen_v" "$gcc_pkg=$have_gcc" "${cross[@]}"
	# kbuild's own needs, the module's build, and dkms for its test.
	make gcc libc6-dev binutils libelf-dev libssl-dev bc bison flex dwarves python3 kmod cpio perl openssl
	dkms patch
)
mkdir -p "$out"
root=$("$PROJECT_DIR/scripts/debian-root.sh" "$tool_suite" "$out/root" \
	--deb "$(target_deb "linux-headers-$release")" --deb "$(deb "linux-headers-$abi-common")" \
	--deb "$(deb "linux-kbuild-$abi:amd64")" --deb "$(deb "linux-source-$series")" "${toolchain[@]}")

# The operators' command, in the root, where it finds everything at the
# paths a Debian 13 machine has. It checks the toolchain texts exactly.
"$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$PROJECT_DIR" -- \
	"$PROJECT_DIR/scripts/debian-metadata.sh" "/usr/src/linux-headers-$release"

# What the guest boots: the signed image, and the stock modules with the
# 9p ones in an initramfs (Debian builds them as modules).
rm -rf "$out/boot" "$out/modroot" "$out/unpack"
mkdir -p "$out/boot" "$out/unpack"
for p in linux-binary-$release linux-modules-$release linux-base-$release; do
	dpkg-deb -x "$(target_deb "$p")" "$out/unpack"
done
mkdir -p "$out/modroot/lib/modules"
mv "$out/unpack/usr/lib/modules/$release" "$out/modroot/lib/modules/"
moddir=$out/modroot/lib/modules/$release
mv "$moddir/vmlinuz" "$out/boot/vmlinuz"
rm -rf "$out/unpack" "$moddir/build" "$moddir/source"
depmod -b "$out/modroot" "$release"

# An arm64 guest cannot share this machine's root: it gets one of arm64
# Debian packages, with what the scenarios it runs need (module, exactness,
# balance), its static busybox the initramfs's too.
busybox=/bin/busybox
if [[ $arch != amd64 ]]; then
	guest_root=$("$PROJECT_DIR/scripts/debian-root.sh" trixie "$out/guest-root" --arch "$arch" \
		bash busybox-static python3 ipvsadm iproute2 kmod util-linux mount procps)
	# Where scripts/guest-init.sh mounts the modules and its tmpfs.
	mkdir -p "$guest_root/usr/lib/modules" "$guest_root/var/tmp" "$guest_root/var/lib/ipvsadm"
	busybox=$guest_root/usr/bin/busybox
fi
initrd=$out/initramfs
mkdir -p "$initrd/bin" "$initrd/dev" "$initrd/modules"
cp "$busybox" "$initrd/bin/busybox"
install -m 755 "$PROJECT_DIR/scripts/initramfs-init.sh" "$initrd/init"
for m in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p; do
	xz -dc "$moddir/kernel/$m.ko.xz" >"$initrd/modules/$(basename "$m").ko"
done
# The kernel opens /dev/console before /init runs.
as_root mknod -m 600 "$initrd/dev/console" c 5 1
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/boot/initrd.img"
rm -rf "$initrd"

# The C scheduler's source of this upload, for copies of Debian's own C
# module under another name (scripts/build-reference-mh.sh).
dpkg-deb --fsys-tarfile "$(deb "linux-source-$series")" |
	tar -xO "./usr/src/linux-source-$series.tar.xz" |
	tar -xJO "linux-source-$series/net/netfilter/ipvs/ip_vs_mh.c" >"$out/ip_vs_mh.c"
[[ -s $out/ip_vs_mh.c ]] || die "linux-source-$series holds no net/netfilter/ipvs/ip_vs_mh.c"

echo "$release" >"$out/release"
echo "$arch" >"$out/arch"
echo "$version $suite $tool_suite" >"$out/upload"
echo "/usr/src/linux-headers-$release" >"$out/headers"
touch "$out/.ready"
log "Debian's kernel $release is ready in $out"
echo "$out"
