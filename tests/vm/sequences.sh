#!/usr/bin/env bash
# Random sequences of changes against C, the C model and the core
# (sequences.py, which prints its checks and its verdict).
source "$(dirname "$0")/lib.sh"
reset_ipvs
exec python3 "$TESTS_DIR/sequences.py"
