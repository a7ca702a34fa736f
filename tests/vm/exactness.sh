#!/usr/bin/env bash
# The Rust and the C mh choose the same real server for every flow
# (exactness.py, which prints its checks and its verdict).
source "$(dirname "$0")/lib.sh"
reset_ipvs
exec python3 "$TESTS_DIR/exactness.py"
