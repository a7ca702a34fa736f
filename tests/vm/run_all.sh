#!/usr/bin/env bash
# Runs every guest scenario in order; the first failure fails the run, but
# each scenario still cleans up after itself.
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
status=0
for scenario in "$@"; do
	printf '\n######## %s\n' "$scenario"
	if ! bash "$dir/$scenario.sh"; then
		echo "######## FAILED: $scenario"
		status=1
	fi
	# Leave a clean guest for the next scenario.
	source "$dir/lib.sh"
	set +e
	teardown_topology >/dev/null 2>&1
	reset_ipvs
done
exit "$status"
