#!/usr/bin/env bash
# Scenario 8: allocation failures, more servers than slots, extreme weights.
source "$(dirname "$0")/lib.sh"
reset_ipvs
check "faults and bad input" python3 "$TESTS_DIR/faults.py"
finish
