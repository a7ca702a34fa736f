#!/usr/bin/env bash
# Benchmarks the Rust ip_vs_mh against the kernel's C ip_vs_mh:
#   scripts/bench.sh [OUTPUT_DIR]
# Builds the release kernel if needed, with the Rust scheduler in its tree
# (CONFIG_IP_VS_MH_RS, at the table size its Kconfig chose) and the C mh
# beside it, and the C mh at the other table size. Boots the release kernel
# four times and measures both schedulers (and rr, the baseline) in each
# guest run (bench/guest_bench.py): twice under QEMU's icount, side by
# side, where the guest's clock counts instructions (the deterministic
# costs, and memory), and twice on the emulated clock, one at a time
# (times, and the end-to-end rates). Then
# runs the userspace core benchmark. Writes BENCHMARKS.md from this run
# (the guest's raw results go to bench/results/); the boots' logs stay in
# OUTPUT_DIR (default: a directory under the cache).
# BENCH_QUICK=1 makes a short run for trying the benchmark itself.
# BENCH_ONLY="GROUP..." (of bench/guest_bench.py) runs those groups only, in
# the boots that measure them, and writes their tables to OUTPUT_DIR's
# kernel.md, not BENCHMARKS.md, which only a whole run writes.
# BENCH_CLOCKS="instructions" (or "time") runs only the boots on that clock,
# with BENCH_ONLY.
source "$(dirname "$0")/common.sh"

out=${1:-$CACHE_DIR/bench/$(date +%Y%m%d-%H%M%S)}
# The sources measured, as the run starts (BENCHMARKS.md names them).
commit=$(git -C "$PROJECT_DIR" rev-parse --short HEAD)
git -C "$PROJECT_DIR" diff --quiet HEAD || commit+=" with uncommitted changes"
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
# The benchmark compares at M=4093 (index 12) and M=65521 (index 16), and
# the memory of a service at every size (memory-sizes).
for index in 8 9 10 11 12 13 14 15 16 17; do
	[[ $index == "$IPVS_MH_KERNEL_TAB_INDEX" ]] && continue
	read -r _ ko < <("$PROJECT_DIR/scripts/build-reference-mh.sh" "$kdir" "$index")
	export "IPVS_MH_REFERENCE_$index=$ko"
done
export BENCH_RESULTS=/run/job/bench-results.jsonl
[[ -n ${BENCH_QUICK:-} ]] && export BENCH_QUICK
: >"$out/results.jsonl"
# boot|clock|runs per measurement|groups
boots=(
	"1|instructions|2|memory memory-sizes schedule rebuild quiesce canonical bulk during"
	"2|instructions|2|memory memory-sizes schedule rebuild quiesce canonical bulk during"
	"3|time|5|e2e e2e-churn schedule rebuild quiesce canonical bulk during"
	"4|time|5|e2e e2e-churn schedule rebuild quiesce canonical bulk during"
)
only=${BENCH_ONLY:-}
[[ -z ${BENCH_CLOCKS:-} || -n $only ]] || die "BENCH_CLOCKS needs BENCH_ONLY: a whole run has every boot"

# A boot's results, appended to the run's.
collect_boot() {
	[[ -s $out/guest-$1/bench-results.jsonl ]] || die "boot $1 wrote no results"
	cat "$out/guest-$1/bench-results.jsonl" >>"$out/results.jsonl"
}

