#!/usr/bin/env bash
# The runner's own detectors, each made to fire once on purpose: a guest
# that hangs after its job said it passed, a guest whose kernel log cannot
# be saved, a kernel report, and kmemleak turned off at run time. Each must
# fail scripts/run-vm.sh with its own message; a detector that stays quiet
# fails this test.
#
#   tests/harness/self-test.sh STOCK_KERNEL DEBUG_KERNEL
source "$(dirname "$0")/../../scripts/common.sh"

stock=${1:?usage: self-test.sh STOCK_KERNEL DEBUG_KERNEL}
debug=${2:?usage: self-test.sh STOCK_KERNEL DEBUG_KERNEL}
failed=0

# expect_failure KERNEL TIMEOUT MESSAGE JOB: the run fails and says MESSAGE.
expect_failure() {
	local kernel=$1 timeout=$2 message=$3 job=$4 out status=0
	# One host thread: it boots beside the scenarios' guests.
	out=$("$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kernel" --one-thread --timeout "$timeout" -- \
		bash -c "$job" 2>&1) || status=$?
	if ((status == 0)); then
		log "self-test: FAIL '$job' passed; the runner should have said '$message'"
		failed=$((failed + 1))
	elif ! grep -q -- "$message" <<<"$out"; then
		log "self-test: FAIL '$job' failed without '$message':"
		grep '^error' <<<"$out" >&2 || true
		failed=$((failed + 1))
	else
		log "self-test: ok, '$message'"
	fi
}

# The job reports success, then the guest hangs before its last checks
# (120 s: it boots beside the scenarios' guests).
expect_failure "$stock" 120 "the guest hung and was killed" \
	'echo 0 >/run/job/rc; sleep 3600'
# The guest's log goes nowhere: its reports could not be read.
expect_failure "$stock" 300 "the guest saved no kernel log" \
	'touch /run/job/dmesg && mount --bind /dev/null /run/job/dmesg'
# A kernel report while the job passes.
expect_failure "$stock" 300 "kernel report in the guest's log" \
	'echo "WARNING: CPU: 0 PID: 1 at injected by tests/harness/self-test.sh" >/dev/kmsg'
# kmemleak off at run time on the kernel that has it.
expect_failure "$debug" 600 "no kmemleak result from a kernel with kmemleak: kmemleak: disabled at run time" \
	'echo off >/sys/kernel/debug/kmemleak'

((failed == 0)) || die "$failed of the runner's detectors did not fire"
log "self-test: every detector of the runner fired"
