#!/usr/bin/env bash
# A table size per service (sizes.py prints its checks and its verdict).
source "$(dirname "$0")/lib.sh"
exec python3 "$TESTS_DIR/sizes.py"
