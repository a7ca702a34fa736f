#!/usr/bin/env bash
# Builds the kernel's own C ip_vs_mh, unchanged but for its table size, as
# out-of-tree modules for the table indices the exactness tests compare at:
#   scripts/build-reference-mh.sh KDIR INDEX...
# Prints one line per index: "INDEX PATH-TO-ip_vs_mh.ko". The in-tree build
# of the test kernel covers its own CONFIG_IP_VS_MH_TAB_INDEX; these cover
# the others. Nothing of the kernel's code enters the git tree: the copies
# live in the cache.
source "$(dirname "$0")/common.sh"

kdir=$1
shift
src=$(readlink -f "$kdir/source")
llvm=()
grep -q '^CONFIG_CC_IS_CLANG=y' "$kdir/.config" && llvm=(LLVM=-$LLVM_VERSION)
for index in "$@"; do
	[[ $index =~ ^([89]|1[0-7])$ ]] || die "table index $index is out of range (8..17)"
	out=$CACHE_DIR/reference-mh/$(basename "$kdir")/index-$index
	if [[ ! -f $out/ip_vs_mh.ko ]]; then
		mkdir -p "$out"
		# Rename the Kconfig symbol so the kernel's autoconf.h cannot
		# override the size this copy is built with.
		sed 's/CONFIG_IP_VS_MH_TAB_INDEX/REFERENCE_MH_TAB_INDEX/g' \
			"$src/net/netfilter/ipvs/ip_vs_mh.c" >"$out/ip_vs_mh.c"
		printf 'obj-m := ip_vs_mh.o\nccflags-y := -DREFERENCE_MH_TAB_INDEX=%s\n' "$index" >"$out/Kbuild"
		make -s -C "$kdir" M="$out" "${llvm[@]}" modules >&2 ||
			die "building the reference C ip_vs_mh with index $index failed"
	fi
	echo "$index $out/ip_vs_mh.ko"
done