# Waits for the boots in the background, in the order they end: the first
# to fail stops the run at once (the EXIT trap below stops the others).
wait_icount_boots() {
	local done_pid status boot finished=()
	while ((${#icount_running[@]})); do
		status=0
		wait -n -p done_pid "${!icount_running[@]}" || status=$?
		boot=${icount_running[$done_pid]}
		unset "icount_running[$done_pid]"
		if ((status)); then
			tail -n 60 "$out/boot-$boot.log" >&2
			die "the benchmark guest failed (boot $boot); the end of its log is above, all of it in $out/boot-$boot.log"
		fi
		log "boot $boot finished"
		finished+=("$boot")
	done
	# The results in boot order, whichever ended first.
	for boot in $(printf '%s\n' "${finished[@]}" | sort -n); do
		collect_boot "$boot"
	done
}

# One boot of the guest benchmark; its results go to OUTPUT_DIR/guest-BOOT.
# It becomes run-vm.sh (exec: call it in a subshell), so that its PID is the
# one to stop, and run-vm.sh stops its QEMU.
run_boot() {
	local boot=$1 clock=$2 reps=$3 groups=$4 args=()
	[[ $clock == instructions ]] && args+=(--icount)
	BENCH_BOOT=$boot BENCH_CLOCK=$clock BENCH_REPS=$reps BENCH_ONLY=$groups \
		exec "$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" "${args[@]}" --timeout 7200 --keep "$out/guest-$boot" -- \
		python3 "$PROJECT_DIR/bench/guest_bench.py"
}

# The icount boots run side by side: under icount QEMU runs a guest's vCPUs
# on one host thread, and their counts do not depend on the host's load.
# The emulated-clock boots measure time, so each runs alone, after them.
# The boots running in the background: PID -> boot. A run that fails or is
# stopped stops them.
declare -A icount_running=()
trap '((${#icount_running[@]})) && kill "${!icount_running[@]}" 2>/dev/null; true' EXIT
for spec in "${boots[@]}"; do
	IFS='|' read -r boot clock reps groups <<<"$spec"
	[[ -z ${BENCH_CLOCKS:-} || " $BENCH_CLOCKS " == *" $clock "* ]] || continue
	if [[ -n $only ]]; then
		groups=$(comm -12 <(tr ' ' '\n' <<<"$groups" | sort) <(tr ' ' '\n' <<<"$only" | sort) | paste -sd ' ')
		[[ -n $groups ]] || continue
	fi
	[[ -n ${BENCH_QUICK:-} ]] && reps=1
	if [[ $clock == instructions ]]; then
		log "in-kernel benchmark, boot $boot of ${#boots[@]} (clock: $clock), in the background: log $out/boot-$boot.log"
		run_boot "$boot" "$clock" "$reps" "$groups" >"$out/boot-$boot.log" 2>&1 &
		icount_running[$!]=$boot
		continue
	fi
	wait_icount_boots
	log "in-kernel benchmark, boot $boot of ${#boots[@]} (clock: $clock)"
	(run_boot "$boot" "$clock" "$reps" "$groups") ||
		die "the benchmark guest failed (boot $boot); its log is above"
	collect_boot "$boot"
done
wait_icount_boots

if [[ -n $only ]]; then
	# shellcheck disable=SC2086 # a list of groups
	python3 "$PROJECT_DIR/bench/report.py" "$out/results.jsonl" --only $only >"$out/kernel.md" ||
		die "the report found missing or failed measurements (see $out/kernel.md)"
	log "BENCH_ONLY=$only: tables in $out/kernel.md (BENCHMARKS.md left as it was)"
	exit 0
fi

log "userspace benchmark of the hashing core"
(cd "$PROJECT_DIR/userspace-tests" && cargo run --quiet --release --bin bench) >"$out/userspace.md"

# BENCHMARKS.md is this run's: the tables from its raw results (kept under
# bench/results/ so that bench/report.py prints them again), then the method.
day=$(date +%Y-%m-%d)
cp "$out/results.jsonl" "$PROJECT_DIR/bench/results/$day-guest.jsonl"
python3 "$PROJECT_DIR/bench/report.py" "$out/results.jsonl" >"$out/kernel.md" ||
	die "the report found missing or failed measurements (see $out/kernel.md)"
{
	echo "# Benchmarks"
	echo
	echo "Generated by \`./scripts/bench.sh\` on $day from one run of all four boots, the sources of commit $commit: $(nproc) host cores"
	echo "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(qemu-system-x86_64 --version | head -n 1)."
	echo "The guest's raw results are \`bench/results/$day-guest.jsonl\`;"
	echo "\`python3 bench/report.py bench/results/$day-guest.jsonl\` prints the kernel tables again."
	echo "How each row is measured, and what it includes: [Method](#method)."
	echo
	echo "## In the kernel: Rust ip_vs_mh vs C ip_vs_mh"
	echo
	cat "$out/kernel.md"
	echo
	echo "## Userspace core: Rust core vs C model"
	echo
	cat "$out/userspace.md"
	echo
	cat "$PROJECT_DIR/bench/method.md"
} >"$PROJECT_DIR/BENCHMARKS.md"
cp "$PROJECT_DIR/BENCHMARKS.md" "$out/report.md"
log "BENCHMARKS.md written; raw results in $out"
