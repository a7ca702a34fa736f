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
log "scenarios in the test guest"
"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" --timeout 3000 -- \
	"$PROJECT_DIR/tests/vm/run_all.sh" ${TEST_SCENARIOS:-smoke_c_mh module exactness balance lifecycle faults observe failover}
log "all tests passed in $((SECONDS - start))s"
