#!/usr/bin/env bash
# Makes Debian's kernel headers able to build out-of-tree Rust modules.
#
#   scripts/debian-metadata.sh [KDIR]     (default: the running kernel's build dir)
#
# Debian's linux-headers-* packages ship no Rust metadata (rust/*.rmeta, the
# proc-macro libraries, x86's scripts/target.json). This rebuilds it, once per
# kernel upload, from Debian's linux-source of the same upload with the
# headers' own .config and the exact toolchain that built the kernel, into a
# cache; proves that it matches the running kernel (the rebuilt Rust and
# helper exports must be exactly the `_R` and `rust_helper_` symbols of the
# headers' Module.symvers); then copies it into KDIR. A second run for the
# same upload only checks and copies.
#
# Needs (Debian 13 with the trixie-backports kernel): linux-headers-$(uname -r),
# linux-source-X.Y of the same upload, and trixie's rustc, rust-src, bindgen
# and gcc-14 (the versions the headers' .config names; checked here).
# KERNEL_SOURCE=DIR|TARBALL picks the source; IPVS_MH_CACHE the cache.
set -euo pipefail

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

kdir=$(readlink -f "${1:-/lib/modules/$(uname -r)/build}")
[[ -f $kdir/.config && -f $kdir/Module.symvers && -f $kdir/include/config/kernel.release ]] ||
	die "$kdir is not a kernel headers directory (install linux-headers-$(uname -r))"
release=$(cat "$kdir/include/config/kernel.release")
if [[ -f $kdir/rust/libkernel.rmeta && ! -f $kdir/rust/.ip-vs-mh-rs-metadata ]]; then
	log "$kdir has its own Rust metadata (a kernel build tree): nothing to do"
	exit 0
fi
config_text() { sed -n "s/^CONFIG_$1=\"\(.*\)\"$/\1/p" "$kdir/.config"; }
grep -qx 'CONFIG_RUST=y' "$kdir/.config" || die "kernel $release is built without Rust support (CONFIG_RUST)"

