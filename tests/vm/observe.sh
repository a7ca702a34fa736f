#!/usr/bin/env bash
# Issue 7: the debugfs table view and mh-tool agree with the kernel.
source "$(dirname "$0")/lib.sh"
reset_ipvs
check "table view and operator tool" python3 "$TESTS_DIR/observe.py"
finish
