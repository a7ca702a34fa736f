#!/usr/bin/env bash
# Runs every test of the project (the README's test command; CI runs it):
# the hashing core under std, the module build with the kernel's lints, and
# the end-to-end scenarios in a QEMU guest on the debug kernel.
source "$(dirname "$0")/common.sh"
start=$SECONDS

"$PROJECT_DIR/scripts/bootstrap.sh"
log "userspace tests of the hashing core"
"$PROJECT_DIR/userspace-tests/run.sh"
kdir=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
"$PROJECT_DIR/scripts/check-install.sh" "$kdir"
"$PROJECT_DIR/scripts/build-module.sh" "$kdir"
# The exactness scenario compares with the kernel's own C mh at its table
# size, and with copies of it rebuilt from the same source at other sizes.
export IPVS_MH_KERNEL_TAB_INDEX
IPVS_MH_KERNEL_TAB_INDEX=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$kdir/.config")
while read -r index ko; do
	export "IPVS_MH_REFERENCE_$index=$ko"
done < <("$PROJECT_DIR/scripts/build-reference-mh.sh" "$kdir" 8 12 16)
# The guest kernel runs on one vCPU under TCG, so two guests side by side
# use the machine's two cores. Each group is one guest; the groups are
# balanced by their measured guest time. TEST_SCENARIOS runs the scenarios
# named there in one guest instead.
groups=("smoke_c_mh exactness module faults" "balance lifecycle observe failover")
[[ -n ${TEST_SCENARIOS:-} ]] && groups=("$TEST_SCENARIOS")
log "scenarios in ${#groups[@]} test guest(s): $(printf '[%s] ' "${groups[@]}")"
pids=()
for i in "${!groups[@]}"; do
	(
		# shellcheck disable=SC2086 # a group is a list of scenario names
		"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" --timeout 3000 -- \
			"$PROJECT_DIR/tests/vm/run_all.sh" ${groups[$i]} 2>&1 | sed -u "s/^/[vm$((i + 1))] /"
	) &
	pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { log "guest vm$((i + 1)) failed: ${groups[$i]}"; failed=1; }
done
((failed == 0)) || die "scenarios failed (see the [vmN] lines above)"
log "all tests passed in $((SECONDS - start))s"
