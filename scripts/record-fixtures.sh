#!/usr/bin/env bash
# Records golden fixtures from the kernel's own C ip_vs_mh in the test VM
# (the exactness scenario writes a sample of its configurations) into
# userspace-tests/fixtures/, where the userspace tests check them.
source "$(dirname "$0")/common.sh"
kdir=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
"$PROJECT_DIR/scripts/build-module.sh" "$kdir"
export IPVS_MH_KERNEL_TAB_INDEX TEST_RECORD_FIXTURES=/run/job/out
IPVS_MH_KERNEL_TAB_INDEX=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$kdir/.config")
while read -r index ko; do
	export "IPVS_MH_REFERENCE_$index=$ko"
done < <("$PROJECT_DIR/scripts/build-reference-mh.sh" "$kdir" 8 12 16)
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" --timeout 3000 --keep "$keep" -- \
	"$PROJECT_DIR/tests/vm/run_all.sh" exactness
compgen -G "$keep/out/*.mhfx" >/dev/null || die "the guest wrote no fixtures"
rm -f "$PROJECT_DIR"/userspace-tests/fixtures/vm-c-mh-*.mhfx
cp "$keep"/out/*.mhfx "$PROJECT_DIR/userspace-tests/fixtures/"
log "recorded $(ls "$keep"/out/*.mhfx | wc -l) fixtures into userspace-tests/fixtures/"
