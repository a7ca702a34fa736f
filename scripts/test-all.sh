#!/usr/bin/env bash
# Runs every test of the project (the README's test command; CI runs it):
# the hashing core under std, the module build with the kernel's lints, and
# the end-to-end scenarios in a QEMU guest on the debug kernel.
source "$(dirname "$0")/common.sh"
start=$SECONDS

"$PROJECT_DIR/scripts/bootstrap.sh"
log "userspace tests of the hashing core"
"$PROJECT_DIR/userspace-tests/run.sh"
kdir=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
"$PROJECT_DIR/scripts/build-module.sh" "$kdir"
log "scenarios in the test guest"
"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" --timeout 2400 -- \
	"$PROJECT_DIR/tests/vm/run_all.sh" smoke_c_mh module
log "all tests passed in $((SECONDS - start))s"
