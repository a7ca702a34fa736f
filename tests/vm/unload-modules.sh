#!/usr/bin/env bash
# Unloads each module named, in order, once nothing uses it any more. A
# network namespace being dismantled keeps IPVS (and the scheduler bound to
# its services) in use until the kernel's cleanup work has run, which takes
# seconds under emulation: wait for that, up to 60 s per module, polling.
# Modules that are not loaded are skipped. The one place the scenarios
# (bash and Python) retry rmmod.
set -uo pipefail
# Whether module $1 is loaded, read without a child process: the scenarios
# call this script between every two runs, and each process started costs
# tens of milliseconds in the emulated guest.
loaded() {
	local name
	while read -r name _; do
		[[ $name == "$1" ]] && return 0
	done </proc/modules
	return 1
}
for mod in "$@"; do
	for ((i = 0; i < 600; i++)); do
		loaded "$mod" || continue 2
		rmmod "$mod" 2>/dev/null && continue 2
		sleep 0.1
	done
	echo "cannot unload $mod: still in use after 60 s (refcnt $(cat "/sys/module/$mod/refcnt" 2>/dev/null))" >&2
	exit 1
done
