#!/usr/bin/env bash
# Benchmarks the Rust ip_vs_mh against the kernel's C ip_vs_mh:
#   scripts/bench.sh [OUTPUT_DIR]
# Builds the release kernel if needed, with the Rust scheduler in its tree
# (CONFIG_IP_VS_MH_RS, at the table size its Kconfig chose) and the C mh
# beside it, and the C mh at the other table size; boots the release kernel
# once and measures both
# schedulers in that guest run (bench/guest_bench.py); then runs the userspace
# core benchmark. Prints both tables; the raw results stay in OUTPUT_DIR
# (default: a directory under the cache).
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
[[ -n ${BENCH_QUICK:-} ]] && export BENCH_QUICK BENCH_REPS=${BENCH_REPS:-1}
[[ -n ${BENCH_REPS:-} ]] && export BENCH_REPS

log "in-kernel benchmark in the release guest"
"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" --timeout 3600 --keep "$out/guest" -- \
	python3 "$PROJECT_DIR/bench/guest_bench.py"
[[ -s $out/guest/bench-results.jsonl ]] || die "the guest wrote no results"

log "userspace benchmark of the hashing core"
(cd "$PROJECT_DIR/userspace-tests" && cargo run --quiet --release --bin bench) >"$out/userspace.md"

{
	echo "## In the kernel: Rust ip_vs_mh vs C ip_vs_mh"
	echo
	python3 "$PROJECT_DIR/bench/report.py" "$out/guest/bench-results.jsonl"
	echo
	echo "## Userspace core: Rust core vs C model"
	echo
	cat "$out/userspace.md"
} | tee "$out/report.md"
log "report and raw results in $out"
