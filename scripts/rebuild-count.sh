#!/usr/bin/env bash
# Instructions of one table rebuild of the Rust core in userspace, counted
# by callgrind: a quick look at a change of src/maglev/ before a guest run
# of the benchmark's rebuild row (scripts/bench.sh) measures it.
#   scripts/rebuild-count.sh [INDEX N WEIGHT]   (default: 12 10 2)
# The servers and the weight edit are the benchmark's (see
# userspace-tests/src/bin/rebuild-count.rs); the count is the difference
# between 11 rebuilds and 1, divided by 10, so the build before them and
# the program's start do not count. Needs valgrind (Debian: valgrind).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

index=${1:-12} n=${2:-10} weight=${3:-2}
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
(cd "$PROJECT_DIR/userspace-tests" && cargo build --quiet --profile kernel-opt --bin rebuild-count)
bin=$PROJECT_DIR/userspace-tests/target/kernel-opt/rebuild-count
count() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$index" "$n" "$weight" "$1" 2>&1 |
		awk '/Collected :/ { print $4 }'
}
one=$(count 1)
eleven=$(count 11)
[[ -n $one && -n $eleven ]] || die "callgrind printed no count"
echo "index $index, N=$n, last server's weight $weight: $(((eleven - one) / 10)) instructions per rebuild"
