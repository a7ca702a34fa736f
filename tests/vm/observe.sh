#!/usr/bin/env bash
# The debugfs table view, its counters, and mh-tool agree with the kernel
# (observe.py, which prints its checks and its verdict).
source "$(dirname "$0")/lib.sh"
reset_ipvs
exec python3 "$TESTS_DIR/observe.py"
