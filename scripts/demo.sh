#!/usr/bin/env bash
# The main job: builds a test kernel and the module, boots the kernel under
# QEMU and shows `ipvsadm -s mh` balancing real traffic with the Rust module.
source "$(dirname "$0")/common.sh"
"$PROJECT_DIR/scripts/bootstrap.sh"
kdir=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
"$PROJECT_DIR/scripts/build-module.sh" "$kdir"
"$PROJECT_DIR/scripts/run-vm.sh" --kernel "$kdir" --timeout 900 -- "$PROJECT_DIR/tests/vm/demo.sh"
