#!/usr/bin/env bash
# Scenario 1: the Rust and the C mh choose the same real server for every flow.
source "$(dirname "$0")/lib.sh"
reset_ipvs
check "every flow of every configuration goes to the same server" python3 "$TESTS_DIR/exactness.py"
finish
