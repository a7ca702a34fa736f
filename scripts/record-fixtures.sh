#!/usr/bin/env bash
# Records golden fixtures from Debian's own C ip_vs_mh on Debian's kernel in
# the test VM (its signed module at its table size, copies rebuilt from the
# same upload's source at the others): the exactness scenario writes six of
# its configurations, those with three answers or more, into
# userspace-tests/fixtures/, where the userspace tests check them against
# the core and the C model.
source "$(dirname "$0")/common.sh"
stock=$("$PROJECT_DIR/scripts/debian-kernel.sh")
ko=$("$PROJECT_DIR/scripts/build-module.sh" --out "$(mktemp -d)" "$stock")
index=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$stock/root$(cat "$stock/headers")/.config")
export IPVS_MH_KERNEL_TAB_INDEX=$index TEST_RECORD_FIXTURES=/run/job/out TEST_EXACTNESS_INDICES="8 $index 16"
built=$("$PROJECT_DIR/scripts/build-reference-mh.sh" "$stock" 8 16) || die "the C ip_vs_mh copies did not build"
while read -r i path; do
	export "IPVS_MH_REFERENCE_$i=$path"
done <<<"$built"
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
IPVS_MH_KO=$ko "$PROJECT_DIR/scripts/run-vm.sh" --kernel "$stock" --module "$ko" --timeout 3000 --keep "$keep" -- \
	"$PROJECT_DIR/tests/vm/run_all.sh" exactness
compgen -G "$keep/out/*.mhfx" >/dev/null || die "the guest wrote no fixtures"
rm -f "$PROJECT_DIR"/userspace-tests/fixtures/vm-c-mh-*.mhfx
cp "$keep"/out/*.mhfx "$PROJECT_DIR/userspace-tests/fixtures/"
log "recorded $(ls "$keep"/out/*.mhfx | wc -l) fixtures into userspace-tests/fixtures/"
