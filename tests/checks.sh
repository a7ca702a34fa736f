# shellcheck shell=bash
# The checks every test script prints, one line each, and its verdict:
# sourced by the guest scenarios (tests/vm/lib.sh) and the operator's
# install test (tests/debian/operator-install.sh).

failures=0
step() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail() {
	printf 'FAIL %s\n' "$*"
	failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# refuse DESCRIPTION COMMAND...: passes when COMMAND fails.
refuse() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then fail "$what (was accepted)"; else pass "$what"; fi
}
finish() {
	if ((failures)); then
		printf '\n%d check(s) failed in %s\n' "$failures" "$(basename "$0")"
		exit 1
	fi
	printf '\nall checks passed in %s\n' "$(basename "$0")"
}
