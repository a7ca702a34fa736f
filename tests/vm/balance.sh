#!/usr/bin/env bash
# Balance by weight, minimal disruption on removal (balance.py, which prints
# its checks and its verdict).
source "$(dirname "$0")/lib.sh"
reset_ipvs
exec python3 "$TESTS_DIR/balance.py"
