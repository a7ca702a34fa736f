#!/usr/bin/env bash
# Allocation failures, failed scheduler edits, more servers than slots,
# extreme weights (faults.py, which prints its checks and its verdict).
source "$(dirname "$0")/lib.sh"
reset_ipvs
exec python3 "$TESTS_DIR/faults.py"
