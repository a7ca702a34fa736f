#!/usr/bin/env bash
# Benchmarks the Rust ip_vs_mh against the kernel's C ip_vs_mh:
#   scripts/bench.sh [OUTPUT_DIR]
# Builds the release kernel if needed, with the Rust scheduler in its tree
# (CONFIG_IP_VS_MH_RS, at the table size its Kconfig chose) and the C mh
# beside it, and the C mh at the other table size. Boots the release kernel
# four times and measures both schedulers (and rr, the baseline) in each
# guest run (bench/guest_bench.py): twice under QEMU's icount, where the
# guest's clock counts instructions (the deterministic costs, and memory),
# and twice on the emulated clock (times, and the end-to-end rates). Then
# runs the userspace core benchmark. Prints the tables; the raw results
# stay in OUTPUT_DIR (default: a directory under the cache).
# BENCH_QUICK=1 makes a short run for trying the benchmark itself.
source "$(dirname "$0")/common.sh"

out=${1:-$CACHE_DIR/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
"$PROJECT_DIR/scripts/bootstrap.sh"
kdir=$("$PROJECT_DIR/scripts/build-kernel.sh" release)

# The Rust scheduler as the release kernel's tree built it (its config
# builds it in the tree, scripts/intree.sh, beside the C ip_vs_mh module).
release=$(cat "$kdir/include/config/kernel.release")
export IPVS_MH_KO=$kdir/modroot/lib/modules/$release/kernel/net/netfilter/ipvs/mh_rs/ip_vs_mh_rs.ko
[[ -f $IPVS_MH_KO ]] || die "the release kernel has no in-tree Rust ip_vs_mh ($IPVS_MH_KO)"
export IPVS_MH_KERNEL_TAB_INDEX
IPVS_MH_KERNEL_TAB_INDEX=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$kdir/.config")
# The benchmark compares at M=4093 (index 12) and M=65521 (index 16).
for index in 12 16; do
	[[ $index == "$IPVS_MH_KERNEL_TAB_INDEX" ]] && continue
	read -r _ ko < <("$PROJECT_DIR/scripts/build-reference-mh.sh" "$kdir" "$index")
	export "IPVS_MH_REFERENCE_$index=$ko"
done
export BENCH_RESULTS=/run/job/bench-results.jsonl
[[ -n ${BENCH_QUICK:-} ]] && export BENCH_QUICK
: >"$out/results.jsonl"
# boot|clock|runs per measurement|groups
boots=(
	"1|instructions|2|memory schedule rebuild quiesce canonical bulk during"
	"2|instructions|2|memory schedule rebuild quiesce canonical bulk during"
	"3|time|5|e2e e2e-churn schedule rebuild quiesce canonical bulk during"
	"4|time|5|e2e e2e-churn schedule rebuild quiesce canonical bulk during"
)
for spec in "${boots[@]}"; do
	IFS='|' read -r boot clock reps groups <<<"$spec"
	[[ -n ${BENCH_QUICK:-} ]] && reps=1
	args=()
	[[ $clock == instructions ]] && args+=(--icount)
	log "in-kernel benchmark, boot $boot of ${#boots[@]} (clock: $clock)"
	BENCH_BOOT=$boot BENCH_CLOCK=$clock BENCH_REPS=$reps BENCH_ONLY=${BENCH_ONLY:-$groups} \
		"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" "${args[@]}" --timeout 7200 --keep "$out/guest-$boot" -- \
		python3 "$PROJECT_DIR/bench/guest_bench.py" ||
		die "the benchmark guest failed (boot $boot); its log is above"
	[[ -s $out/guest-$boot/bench-results.jsonl ]] || die "boot $boot wrote no results"
	cat "$out/guest-$boot/bench-results.jsonl" >>"$out/results.jsonl"
done

log "userspace benchmark of the hashing core"
(cd "$PROJECT_DIR/userspace-tests" && cargo run --quiet --release --bin bench) >"$out/userspace.md"

{
	echo "## In the kernel: Rust ip_vs_mh vs C ip_vs_mh"
	echo
	python3 "$PROJECT_DIR/bench/report.py" "$out/results.jsonl"
	echo
	echo "## Userspace core: Rust core vs C model"
	echo
	cat "$out/userspace.md"
} | tee "$out/report.md"
log "report and raw results in $out"
