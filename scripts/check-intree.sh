#!/usr/bin/env bash
# Checks the in-tree build path (scripts/intree.sh) on the kernel source the
# harness unpacks, at a cost of a few minutes:
#   - `intree.sh link` hooks the module into a copy of the tree, and
#     `intree.sh patch` makes a patch that applies to the clean tree;
#   - kconfig keeps CONFIG_IP_VS_MH_RS_TAB_INDEX at each of 8..17, refuses 7
#     and 18, defaults to CONFIG_IP_VS_MH_TAB_INDEX when the C scheduler is
#     configured (else 12);
#   - CONFIG_IP_VS_MH_RS=m builds the module in the tree, at the table size
#     kconfig chose (9): built in a copy of the debug kernel's build, so only
#     what the configuration change touches is rebuilt.
# Copies the in-tree module into OUT_DIR and prints its path; the debug
# guest loads it to see the table size it reports.
#   scripts/check-intree.sh DEBUG_KDIR OUT_DIR
# The work tree in the cache is one per machine: concurrent runs take turns
# (a lock), and each gets its own copy of the module.
source "$(dirname "$0")/common.sh"

kdir=$1
out=${2:?usage: check-intree.sh DEBUG_KDIR OUT_DIR}
src=$(readlink -f "$kdir/source")
work=$CACHE_DIR/intree
mkdir -p "$work"
exec {lock}>"$work.lock"
flock "$lock"
make_args=(LLVM=-$LLVM_VERSION RUSTC="$KERNEL_RUSTC" BINDGEN=bindgen)

log "in-tree: hooking the module into a copy of $(basename "$src")"
tree=$work/tree
rm -rf "$tree"
# Hard links: intree.sh replaces the files it changes, never writes them.
cp -al "$src" "$tree"
"$PROJECT_DIR/scripts/intree.sh" link "$tree"
[[ -L $tree/net/netfilter/ipvs/mh_rs/src ]] || die "intree.sh link made no net/netfilter/ipvs/mh_rs"
grep -q 'mh_rs/Kconfig' "$tree/net/netfilter/ipvs/Kconfig" || die "IPVS's Kconfig does not source ours"
grep -q 'mh_rs/' "$tree/net/netfilter/ipvs/Makefile" || die "IPVS's Makefile does not descend into ours"
if grep -q 'mh_rs' "$src/net/netfilter/ipvs/Kconfig"; then
	die "intree.sh changed the original tree through a hard link"
fi
"$PROJECT_DIR/scripts/intree.sh" patch "$src" "$work/ip_vs_mh_rs.patch"
(cd "$src" && patch -p1 --dry-run --silent <"$work/ip_vs_mh_rs.patch") ||
	die "the patch does not apply to the clean tree"
log "in-tree: the patch ($(grep -c '^diff --git' "$work/ip_vs_mh_rs.patch") files) applies to the clean tree"

# kconfig: each value through olddefconfig, two at a time.
kconfig_result() {
	local o=$work/kconfig-$1
	mkdir -p "$o"
	cp "$kdir/.config" "$o/.config"
	printf '%s\n' "${@:2}" >>"$o/.config"
	make -s -C "$tree" O="$o" "${make_args[@]}" olddefconfig >"$o/log" 2>&1 ||
		{ cat "$o/log" >&2; return 1; }
	sed -n 's/^CONFIG_IP_VS_MH_RS_TAB_INDEX=//p' "$o/.config" >"$o/result"
}
declare -A want
tests=()
for index in 7 8 9 10 11 12 13 14 15 16 17 18; do
	tests+=("$index|CONFIG_IP_VS_MH_RS=m|CONFIG_IP_VS_MH_RS_TAB_INDEX=$index")
	case $index in 7 | 18) want[$index]="not $index" ;; *) want[$index]=$index ;; esac
done
tests+=("c14|CONFIG_IP_VS_MH=m|CONFIG_IP_VS_MH_TAB_INDEX=14|CONFIG_IP_VS_MH_RS=m|# CONFIG_IP_VS_MH_RS_TAB_INDEX is not set")
want[c14]=14
tests+=("noc|# CONFIG_IP_VS_MH is not set|CONFIG_IP_VS_MH_RS=m|# CONFIG_IP_VS_MH_RS_TAB_INDEX is not set")
want[noc]=12
for ((i = 0; i < ${#tests[@]}; i += 2)); do
	pids=()
	for t in "${tests[@]:i:2}"; do
		IFS='|' read -r -a spec <<<"$t"
		# The base config's own lines for these symbols go first.
		kconfig_result "${spec[@]}" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || die "olddefconfig failed"; done
done
for t in "${tests[@]}"; do
	name=${t%%|*}
	got=$(cat "$work/kconfig-$name/result")
	case ${want[$name]} in
	"not "*) [[ -n $got && $got != "${want[$name]#not }" ]] ||
		die "kconfig kept CONFIG_IP_VS_MH_RS_TAB_INDEX=${want[$name]#not } (out of range 8..17)" ;;
	*) [[ $got == "${want[$name]}" ]] ||
		die "kconfig case $name: CONFIG_IP_VS_MH_RS_TAB_INDEX=$got, expected ${want[$name]}" ;;
	esac
done
log "in-tree: kconfig keeps 8..17, turns 7 into $(cat "$work/kconfig-7/result") and 18 into $(cat "$work/kconfig-18/result"), defaults to the C index (14) or 12"

# The module built in the tree. The build directory must see the tree at
# the path the debug kernel was built from (its command lines name it), so
# the hooked tree is mounted there in a private mount namespace.
build=$work/build
if [[ ! -f $build/.copied-from || $(cat "$build/.copied-from") != "$(basename "$kdir")" ]]; then
	log "in-tree: copying the debug kernel's build ($(du -sh "$kdir" | cut -f1))"
	rm -rf "$build"
	cp -a "$kdir" "$build"
	basename "$kdir" >"$build/.copied-from"
fi
cp "$kdir/.config" "$build/.config"
printf 'CONFIG_IP_VS_MH_RS=m\nCONFIG_IP_VS_MH_RS_TAB_INDEX=9\n' >>"$build/.config"
log "in-tree: make modules with CONFIG_IP_VS_MH_RS=m, CONFIG_IP_VS_MH_RS_TAB_INDEX=9"
# shellcheck disable=SC2016 # expanded by the inner shell
as_root unshare --mount --propagation private -- bash -euc '
	mount --bind "$1" "$2"
	shift 2
	make -s -C "$@" olddefconfig
	make -C "$@" -j"$(nproc)" modules
' intree "$tree" "$src" "$src" O="$build" "${make_args[@]}" >"$work/build.log" 2>&1 || {
	tail -n 30 "$work/build.log" >&2
	die "the in-tree build failed; log in $work/build.log"
}
if grep -Eq '^(warning|error)(\[|:)|: warning:' "$work/build.log"; then
	grep -E -A8 '^(warning|error)(\[|:)|: warning:' "$work/build.log" >&2
	die "the in-tree build printed warnings"
fi
# The debug config builds the C ip_vs_mh as a module too: ours is renamed.
ko=$build/net/netfilter/ipvs/mh_rs/ip_vs_mh_rs.ko
[[ -f $ko ]] || die "the in-tree build made no $ko"
grep -qx 'pub(crate) const TAB_INDEX: u32 = 9;' "$build/net/netfilter/ipvs/mh_rs/src/build_config_generated.rs" ||
	die "kconfig's table size did not reach the in-tree build"
mkdir -p "$out"
cp "$ko" "$out/"
log "in-tree: built $ko"
echo "$out/$(basename "$ko")"
