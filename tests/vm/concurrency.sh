#!/usr/bin/env bash
# The module under concurrency (4 vCPUs) (concurrency.py, which prints its
# checks and its verdict).
source "$(dirname "$0")/lib.sh"
reset_ipvs
exec python3 "$TESTS_DIR/concurrency.py"
