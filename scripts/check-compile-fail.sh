#!/usr/bin/env bash
# Checks that the misuses the adapter's types rule out do not compile.
#
#   scripts/check-compile-fail.sh [TARGET]
#
# Each tests/compile-fail/*.rs is a probe: a module added to a copy of the
# sources (in src/ipvs/, or where its "// place:" line says) whose build
# must fail with the error codes or lint its "// expect:" line names, and
# with no other error. The same copy without a probe must build cleanly
# first, so that a probe fails for its own reason. TARGET as for
# scripts/build-module.sh (default: the debug kernel).
source "$(dirname "$0")/common.sh"

target=${1:-$("$PROJECT_DIR/scripts/build-kernel.sh" debug)}
# This run's own copy: concurrent runs must not build in each other's.
work=$(mktemp -d "${TMPDIR:-/tmp}/ipvs-mh-compile-fail.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$PROJECT_DIR/scripts/build-module.sh" --out "$work" "$target" >/dev/null ||
	die "the sources without a probe do not build: no probe can be judged"

failed=0
for probe in "$PROJECT_DIR"/tests/compile-fail/*.rs; do
	name=$(basename "$probe" .rs)
	expect=$(sed -n 's,^// expect: ,,p' "$probe")
	place=$(sed -n 's,^// place: ,,p' "$probe")
	place=${place:-src/ipvs}
	[[ -n $expect ]] || die "$probe has no '// expect:' line"
	rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='*_generated.rs' \
		"$PROJECT_DIR/src/" "$work/src/"
	cp "$probe" "$work/$place/compile_fail_probe.rs"
	printf '\nmod compile_fail_probe;\n' >>"$work/$place/mod.rs"
	status=0
	make -C "$work" KDIR="$target" clippy >"$work/probe.log" 2>&1 || status=$?
	# Every expected code or lint appears, and no other error code.
	seen=1
	for what in $expect; do grep -q -- "$what" "$work/probe.log" || seen=0; done
	others=$(grep -oE '^error\[E[0-9]+\]' "$work/probe.log" | grep -vE "\[(${expect// /|})\]" || true)
	if ((seen)) && [[ -z $others ]] &&
		{ ((status != 0)) || grep -q '^warning' "$work/probe.log"; }; then
		log "compile-fail: $name is refused ($expect)"
	else
		log "compile-fail: $name was not refused with $expect alone; the build said:"
		grep -E '^(error|warning)' "$work/probe.log" | head -n 20 >&2 || true
		failed=$((failed + 1))
	fi
done
((failed == 0)) || die "$failed misuse probe(s) compiled or failed for another reason"
log "compile-fail: every misuse probe is refused by the compiler"
