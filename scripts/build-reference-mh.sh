#!/usr/bin/env bash
# Builds the kernel's own C ip_vs_mh, unchanged but for its table size (and,
# with --name, its module name), as out-of-tree modules:
#   scripts/build-reference-mh.sh [--name NAME] TARGET INDEX...
# TARGET is a test kernel's build directory or a Debian kernel target of
# scripts/debian-kernel.sh (built in its root, from that upload's
# source). Prints one line per index: "INDEX PATH-TO-NAME.ko". The exactness
# tests compare with these at sizes the kernel was not configured with; a
# copy under another name registers the C "mh" while the Rust ip_vs_mh
# loads, so that its refused registration can be tested. Nothing of the
# kernel's code enters the git tree: the copies live in the cache.
source "$(dirname "$0")/common.sh"

name=ip_vs_mh
if [[ ${1:-} == --name ]]; then
	name=$2
	shift 2
fi
target=$1
shift
[[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad module name '$name'"
if [[ -f $target/headers ]]; then
	kdir=$(cat "$target/headers")
	c_source=$target/ip_vs_mh.c
	run=("$PROJECT_DIR/scripts/in-root.sh" "$target/root" --bind "$CACHE_DIR/reference-mh" --)
else
	kdir=$target
	c_source=$(readlink -f "$kdir/source")/net/netfilter/ipvs/ip_vs_mh.c
	run=()
fi
[[ -f $c_source ]] || die "no ip_vs_mh.c for $target"
llvm=()
[[ -z ${run[*]} ]] && grep -q '^CONFIG_CC_IS_CLANG=y' "$kdir/.config" && llvm=(LLVM=-$LLVM_VERSION)
mkdir -p "$CACHE_DIR/reference-mh"
for index in "$@"; do
	[[ $index =~ ^([89]|1[0-7])$ ]] || die "table index $index is out of range (8..17)"
	out=$CACHE_DIR/reference-mh/$(basename "$target")/$name-index-$index
	if [[ ! -f $out/$name.ko ]]; then
		rm -rf "$out"
		mkdir -p "$out"
		# Rename the Kconfig symbol so the kernel's autoconf.h cannot
		# override the size this copy is built with.
		sed 's/CONFIG_IP_VS_MH_TAB_INDEX/REFERENCE_MH_TAB_INDEX/g' "$c_source" >"$out/$name.c"
		printf 'obj-m := %s.o\nccflags-y := -DREFERENCE_MH_TAB_INDEX=%s\n' "$name" "$index" >"$out/Kbuild"
		"${run[@]}" make -s -C "$kdir" M="$out" "${llvm[@]}" modules >&2 ||
			die "building the reference C $name with index $index failed"
	fi
	echo "$index $out/$name.ko"
done
