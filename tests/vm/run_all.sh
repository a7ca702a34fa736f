#!/usr/bin/env bash
# Runs every guest scenario in order; the first failure fails the run, but
# each scenario still cleans up after itself. Prints each scenario's time.
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
status=0
times=()
for scenario in "$@"; do
	printf '\n######## %s\n' "$scenario"
	t0=$SECONDS
	if ! bash "$dir/$scenario.sh"; then
		echo "######## FAILED: $scenario"
		status=1
	fi
	# Leave a clean guest for the next scenario.
	source "$dir/lib.sh"
	set +e
	teardown_topology >/dev/null 2>&1
	reset_ipvs
	times+=("$(printf '%-12s %4ds' "$scenario" $((SECONDS - t0)))")
done
printf '\n######## guest time per scenario\n'
printf '%s\n' "${times[@]}"
exit "$status"
