#!/usr/bin/env bash
# Shows that the suite's checks can fail: builds mutants of the module, each
# with one deliberate defect the suite claims to catch, runs the scenario
# that should catch it, and expects that scenario to fail.
#
#   scripts/mutants.sh [NAME...]     (default: every mutant below)
#
# Needs what scripts/test-all.sh builds first (the debug kernel, Debian's
# kernel and its C modules at every size, mh-tool and the C model's
# fixture-oracle). Prints one line per mutant: caught or NOT CAUGHT, and
# fails if any was not caught. Not part of the test command (about 30
# minutes); its last results are in the closing notes of the issues that
# asked for these checks.
source "$(dirname "$0")/common.sh"

# Each mutant: its name, kernel, the scenario that must catch it, the file
# it changes, and the text it replaces (from) with its defect (to).
mutants=(
	"overload-ignored stock exactness src/ipvs/dest.rs"
	"shift-capped stock exactness src/maglev/weights.rs"
	"last-slot-empty stock sequences src/maglev/populate.rs"
	"never-keeps stock observe src/mh/table.rs"
	"weight-ignored debug concurrency src/maglev/lookup.rs"
	"unbind-leaks debug faults src/ipvs/registration.rs"
)
declare -A from to
from[overload-ignored]='flags & bindings::IP_VS_DEST_F_OVERLOAD != 0'
to[overload-ignored]='flags & bindings::IP_VS_DEST_F_OVERLOAD != 0 && self.port() == 1'
from[shift-capped]='rshift: fls(ratio).saturating_sub(size.bits()),'
to[shift-capped]='rshift: fls(ratio.min(0xffff)).saturating_sub(size.bits()),'
from[last-slot-empty]='                if filled == m {'
to[last-slot-empty]='                if filled == m.wrapping_sub(1) {'
from[never-keeps]='svc.num_dests() != dests.len() {'
to[never-keeps]='svc.num_dests() != dests.len() || self.builds > 0 {'
from[weight-ignored]='    weight > 0 && !overloaded'
to[weight-ignored]='    weight >= 0 && !overloaded'
from[unbind-leaks]='        if let Some(old) = slot.replace(None) {'
to[unbind-leaks]='        if let Some(old) = slot.replace(None).filter(|_| false) {'
# A reference module missing: sequences must fail rather than compare less.
missing_reference="missing-reference stock sequences"

stock=$("$PROJECT_DIR/scripts/debian-kernel.sh")
debug=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
stock_index=$(sed -n 's/^CONFIG_IP_VS_MH_TAB_INDEX=//p' "$stock/root$(cat "$stock/headers")/.config")
built=$("$PROJECT_DIR/scripts/build-reference-mh.sh" "$stock" 8 9 10 11 12 13 14 15 16 17) ||
	die "the C ip_vs_mh at every size must build first"
references=()
while read -r index ko; do
	[[ $index == "$stock_index" ]] || references+=("IPVS_MH_REFERENCE_$index=$ko")
done <<<"$built"
work=$(mktemp -d "${TMPDIR:-/tmp}/ipvs-mh-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT

# run_scenario NAME KERNEL SCENARIO KO [ENV...]: 0 when the scenario passed.
run_scenario() {
	local name=$1 kind=$2 scenario=$3 ko=$4 target cpus=2
	shift 4
	target=$stock
	[[ $kind == debug ]] && target=$debug
	[[ $scenario == concurrency ]] && cpus=4
	env IPVS_MH_KO="$ko" IPVS_MH_KERNEL_TAB_INDEX="$stock_index" TEST_EXACTNESS_INDICES="8 $stock_index 16" "$@" \
		"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$target" --module "$ko" --cpus "$cpus" --timeout 3000 -- \
		"$PROJECT_DIR/tests/vm/run_all.sh" "$scenario" >"$work/$name.log" 2>&1
}

want=("$@")
selected() { ((${#want[@]} == 0)) || [[ " ${want[*]} " == *" $1 "* ]]; }
missed=0
for spec in "${mutants[@]}"; do
	read -r name kind scenario file <<<"$spec"
	text=${from[$name]} replacement=${to[$name]}
	selected "$name" || continue
	# A copy of the project with the defect: build-module.sh builds from
	# the sources beside it.
	dir=$work/$name
	mkdir -p "$dir"
	rsync -a --exclude=.git --exclude=target "$PROJECT_DIR/" "$dir/project/"
	python3 - "$dir/project/$file" "$text" "$replacement" <<-'PY' || die "$name: the text to mutate is not in $file"
		import sys
		path, old, new = sys.argv[1:]
		s = open(path).read()
		if s.count(old) != 1:
		    sys.exit(1)
		open(path, "w").write(s.replace(old, new))
	PY
	target=$stock
	[[ $kind == debug ]] && target=$debug
	if ! ko=$("$dir/project/scripts/build-module.sh" --out "$dir/build" "$target" 2>"$work/$name.build"); then
		tail -n 20 "$work/$name.build" >&2
		die "$name: the mutant does not build"
	fi
	# The module must carry the defect: its source does, and the checkout's does not.
	grep -qF -- "$replacement" "$dir/build/$file" || die "$name: the built sources lack the mutation"
	if run_scenario "$name" "$kind" "$scenario" "$ko" "${references[@]}"; then
		log "mutant $name: NOT CAUGHT by $scenario"
		missed=$((missed + 1))
	else
		log "mutant $name: caught by $scenario: $(grep -m1 -E '\| FAIL |^error: ' "$work/$name.log" | sed 's/^ *| //')"
	fi
done
read -r name kind scenario <<<"$missing_reference"
if selected "$name"; then
	# Every size's reference but index 9's.
	partial=()
	for r in "${references[@]}"; do [[ $r == IPVS_MH_REFERENCE_9=* ]] || partial+=("$r"); done
	ko=$("$PROJECT_DIR/scripts/build-module.sh" --out "$work/$name" "$stock" 2>/dev/null)
	if run_scenario "$name" "$kind" "$scenario" "$ko" "${partial[@]}"; then
		log "mutant $name: NOT CAUGHT by $scenario"
		missed=$((missed + 1))
	else
		log "mutant $name: caught by $scenario: $(grep -m1 -E '\| FAIL |^error: ' "$work/$name.log" | sed 's/^ *| //')"
	fi
fi
((missed == 0)) || die "$missed mutant(s) went unnoticed"
log "every mutant was caught"
