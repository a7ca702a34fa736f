#!/usr/bin/env bash
# Builds (or reuses) a test kernel: scripts/build-kernel.sh debug|release
# Prints the build directory (also the KDIR for out-of-tree modules) on stdout.
# The build is cached, keyed by the config fragments, the source version and
# the toolchain, so it is rebuilt only when one of them changes.
source "$(dirname "$0")/common.sh"

variant=${1:-debug}
[[ -f $PROJECT_DIR/kernel-config/$variant.config ]] ||
	die "unknown kernel variant '$variant' (have: $(cd "$PROJECT_DIR/kernel-config" && ls | grep -v base | sed 's/\.config//' | tr '\n' ' '))"

"$PROJECT_DIR/scripts/bootstrap.sh"
src=$("$PROJECT_DIR/scripts/kernel-source.sh")
# A variant that builds the Rust scheduler in the tree (CONFIG_IP_VS_MH_RS)
# builds from a copy of the source with the module linked in
# (scripts/intree.sh); the copy's path stays, so a later build only redoes
# what changed.
intree=
if grep -q '^CONFIG_IP_VS_MH_RS=' "$PROJECT_DIR/kernel-config/$variant.config"; then
	intree=$CACHE_DIR/intree/tree-$(basename "$src")
	if [[ ! -d $intree ]]; then
		cp -al "$src" "$intree.tmp"
		mv "$intree.tmp" "$intree"
	fi
	"$PROJECT_DIR/scripts/intree.sh" link "$intree"
	src=$intree
fi

# KASAN together with Rust needs clang; the release kernel uses GCC like the
# distributions do.
case $variant in
debug) cc_args=(LLVM=-$LLVM_VERSION) ;;
*) cc_args=() ;;
esac
make_args=(-C "$src" RUSTC="$KERNEL_RUSTC" BINDGEN=bindgen "${cc_args[@]}")

fragments=("$PROJECT_DIR/kernel-config/base.config" "$PROJECT_DIR/kernel-config/$variant.config")
key=$({
	cat "${fragments[@]}"
	[[ -z $intree ]] || cat "$PROJECT_DIR/Kconfig"
	basename "$src"
	"$KERNEL_RUSTC" --version
	bindgen --version
	gcc --version | head -n1
	clang-$LLVM_VERSION --version | head -n1
	echo "${make_args[@]:2}"
} | sha256sum | cut -c1-16)
out=$CACHE_DIR/build/$variant-$key

if [[ -f $out/.built ]]; then
	if [[ -n $intree ]]; then
		# The module in the tree follows the checkout: rebuild what changed.
		log "reusing the $variant kernel in $out; rebuilding its in-tree modules"
		make "${make_args[@]}" O="$out" -j"$(nproc)" modules >"$out/modules.log" 2>&1 || {
			tail -n 40 "$out/modules.log" >&2
			die "rebuilding the in-tree modules failed; full log in $out/modules.log"
		}
		make "${make_args[@]}" O="$out" INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
	else
		log "reusing the $variant kernel in $out"
	fi
	echo "$out"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
log "building the $variant kernel in $out (about 7-10 minutes on 2 cores)"
make "${make_args[@]}" O="$out" rustavailable >&2 ||
	die "the kernel does not accept this Rust toolchain (see above); run scripts/bootstrap.sh"
make "${make_args[@]}" O="$out" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${fragments[@]}" >/dev/null
make "${make_args[@]}" O="$out" olddefconfig >/dev/null

# Every option the fragments ask for must have survived olddefconfig; as
# in merge_config.sh, a later fragment's value of an option wins.
missing=()
while IFS= read -r line; do
	[[ $line =~ ^(CONFIG_[A-Z0-9_]+)=(.*)$ ]] || continue
	grep -qxF "$line" "$out/.config" || missing+=("$line (got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$out/.config" || echo unset))")
done < <(cat "${fragments[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | tac | awk -F= '!seen[$1]++')
if ((${#missing[@]})); then
	printf '  %s\n' "${missing[@]}" >&2
	die "the $variant config could not enable the options above (a dependency is missing)"
fi

jobs=$(nproc)
make "${make_args[@]}" O="$out" -j"$jobs" bzImage modules >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	die "kernel build failed; full log in $out/build.log"
}
make "${make_args[@]}" O="$out" INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
touch "$out/.built"
log "built the $variant kernel: $out/arch/x86/boot/bzImage"
echo "$out"
