#!/usr/bin/env bash
# Scenarios 2 and 3: balance by weight, minimal disruption on removal.
source "$(dirname "$0")/lib.sh"
reset_ipvs
check "balance and disruption" python3 "$TESTS_DIR/balance.py"
finish
