#!/usr/bin/env bash
# Unloads each module named, in order, once nothing uses it any more. A
# network namespace being dismantled keeps IPVS (and the scheduler bound to
# its services) in use until the kernel's cleanup work has run, which takes
# seconds under emulation: wait for that, up to 60 s per module, polling.
# Modules that are not loaded are skipped. The one place the scenarios
# (bash and Python) retry rmmod.
source "$(dirname "$0")/lib.sh"
# lib.sh stops a scenario at a failed command; here a failed rmmod is retried.
set +e
for mod in "$@"; do
	for ((i = 0; i < 600; i++)); do
		module_loaded "$mod" || continue 2
		rmmod "$mod" 2>/dev/null && continue 2
		sleep 0.1
	done
	echo "cannot unload $mod: still in use after 60 s (refcnt $(cat "/sys/module/$mod/refcnt" 2>/dev/null))" >&2
	exit 1
done