# The toolchain the kernel was built with: Rust symbol names carry a hash of
# the exact rustc build, so no other rustc can link against this kernel.
# Debian's .kernelvariables names the architecture and the compilers (with
# their target prefix even for a native build: aarch64-linux-gnu-gcc-14 is
# gcc-14 on arm64 and the cross compiler on amd64).
kernel_variable() { sed -n "s/^override $1 = //p" "$kdir/.kernelvariables" 2>/dev/null; }
arch=$(kernel_variable ARCH) cross=$(kernel_variable CROSS_COMPILE) compat=$(kernel_variable CROSS_COMPILE_COMPAT)
arch=${arch:-x86}
cc=$(sed -n 's/^CC = .*\$(CROSS_COMPILE)\([^ ]*\)$/\1/p' "$kdir/.kernelvariables" 2>/dev/null)
cc=${cross}${cc:-gcc}
# The Debian package of that compiler here: gcc-14, or gcc-14-aarch64-linux-gnu
# on another architecture.
cc_package=${cc#"$cross"}
[[ -z $cross || $cross == "$(uname -m)-linux-gnu-" ]] || cc_package=$cc_package-${cross%-}
RUSTC=${RUSTC:-rustc} BINDGEN=${BINDGEN:-bindgen}
check_tool() {
	local what=$1 want=$2 have=$3 hint=$4
	[[ $have == "$want" ]] ||
		die "$what: kernel $release was built with '$want', but this machine has '${have:-nothing}': $hint"
}
check_tool rustc "$(config_text RUSTC_VERSION_TEXT)" "$("$RUSTC" --version 2>/dev/null)" \
	"install the rustc and rust-src of that version (Debian trixie: apt install rustc rust-src)"
check_tool bindgen "$(config_text BINDGEN_VERSION_TEXT)" "$("$BINDGEN" --version 2>/dev/null)" \
	"install that bindgen (Debian trixie: apt install bindgen)"
check_tool "$cc" "$(config_text CC_VERSION_TEXT)" "$("$cc" --version 2>/dev/null | head -n 1)" \
	"install that compiler (Debian trixie: apt install $cc_package)"
# arm64 builds its 32-bit compat vDSO in `make prepare` (any version).
[[ -z $compat ]] || command -v "${compat}gcc" >/dev/null ||
	die "${compat}gcc is missing, which kernel $release's compat vDSO needs: apt install gcc-${compat%-}"
# What kbuild needs to configure and prepare a tree (Debian: the kernel's
# Build-Depends that `make prepare` uses), each checked with one line.
need() {
	command -v "$1" >/dev/null ||
		die "$1 is missing, which rebuilding the kernel's Rust metadata needs: apt install $2"
}
need make make
need flex flex
need bison bison
need bc bc
need perl perl
need pahole dwarves
need python3 python3
[[ -f /usr/include/libelf.h ]] ||
	die "libelf's headers are missing, which rebuilding the kernel's Rust metadata needs: apt install libelf-dev"
[[ -f /usr/include/openssl/opensslv.h ]] ||
	die "OpenSSL's headers are missing, which rebuilding the kernel's Rust metadata needs: apt install libssl-dev"
sysroot=$("$RUSTC" --print sysroot)
[[ -f $sysroot/lib/rustlib/src/rust/library/core/src/lib.rs ]] ||
	die "rustc has no library sources in $sysroot/lib/rustlib/src (apt install rust-src)"

series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$release")
source=${KERNEL_SOURCE:-}
if [[ -z $source ]]; then
	for s in "/usr/src/linux-source-$series" "/usr/src/linux-source-$series.tar.xz"; do
		[[ -e $s ]] && source=$s && break
	done
fi
[[ -n $source && -e $source ]] ||
	die "no kernel source for $release: install linux-source-$series of the same upload as linux-headers-$release (or set KERNEL_SOURCE)"

if [[ -n ${IPVS_MH_CACHE:-} ]]; then
	cache=$IPVS_MH_CACHE
elif [[ $(id -u) -eq 0 ]]; then
	cache=/var/cache/ip-vs-mh-rs
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/ip-vs-mh-rs
fi
key=$({
	cat "$kdir/.config" "$kdir/Module.symvers"
	"$RUSTC" --version
	"$BINDGEN" --version
	"$cc" --version
	stat -L -c '%n %s %Y' "$source"
	sha256sum <"$0"
} | sha256sum | cut -c1-16)
out=$cache/rust-metadata/$release-$key
make_args=(ARCH="$arch" CROSS_COMPILE="$cross" ${compat:+CROSS_COMPILE_COMPAT="$compat"} CC="$cc" RUSTC="$RUSTC" BINDGEN="$BINDGEN" KERNELRELEASE="$release")

if [[ ! -f $out/.built ]]; then
	# One build per kernel release: an older key's is stale.
	rm -rf "$cache/rust-metadata/$release-"*
	mkdir -p "$out/build"
	if [[ -d $source ]]; then
		src=$source
	else
		log "unpacking $source"
		mkdir -p "$out/src"
		tar -xJf "$source" -C "$out/src" --strip-components=1
		src=$out/src
	fi
	log "rebuilding the Rust metadata of $release in $out (about 3 minutes on 2 cores)"
	cp "$kdir/.config" "$out/build/.config"
	make -s -C "$src" O="$out/build" "${make_args[@]}" olddefconfig >&2
	# Only the binutils version Kconfig reads off the assembler and linker
	# may differ (experimental's 7.3~rc7 was built with binutils 2.47.0, no
	# suite carries it now): Rust code and its symbols do not depend on it.
	# Anything else olddefconfig changes means another source or toolchain.
	binutils='^CONFIG_(AS|LD)_VERSION='
	cmp -s <(grep -Ev "$binutils" "$kdir/.config") <(grep -Ev "$binutils" "$out/build/.config") ||
		die "olddefconfig changed the headers' .config: $source is not the source of $release (take linux-source-$series of the same upload)"
	cmp -s "$kdir/.config" "$out/build/.config" ||
		log "note: binutils here is not the one that built $release ($(grep -E "$binutils" "$out/build/.config" | paste -sd ' ') here, $(grep -E "$binutils" "$kdir/.config" | paste -sd ' ') in its .config)"
	make -s -C "$src" O="$out/build" "${make_args[@]}" -j"$(nproc)" prepare >"$out/prepare.log" 2>&1 || {
		tail -n 30 "$out/prepare.log" >&2
		die "building the Rust metadata failed; log in $out/prepare.log"
	}
	[[ $src == "$out/src" ]] && rm -rf "$out/src"
	touch "$out/.built"
fi

# The proof: same exported Rust symbols (crate hashes and all) and the same
# C helpers as the kernel the headers describe.
exports=$(cat "$out"/build/rust/exports_*_generated.h | sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(.*\));$/\1/p')
symvers=$(awk '$3 == "vmlinux" {print $2}' "$kdir/Module.symvers")
compare() {
	local what=$1 pattern=$2 hint=$3 rebuilt stock
	rebuilt=$(grep -E "$pattern" <<<"$exports" | sort -u)
	stock=$(grep -E "$pattern" <<<"$symvers" | sort -u)
	[[ -n $stock ]] || die "the headers' Module.symvers lists no $what: is $release built with Rust?"
	if [[ $rebuilt != "$stock" ]]; then
		printf '%s\n' "only in the rebuild:" >&2
		comm -23 <(echo "$rebuilt") <(echo "$stock") | head -n 5 >&2
		printf '%s\n' "only in the kernel:" >&2
		comm -13 <(echo "$rebuilt") <(echo "$stock") | head -n 5 >&2
		die "the rebuilt $what ($(wc -l <<<"$rebuilt")) differ from kernel $release's ($(wc -l <<<"$stock")): $hint"
	fi
	log "match: $(wc -l <<<"$stock") $what equal to kernel $release's"
}
compare "Rust exports" '^_R' \
	"the rustc ($("$RUSTC" --version)) or the source is not the one that built this kernel"
compare "Rust helper exports" '^rust_helper_' \
	"$source is not the source of the same upload as the headers"

# The overlay: what an out-of-tree Rust module build reads from KDIR. The
# marker lists what it added (after the key), so that removing the Debian
# package takes exactly that away again (debian/ip-vs-mh-rs-dkms.postrm).
# x86 generates its rustc target (scripts/target.json); arm64 names a
# built-in one.
mkdir -p "$kdir/rust"
cp "$out"/build/rust/*.rmeta "$out"/build/rust/*.so "$kdir/rust/"
target_json=
if [[ -f $out/build/scripts/target.json ]]; then
	target_json=scripts/target.json
	cp "$out/build/$target_json" "$kdir/$target_json"
fi
{
	echo "$key"
	(cd "$out/build" && ls rust/*.rmeta rust/*.so)
	[[ -z $target_json ]] || echo "$target_json"
} >"$kdir/rust/.ip-vs-mh-rs-metadata"
log "Rust metadata for $release installed into $kdir"
