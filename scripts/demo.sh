#!/usr/bin/env bash
# The main job: the Rust module built for Debian's own signed kernel (no
# kernel is built: Debian's kernel packages are downloaded and the Rust
# metadata its headers lack is rebuilt and proven to match), that kernel
# booted under QEMU with the module installed as `make install` puts it, and
# `ipvsadm -s mh` balancing real TCP traffic with it.
#   DEMO_KERNEL=debug scripts/demo.sh   the same on the project's debug test
#                                       kernel (built from source, ~7-21 min)
source "$(dirname "$0")/common.sh"
"$PROJECT_DIR/scripts/bootstrap.sh"
case ${DEMO_KERNEL:-debian} in
debian)
	target=$("$PROJECT_DIR/scripts/debian-kernel.sh")
	ko=$("$PROJECT_DIR/scripts/build-module.sh" --out "$target/module" "$target")
	;;
debug)
	target=$("$PROJECT_DIR/scripts/build-kernel.sh" debug)
	ko=$("$PROJECT_DIR/scripts/build-module.sh" "$target")
	;;
*) die "DEMO_KERNEL=$DEMO_KERNEL: use debian (default) or debug" ;;
esac
IPVS_MH_KO=$ko "$PROJECT_DIR/scripts/run-vm.sh" --kernel "$target" --module "$ko" --timeout 900 -- \
	"$PROJECT_DIR/tests/vm/demo.sh"
