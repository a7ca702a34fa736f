#!/usr/bin/env bash
# Prepares Debian's own signed kernel as a target (no kernel is built):
#
#   scripts/debian-kernel.sh        DEBIAN_KERNEL=7.2.12 picks another upload
#
# For the newest 7.3 upload in trixie-backports (KERNEL_SERIES), or the one
# DEBIAN_KERNEL names, it downloads with the project's own apt configuration
# the headers, kbuild, the signed image, the modules, linux-base and the
# linux-source of that same upload; assembles a trixie root holding the
# toolchain the headers' .config names (rustc, bindgen, gcc) and those
# headers; rebuilds the headers' missing Rust metadata in that root with
# scripts/debian-metadata.sh (the operators' command, which also proves the
# symbol match); and lays out what the test guest boots: the stock vmlinuz,
# an initramfs with the stock 9p modules, and a depmod'ed copy of the stock
# modules. Prints the target directory (the --kernel of run-vm.sh and
# build-module.sh). Everything is cached, keyed by the upload.
source "$(dirname "$0")/common.sh"
source "$PROJECT_DIR/scripts/debian-apt.sh"

"$PROJECT_DIR/scripts/bootstrap.sh"
debian_apt "$KERNEL_SUITE" "$KERNEL_SUITE"
series=$KERNEL_SERIES
if [[ -n ${DEBIAN_KERNEL:-} ]]; then
	[[ $DEBIAN_KERNEL =~ ^([0-9]+\.[0-9]+)\.[0-9]+$ ]] ||
		die "DEBIAN_KERNEL=$DEBIAN_KERNEL: give an upstream version such as 7.3.4 or 7.2.12"
	series=${BASH_REMATCH[1]}
	pattern="^linux-headers-${DEBIAN_KERNEL//./\\.}\+deb[0-9]+-amd64$"
else
	pattern="^linux-headers-${series//./\\.}\.[0-9]+\+deb[0-9]+-amd64$"
fi
headers=$(apt-cache "${APT_OPTS[@]}" pkgnames linux-headers- | grep -E "$pattern" | sort -V | tail -n 1) || true
[[ -n $headers ]] ||
	die "Debian $KERNEL_SUITE has no amd64 kernel headers for ${DEBIAN_KERNEL:-the $series series} (uploads there: $(apt-cache "${APT_OPTS[@]}" pkgnames linux-headers- | sed -nE 's/^linux-headers-([0-9.]+)\+deb[0-9]+-amd64$/\1/p' | sort -V | tr '\n' ' '))"
abi=${headers#linux-headers-}
abi=${abi%-amd64}
release=$abi-amd64
version=$(debian_version "$headers")
packages=(
	"linux-headers-$release=$version"
	"linux-headers-$abi-common=$version"
	"linux-kbuild-$abi=$version"
	"linux-binary-$release=$version"
	"linux-modules-$release=$version"
	"linux-base-$release=$version"
	"linux-source-$series=$version"
)
out=$CACHE_DIR/debian/$release-${version//[~:+]/_}
if [[ -f $out/.ready ]]; then
	log "reusing Debian's kernel $release ($version) in $out"
	echo "$out"
	exit 0
fi
log "Debian's kernel $release, upload $version"
kernel_debs=$APT_DIR/debs
debian_download "$kernel_debs" "${packages[@]}"
deb() { debian_deb "$kernel_debs" "$1=$version"; }

# The toolchain the headers name, as Debian trixie packages.
config=$(dpkg-deb --fsys-tarfile "$(deb "linux-headers-$release")" |
	tar -xO "./usr/src/linux-headers-$release/.config")
text() { sed -n "s/^CONFIG_$1=\"\(.*\)\"$/\1/p" <<<"$config"; }
rustc_text=$(text RUSTC_VERSION_TEXT) bindgen_text=$(text BINDGEN_VERSION_TEXT) cc_text=$(text CC_VERSION_TEXT)
[[ -n $rustc_text ]] || die "$release is built without Rust (no CONFIG_RUSTC_VERSION_TEXT)"
debian_apt trixie trixie
pick() {
	local pkg=$1 upstream=$2 v
	v=$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -v u="$upstream" '$3 ~ "^" u "[-+]" {print $3; exit}')
	[[ -n $v ]] || die "$release was built with $pkg $upstream, which Debian trixie does not carry (it has: $(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk '{print $3}' | tr '\n' ' '))"
	echo "$v"
}
rust_v=$(pick rustc "$(awk '{print $2}' <<<"$rustc_text")")
bindgen_v=$(pick bindgen "$(awk '{print $2}' <<<"$bindgen_text")")
[[ $cc_text =~ ^x86_64-linux-gnu-(gcc-[0-9]+)\ \(Debian\ ([^\)]+)\) ]] ||
	die "$release was built with '$cc_text', not a Debian GCC this script knows"
gcc_pkg=${BASH_REMATCH[1]} gcc_v=${BASH_REMATCH[2]}
toolchain=(
	"rustc=$rust_v" "rust-src=$rust_v" "libstd-rust-dev=$rust_v" "rust-clippy=$rust_v"
	"bindgen=$bindgen_v" "$gcc_pkg=$gcc_v"
	# kbuild's own needs, the module's build, and dkms for its test.
	make gcc libc6-dev binutils libelf-dev libssl-dev bc bison flex dwarves python3 kmod cpio perl openssl
	dkms patch
)
mkdir -p "$out"
root=$("$PROJECT_DIR/scripts/trixie-root.sh" "$out/root" \
	--deb "$(deb "linux-headers-$release")" --deb "$(deb "linux-headers-$abi-common")" \
	--deb "$(deb "linux-kbuild-$abi")" --deb "$(deb "linux-source-$series")" "${toolchain[@]}")

# The operators' command, in the root, where it finds everything at the
# paths a Debian 13 machine has. It checks the toolchain texts exactly.
"$PROJECT_DIR/scripts/in-root.sh" "$root" --bind "$PROJECT_DIR" -- \
	"$PROJECT_DIR/scripts/debian-metadata.sh" "/usr/src/linux-headers-$release"

# What the guest boots: the signed image, and the stock modules with the
# 9p ones in an initramfs (Debian builds them as modules).
rm -rf "$out/boot" "$out/modroot" "$out/unpack"
mkdir -p "$out/boot" "$out/unpack"
for p in linux-binary-$release linux-modules-$release linux-base-$release; do
	dpkg-deb -x "$(deb "$p")" "$out/unpack"
done
mkdir -p "$out/modroot/lib/modules"
mv "$out/unpack/usr/lib/modules/$release" "$out/modroot/lib/modules/"
moddir=$out/modroot/lib/modules/$release
mv "$moddir/vmlinuz" "$out/boot/vmlinuz"
rm -rf "$out/unpack" "$moddir/build" "$moddir/source"
depmod -b "$out/modroot" "$release"

initrd=$out/initramfs
mkdir -p "$initrd/bin" "$initrd/dev" "$initrd/modules"
cp /bin/busybox "$initrd/bin/busybox"
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
echo "/usr/src/linux-headers-$release" >"$out/headers"
touch "$out/.ready"
log "Debian's kernel $release is ready in $out"
echo "$out"
